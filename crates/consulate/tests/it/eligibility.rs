use crate::harness::{ORGS, TestServer, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";

async fn created(s: &TestServer, path: &str, body: Value) -> String {
    let r = s.post(path, body.clone()).await;
    assert_eq!(r.status, 201, "POST {path} {body}: {}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn package_with_policy(
    s: &TestServer,
    cat: &str,
    name: &str,
    hidden: bool,
    policy: Value,
) -> (String, String) {
    let pkg = created(
        s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": name, "isHidden": hidden, "catalog": {"id": cat}}),
    )
    .await;
    let mut body = json!({
        "displayName": format!("{name} policy"),
        "expiration": {"type": "afterDuration", "duration": "P30D"},
        "requestorSettings": {"enableTargetsToSelfAddAccess": true},
        "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []},
        "accessPackage": {"id": pkg}
    });
    for (k, v) in policy.as_object().unwrap() {
        body[k] = v.clone();
    }
    let policy = created(s, &format!("{EM}/assignmentPolicies"), body).await;
    (pkg, policy)
}

async fn delegated(s: &TestServer, user: &str) -> String {
    let (code, out, err) = crate::tokens::consulate(&[
        "admin",
        "token",
        "create",
        "--database",
        &s.database,
        "--name",
        user,
        "--scopes",
        "EntitlementManagement.Read.All",
        "--as-user",
        user,
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

async fn requestable(s: &TestServer, token: &str) -> Vec<String> {
    let r = s
        .req_with(
            Method::GET,
            &format!("{EM}/accessPackages/filterByCurrentUser(on='allowedRequestor')"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["displayName"].as_str().unwrap().to_owned())
        .collect()
}

async fn requirements(s: &TestServer, token: &str, pkg: &str) -> Vec<Value> {
    let r = s
        .req_with(
            Method::POST,
            &format!("{EM}/accessPackages/{pkg}/getApplicablePolicyRequirements"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["value"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_signed_in_user_may_request() {
    let s = TestServer::sqlite().await;
    let cat = created(
        &s,
        &format!("{EM}/catalogs"),
        json!({"displayName": "Access"}),
    )
    .await;
    let group = created(
        &s,
        "/v1.0/groups",
        json!({"displayName": "Engineers", "mailNickname": "eng"}),
    )
    .await;
    let member = s.create_user("Mia", "mia@consulate.example", false).await;
    let mid = member["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s.post(
            &format!("/v1.0/groups/{group}/members/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{mid}")})
        )
        .await
        .status,
        204
    );
    let org = s.create_domain_org("Contoso", "contoso.com").await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let guest = s
        .post(
            "/v1.0/users",
            json!({"displayName": "Gus", "userPrincipalName": "gus_contoso.com#EXT#@consulate.example", "userType": "Guest",
                   "mail": "gus@contoso.com",
                   "identities": [{"signInType": "emailAddress", "issuer": "consulate.example", "issuerAssignedId": "gus@contoso.com"}]}),
        )
        .await;
    assert_eq!(guest.status, 201, "{}", guest.text);

    package_with_policy(
        &s,
        &cat,
        "Everyone inside",
        false,
        json!({"allowedTargetScope": "allMemberUsers"}),
    )
    .await;
    let (eng, _) = package_with_policy(
        &s, &cat, "Engineering tools", false,
        json!({"allowedTargetScope": "specificDirectoryUsers", "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.groupMembers", "groupId": group}]}),
    )
    .await;
    let (hidden, hidden_policy) = package_with_policy(&s, &cat, "Secret project", true, json!({"allowedTargetScope": "allMemberUsers",
        "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "isRequestorJustificationRequired": true,
            "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": mid}]}]}})).await;
    let (partners, _) = package_with_policy(
        &s,
        &cat,
        "Partner portal",
        false,
        json!({"allowedTargetScope": "allConfiguredConnectedOrganizationUsers"}),
    )
    .await;
    package_with_policy(&s, &cat, "Closed", false, json!({"allowedTargetScope": "allMemberUsers", "requestorSettings": {"enableTargetsToSelfAddAccess": false}})).await;

    let mia = delegated(&s, "mia@consulate.example").await;
    assert_eq!(
        requestable(&s, &mia).await,
        vec!["Engineering tools", "Everyone inside"]
    );
    // Hidden: not listed, yet requestable by its link.
    let req = requirements(&s, &mia, &hidden).await;
    assert_eq!(req.len(), 1);
    assert_eq!(req[0]["policyId"], hidden_policy.as_str());
    assert_eq!(req[0]["isApprovalRequiredForAdd"], true);
    assert_eq!(req[0]["isRequestorJustificationRequired"], true);
    assert_eq!(req[0]["schedule"]["expiration"]["duration"], "P30D");
    assert!(requirements(&s, &mia, &partners).await.is_empty());

    // The guest from a configured connected organization sees the partner package only.
    let gus = delegated(&s, "gus_contoso.com#EXT#@consulate.example").await;
    assert_eq!(requestable(&s, &gus).await, vec!["Partner portal"]);
    assert!(requirements(&s, &gus, &eng).await.is_empty());
    // Proposed organizations are not in "all configured connected organizations".
    assert_eq!(
        s.patch(&format!("{ORGS}/{org_id}"), json!({"state": "proposed"}))
            .await
            .status,
        202
    );
    assert!(requestable(&s, &gus).await.is_empty());
    // A catalog taken offline offers nothing; a change shows at once.
    assert_eq!(
        s.patch(
            &format!("{EM}/catalogs/{cat}"),
            json!({"state": "unpublished"})
        )
        .await
        .status,
        204
    );
    assert!(requestable(&s, &mia).await.is_empty());

    // Applications are not signed-in users.
    let r = s
        .get(&format!(
            "{EM}/accessPackages/filterByCurrentUser(on='allowedRequestor')"
        ))
        .await;
    assert_error(&r, 400, "invalidRequest");
    let r = s
        .req_with(
            Method::GET,
            &format!("{EM}/accessPackages/filterByCurrentUser(on='target')"),
            None,
            Some(&mia),
        )
        .await;
    assert_error(&r, 400, "invalidRequest");
    s.stop().await;
}
