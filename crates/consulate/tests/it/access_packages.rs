use crate::harness::{Backend, ORGS, TestServer, assert_error};
use serde_json::{Value, json};

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";
const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn created(s: &TestServer, path: &str, body: Value) -> Value {
    let r = s.post(path, body.clone()).await;
    assert_eq!(r.status, 201, "POST {path} {body}: {}", r.text);
    r.body
}

fn partner_policy(package: &str, org: &str) -> Value {
    json!({
        "displayName": "Partners from Contoso",
        "description": "Contoso consultants request for a year",
        "allowedTargetScope": "specificConnectedOrganizationUsers",
        "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
        "expiration": {"type": "afterDuration", "duration": "P365D"},
        "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfRemoveAccess": "true"},
        "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "isRequestorJustificationRequired": true, "stages": []},
        "questions": [{
            "@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion",
            "text": "Which office?", "sequence": "1", "isRequired": "true",
            "localizations": [{"languageCode": "fr-FR", "text": "Quel bureau ?"}],
            "choices": [{"actualValue": "paris", "text": "Paris"}, {"actualValue": "oslo", "text": "Oslo"}]
        }],
        "accessPackage": {"id": package}
    })
}

async fn walkthrough(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    // Catalog with a group and a directory role, as in the walkthrough.
    let cat = id(&created(
        &s,
        &format!("{EM}/catalogs"),
        json!({"displayName": "Consulting"}),
    )
    .await);
    let group = id(&created(
        &s,
        "/v1.0/groups",
        json!({"displayName": "Consultants", "mailNickname": "consultants"}),
    )
    .await);
    for (system, origin) in [
        ("AadGroup", group.as_str()),
        ("DirectoryRole", GLOBAL_READER),
    ] {
        created(
            &s,
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminAdd", "resource": {"originId": origin, "originSystem": system}, "catalog": {"id": cat}}),
        )
        .await;
    }
    let roles = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resourceRoles?$filter=originSystem eq 'DirectoryRole'"
        ))
        .await;
    let reader_role = id(&roles.body["value"][0]);

    // The access package and its roles: by origin (as Graph's example) and by role id.
    let pkg = created(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "ThatLazyAdmin Consulting Services", "description": "Least privilege", "catalog": {"id": cat}}),
    )
    .await;
    assert_eq!(pkg["isHidden"], false);
    let pkg = id(&pkg);
    let group_resource = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resources?$filter=originSystem eq 'AadGroup'"
        ))
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rs = created(
        &s,
        &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
        json!({"role": {"originId": format!("Member_{group}"), "originSystem": "AadGroup",
                        "resource": {"id": group_resource, "originId": group, "originSystem": "AadGroup"}},
               "scope": {"originId": group, "originSystem": "AadGroup"}}),
    )
    .await;
    let rs_id = id(&rs);
    assert!(rs_id.contains('_'), "{rs_id}");
    assert_eq!(rs["role"]["displayName"], "Member");
    created(
        &s,
        &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
        json!({"role": {"id": reader_role}}),
    )
    .await;
    assert_error(
        &s.post(
            &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
            json!({"role": {"id": reader_role}}),
        )
        .await,
        409,
        "conflict",
    );

    // A connected organization and the policy for it.
    let org = id(&s.create_domain_org("Contoso", "contoso.com").await);
    let policy = created(
        &s,
        &format!("{EM}/assignmentPolicies"),
        partner_policy(&pkg, &org),
    )
    .await;
    assert_eq!(
        policy["allowedTargetScope"],
        "specificConnectedOrganizationUsers"
    );
    assert_eq!(policy["expiration"]["duration"], "P365D");
    assert_eq!(
        policy["requestorSettings"]["enableTargetsToSelfRemoveAccess"],
        true
    );
    assert_eq!(
        policy["questions"][0]["@odata.type"],
        "#microsoft.graph.accessPackageMultipleChoiceQuestion"
    );
    assert_eq!(policy["questions"][0]["isRequired"], true);
    let policy_id = id(&policy);

    // The package with everything expanded, the documented way.
    let r = s
        .get(&format!(
            "{EM}/accessPackages/{pkg}?$expand=resourceRoleScopes($expand=role,scope),assignmentPolicies,catalog"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let scopes = r.body["resourceRoleScopes"].as_array().unwrap();
    assert_eq!(scopes.len(), 2);
    assert_eq!(scopes[0]["role"]["resource"]["originId"], group.as_str());
    assert_eq!(scopes[0]["scope"]["isRootScope"], true);
    assert_eq!(r.body["assignmentPolicies"][0]["id"], policy_id.as_str());
    assert_eq!(r.body["catalog"]["id"], cat.as_str());
    let r = s
        .get(&format!(
            "{EM}/accessPackages?$filter=catalog/id eq '{cat}'&$expand=assignmentPolicies"
        ))
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1, "{}", r.text);

    // PUT replaces the whole policy: now approval by the organization's internal sponsors.
    let mut replaced = partner_policy(&pkg, &org);
    replaced["requestApprovalSettings"] = json!({
        "isApprovalRequiredForAdd": true, "isRequestorJustificationRequired": true,
        "stages": [{"durationBeforeAutomaticDenial": "P14D", "primaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]}]
    });
    replaced["questions"] = json!([]);
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("{EM}/assignmentPolicies/{policy_id}"),
            Some(replaced),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["requestApprovalSettings"]["stages"][0]["primaryApprovers"][0]["@odata.type"],
        "#microsoft.graph.internalSponsors"
    );
    assert_eq!(r.body["questions"].as_array().unwrap().len(), 0);
    assert_eq!(r.body["createdDateTime"], policy["createdDateTime"]);
    let r = s
        .get(&format!(
            "{EM}/assignmentPolicies?$filter=accessPackage/id eq '{pkg}'&$expand=accessPackage"
        ))
        .await;
    assert_eq!(r.body["value"][0]["accessPackage"]["id"], pkg.as_str());

    // What refuses deletion, and says why.
    for (path, what) in [
        (format!("{EM}/catalogs/{cat}"), "access package"),
        (format!("{EM}/accessPackages/{pkg}"), "polic"),
        (format!("{ORGS}/{org}"), "Partners from Contoso"),
    ] {
        let r = s.delete(&path).await;
        assert_error(&r, 409, "conflict");
        assert!(r.text.contains(what), "{path}: {}", r.text);
    }
    let r = s
        .post(
            &format!("{EM}/resourceRequests"),
            json!({"requestType": "adminRemove", "resource": {"originId": group, "originSystem": "AadGroup"}, "catalog": {"id": cat}}),
        )
        .await;
    assert_error(&r, 409, "conflict");
    assert!(r.text.contains("ThatLazyAdmin"), "{}", r.text);

    // A catalog with external policies cannot close to external users; a closed one takes
    // no external policy.
    let r = s
        .patch(
            &format!("{EM}/catalogs/{cat}"),
            json!({"isExternallyVisible": false}),
        )
        .await;
    assert_error(&r, 409, "conflict");
    assert!(r.text.contains("Partners from Contoso"), "{}", r.text);
    let closed = id(&created(
        &s,
        &format!("{EM}/catalogs"),
        json!({"displayName": "Internal", "isExternallyVisible": false}),
    )
    .await);
    let inside = id(&created(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "Inside", "catalog": {"id": closed}}),
    )
    .await);
    let r = s
        .post(
            &format!("{EM}/assignmentPolicies"),
            partner_policy(&inside, &org),
        )
        .await;
    assert_error(&r, 400, "invalidRequest");
    assert!(r.text.contains("isExternallyVisible"), "{}", r.text);
    assert_eq!(
        s.delete(&format!("{EM}/accessPackages/{inside}"))
            .await
            .status,
        204
    );
    assert_eq!(
        s.delete(&format!("{EM}/catalogs/{closed}")).await.status,
        204
    );

    // Incompatible packages and groups.
    let other = id(&created(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "Auditors", "catalog": {"id": cat}}),
    )
    .await);
    let r = s
        .post(
            &format!("{EM}/accessPackages/{pkg}/incompatibleAccessPackages/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/identityGovernance/entitlementManagement/accessPackages/{other}")}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .post(
            &format!("{EM}/accessPackages/{pkg}/incompatibleGroups/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/groups/{group}")}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        s.get(&format!(
            "{EM}/accessPackages/{pkg}/incompatibleAccessPackages"
        ))
        .await
        .body["value"][0]["id"],
        other.as_str()
    );
    assert_eq!(
        s.get(&format!(
            "{EM}/accessPackages/{other}/accessPackagesIncompatibleWith"
        ))
        .await
        .body["value"][0]["id"],
        pkg.as_str()
    );
    assert_eq!(
        s.get(&format!("{EM}/accessPackages/{pkg}/incompatibleGroups"))
            .await
            .body["value"][0]["id"],
        group.as_str()
    );
    assert_error(
        &s.post(
            &format!("{EM}/accessPackages/{pkg}/incompatibleAccessPackages/$ref"),
            json!({"@odata.id": format!("{EM}/accessPackages/{pkg}")}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_eq!(
        s.delete(&format!(
            "{EM}/accessPackages/{pkg}/incompatibleAccessPackages/{other}/$ref"
        ))
        .await
        .status,
        204
    );
    assert!(
        s.get(&format!(
            "{EM}/accessPackages/{pkg}/incompatibleAccessPackages"
        ))
        .await
        .body["value"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Taking it apart in order works.
    assert_eq!(
        s.delete(&format!(
            "{EM}/accessPackages/{pkg}/resourceRoleScopes/{rs_id}"
        ))
        .await
        .status,
        204
    );
    assert_eq!(
        s.delete(&format!("{EM}/assignmentPolicies/{policy_id}"))
            .await
            .status,
        204
    );
    assert_eq!(s.delete(&format!("{ORGS}/{org}")).await.status, 204);
    assert_eq!(
        s.delete(&format!("{EM}/accessPackages/{pkg}")).await.status,
        204
    );
    assert_eq!(
        s.delete(&format!("{EM}/accessPackages/{other}"))
            .await
            .status,
        204
    );
    assert_eq!(s.delete(&format!("{EM}/catalogs/{cat}")).await.status, 204);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_sqlite() {
    walkthrough(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_postgres() {
    walkthrough(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_policies_are_refused_and_change_nothing() {
    let s = TestServer::sqlite().await;
    let cat = id(&created(&s, &format!("{EM}/catalogs"), json!({"displayName": "C"})).await);
    let pkg = id(&created(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "P", "catalog": {"id": cat}}),
    )
    .await);
    let org = id(&s.create_domain_org("Contoso", "contoso.com").await);
    let before = s.audit_count().await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let base = partner_policy(&pkg, &org);
    let with = |path: &[&str], v: Value| {
        let mut b = base.clone();
        let mut cur = &mut b;
        for p in &path[..path.len() - 1] {
            cur = &mut cur[*p];
        }
        cur[path[path.len() - 1]] = v;
        b
    };
    let cases = [
        with(
            &["allowedTargetScope"],
            json!("allDirectoryServicePrincipals"),
        ),
        with(&["allowedTargetScope"], json!("everyone")),
        with(&["specificAllowedTargets"], json!([])),
        with(
            &["specificAllowedTargets"],
            json!([{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": ghost}]),
        ),
        with(
            &["specificAllowedTargets"],
            json!([{"@odata.type": "#microsoft.graph.singleUser", "userId": ghost}]),
        ),
        with(
            &["specificAllowedTargets"],
            json!([{"@odata.type": "#microsoft.graph.unknownSet"}]),
        ),
        with(
            &["expiration"],
            json!({"type": "afterDuration", "duration": "P5000D"}),
        ),
        with(
            &["expiration"],
            json!({"type": "afterDuration", "duration": "one year"}),
        ),
        with(
            &["expiration"],
            json!({"type": "afterDateTime", "endDateTime": "2001-01-01T00:00:00Z"}),
        ),
        with(
            &["requestApprovalSettings"],
            json!({"isApprovalRequiredForAdd": true, "stages": []}),
        ),
        with(
            &["requestApprovalSettings"],
            json!({"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": ghost}]}]}),
        ),
        with(
            &["requestApprovalSettings"],
            json!({"isApprovalRequiredForAdd": true, "stages": [{"durationBeforeAutomaticDenial": "P30D", "primaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]}]}),
        ),
        with(
            &["questions"],
            json!([{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "Id?", "regexPattern": "(["}]),
        ),
        with(
            &["questions"],
            json!([{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "Pick", "choices": []}]),
        ),
        with(&["accessPackage"], json!({"id": ghost})),
        with(&["displayName"], json!("")),
        with(&["color"], json!("blue")),
        with(
            &["requestorSettings", "enableTargetsToSelfAddAccess"],
            json!("maybe"),
        ),
    ];
    for body in cases {
        let r = s
            .post(&format!("{EM}/assignmentPolicies"), body.clone())
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "invalidRequest", "{}", r.text);
    }
    assert_error(
        &s.post(
            &format!("{EM}/accessPackages"),
            json!({"displayName": "No catalog"}),
        )
        .await,
        400,
        "invalidRequest",
    );
    assert_error(
        &s.post(
            &format!("{EM}/accessPackages"),
            json!({"displayName": "Ghost", "catalog": {"id": ghost}}),
        )
        .await,
        404,
        "itemNotFound",
    );
    assert_error(
        &s.get(&format!("{EM}/accessPackages?$expand=owner")).await,
        400,
        "invalidRequest",
    );
    assert_eq!(s.audit_count().await, before);
    s.stop().await;
}
