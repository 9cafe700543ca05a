use crate::harness::{Backend, TestServer, assert_error};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) const EM: &str = "/v1.0/identityGovernance/entitlementManagement";

pub(crate) async fn created(s: &TestServer, path: &str, body: Value) -> String {
    let r = s.post(path, body.clone()).await;
    assert_eq!(r.status, 201, "POST {path} {body}: {}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn delegated(s: &TestServer, user: &str) -> String {
    s.delegated_token(
        user,
        &[consulate_core::access::Scope::EntitlementManagementReadWriteAll],
    )
    .await
}

/// A catalog holding a new group; returns (catalog, group, the group's Member role).
pub(crate) async fn group_in_catalog(
    s: &TestServer,
    catalog: &str,
    group: &str,
    nickname: &str,
) -> (String, String, String) {
    let cat = created(
        s,
        &format!("{EM}/catalogs"),
        json!({"displayName": catalog}),
    )
    .await;
    let group = created(
        s,
        "/v1.0/groups",
        json!({"displayName": group, "mailNickname": nickname}),
    )
    .await;
    created(s, &format!("{EM}/resourceRequests"), json!({"requestType": "adminAdd", "resource": {"originId": group, "originSystem": "AadGroup"}, "catalog": {"id": cat}})).await;
    let role = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resourceRoles?$filter=displayName eq 'Member'"
        ))
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (cat, group, role)
}

/// A package (`package`, as created) granting `role`, with one policy (`policy`, without its
/// access package); returns the package's id.
pub(crate) async fn package_and_policy(
    s: &TestServer,
    package: Value,
    role: &str,
    mut policy: Value,
) -> String {
    let pkg = created(s, &format!("{EM}/accessPackages"), package).await;
    created(
        s,
        &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
        json!({"role": {"id": role}}),
    )
    .await;
    policy["accessPackage"] = json!({"id": pkg});
    created(s, &format!("{EM}/assignmentPolicies"), policy).await;
    pkg
}

/// A package granting membership of `group`, with one policy for all members.
pub(crate) async fn package(
    s: &TestServer,
    cat: &str,
    member_role: &str,
    name: &str,
    approval: bool,
) -> (String, String) {
    let pkg = created(
        s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": name, "catalog": {"id": cat}}),
    )
    .await;
    created(
        s,
        &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
        json!({"role": {"id": member_role}}),
    )
    .await;
    let approval = if approval {
        let admin = s
            .get("/v1.0/users?$filter=userPrincipalName eq 'admin@consulate.example'")
            .await
            .body["value"][0]["id"]
            .clone();
        json!({"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": admin}]}]})
    } else {
        json!({"isApprovalRequiredForAdd": false, "isRequestorJustificationRequired": true, "stages": []})
    };
    let policy = created(
        s,
        &format!("{EM}/assignmentPolicies"),
        json!({"displayName": format!("{name} for members"), "allowedTargetScope": "allMemberUsers",
               "expiration": {"type": "afterDuration", "duration": "P30D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfRemoveAccess": true},
               "requestApprovalSettings": approval, "accessPackage": {"id": pkg}}),
    )
    .await;
    (pkg, policy)
}

pub(crate) async fn wait_for(s: &TestServer, path: &str, state: &str) -> Value {
    for _ in 0..100 {
        let r = s.get(path).await;
        if r.body["state"] == state {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never became {state}: {}", s.get(path).await.text);
}

pub(crate) async fn members(s: &TestServer, group: &str) -> Vec<String> {
    let mut v: Vec<String> = s.get(&format!("/v1.0/groups/{group}/members")).await.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userPrincipalName"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

async fn request_to_removal(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (cat, group, role) = group_in_catalog(&s, "Projects", "Project X", "px").await;
    let (p1, policy1) = package(&s, &cat, &role, "Project X access", false).await;
    let (p2, policy2) = package(&s, &cat, &role, "Project X again", false).await;
    let (p3, _) = package(&s, &cat, &role, "Project X approved", true).await;
    let mia = s.create_user("Mia", "mia@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let noah = s.create_user("Noah", "noah@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mia_token = delegated(&s, "mia@consulate.example").await;
    let as_mia = |m: Method, p: String, b: Option<Value>, key: Option<&'static str>| {
        let (s, t) = (&s, mia_token.clone());
        async move {
            let mut r = s.http.request(m, format!("{}{p}", s.base)).bearer_auth(t);
            if let Some(k) = key {
                r = r.header("Idempotency-Key", k);
            }
            if let Some(b) = b {
                r = r.json(&b);
            }
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                text,
            )
        }
    };
    let ask = |pkg: &str, justification: Option<&str>| {
        let mut b = json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}});
        if let Some(j) = justification {
            b["justification"] = json!(j);
        }
        b
    };

    // A justification is required by the policy.
    let (status, body, _) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(ask(&p1, None)),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // Auto-approved: delivered by the worker, the group membership granted.
    let (status, first, text) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(ask(&p1, Some("project work"))),
        Some("k-1"),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(first["requestType"], "userAdd");
    let request1 = first["id"].as_str().unwrap().to_owned();
    let delivered = wait_for(
        &s,
        &format!("{EM}/assignmentRequests/{request1}"),
        "delivered",
    )
    .await;
    assert_eq!(delivered["status"], "Delivered");
    let a1 = delivered["assignment"]["id"].as_str().unwrap().to_owned();
    let a = wait_for(&s, &format!("{EM}/assignments/{a1}"), "delivered").await;
    assert_eq!(a["assignmentPolicy"]["id"], policy1.as_str());
    assert!(
        a["schedule"]["expiration"]["endDateTime"].is_string(),
        "{a}"
    );
    assert_eq!(members(&s, &group).await, vec!["mia@consulate.example"]);
    // A retry with the same key and body answers the same request; another body is refused.
    let (status, again, _) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(ask(&p1, Some("project work"))),
        Some("k-1"),
    )
    .await;
    assert_eq!(
        (status, again["id"].as_str()),
        (201, Some(request1.as_str()))
    );
    let (status, _, _) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(ask(&p1, Some("other"))),
        Some("k-1"),
    )
    .await;
    assert_eq!(status, 422);
    // Holding it already is a conflict.
    let (status, _, text) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(ask(&p1, Some("again"))),
        None,
    )
    .await;
    assert_eq!(status, 409, "{text}");
    // So is an administrator's second assignment of it, and nothing of it is kept.
    let before = s
        .get(&format!("{EM}/assignmentRequests?$count=true"))
        .await
        .body["@odata.count"]
        .clone();
    let r = s
        .post(&format!("{EM}/assignmentRequests"), json!({"requestType": "adminAdd", "assignment": {"targetId": mia, "assignmentPolicyId": policy1, "accessPackageId": p1}}))
        .await;
    assert_error(&r, 409, "conflict");
    assert!(
        r.text.contains("already has this access package"),
        "{}",
        r.text
    );
    assert_eq!(
        s.get(&format!("{EM}/assignmentRequests?$count=true"))
            .await
            .body["@odata.count"],
        before
    );

    // Needing approval: recorded as pending, nothing granted.
    let (status, pending, text) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(ask(&p3, None)),
        None,
    )
    .await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(pending["state"], "pendingApproval");
    assert!(pending["assignment"].is_null());

    // The same membership through a second package, and an administrator's assignment.
    let (status, _, text) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(ask(&p2, Some("more"))),
        None,
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let r = s
        .post(&format!("{EM}/assignmentRequests"), json!({"requestType": "adminAdd", "assignment": {"targetId": noah, "assignmentPolicyId": policy2, "accessPackageId": p2}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    assert_eq!(
        members(&s, &group).await,
        vec!["mia@consulate.example", "noah@consulate.example"]
    );

    // Mia removes the first package: the membership stays, the second package still grants it.
    let (status, removal, text) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(json!({"requestType": "userRemove", "assignment": {"id": a1}})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{text}");
    wait_for(
        &s,
        &format!(
            "{EM}/assignmentRequests/{}",
            removal["id"].as_str().unwrap()
        ),
        "delivered",
    )
    .await;
    assert_eq!(
        s.get(&format!("{EM}/assignments/{a1}")).await.body["state"],
        "expired"
    );
    assert_eq!(
        members(&s, &group).await,
        vec!["mia@consulate.example", "noah@consulate.example"]
    );
    // Her own lists.
    let (_, mine, _) = as_mia(
        Method::GET,
        format!("{EM}/assignments/filterByCurrentUser(on='target')"),
        None,
        None,
    )
    .await;
    let states: Vec<&str> = mine["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.len(), 2, "{mine}");
    assert!(
        states.contains(&"expired")
            && states
                .iter()
                .any(|s| *s == "delivered" || *s == "delivering"),
        "{states:?}"
    );
    let (_, reqs, _) = as_mia(
        Method::GET,
        format!("{EM}/assignmentRequests/filterByCurrentUser(on='target')"),
        None,
        None,
    )
    .await;
    assert_eq!(reqs["value"].as_array().unwrap().len(), 4, "{reqs}");
    // Mia cannot remove Noah's assignment, nor see every request.
    let noah_assignment = s.get(&format!("{EM}/assignments")).await.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["target"]["objectId"] == noah.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, _) = as_mia(
        Method::POST,
        format!("{EM}/assignmentRequests"),
        Some(json!({"requestType": "userRemove", "assignment": {"id": noah_assignment}})),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = as_mia(Method::GET, format!("{EM}/assignmentRequests"), None, None).await;
    assert_eq!(status, 403);

    // The administrator removes Noah's: his membership goes, Mia's (second package) stays.
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminRemove", "assignment": {"id": noah_assignment}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    assert_eq!(members(&s, &group).await, vec!["mia@consulate.example"]);
    // A package with assignments cannot go, and says so.
    let r = s.delete(&format!("{EM}/accessPackages/{p2}")).await;
    assert_error(&r, 409, "conflict");
    assert!(r.text.contains("1 assignment"), "{}", r.text);
    // Every delivery and removal is audited; the chain holds.
    let audit = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Deliver access package assignment'").await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        3,
        "{}",
        audit.text
    );
    // Lists filter and page: one delivered assignment left, Noah's expired; requests a page
    // at a time, oldest first, each page linking the next until all are seen.
    let live = s
        .get(&format!(
            "{EM}/assignments?$filter=state eq 'delivered'&$count=true"
        ))
        .await;
    assert_eq!(live.status, 200, "{}", live.text);
    assert_eq!(live.body["@odata.count"], 1, "{}", live.text);
    assert_eq!(live.body["value"][0]["target"]["objectId"], mia.as_str());
    let noah_only = s
        .get(&format!(
            "{EM}/assignments?$filter=target/objectId eq '{noah}'"
        ))
        .await;
    assert_eq!(
        noah_only.body["value"][0]["state"], "expired",
        "{}",
        noah_only.text
    );
    let all = s
        .get(&format!("{EM}/assignmentRequests?$count=true"))
        .await
        .body;
    let total = all["@odata.count"].as_i64().unwrap() as usize;
    let (mut seen, mut next) = (
        Vec::new(),
        Some(format!("{EM}/assignmentRequests?$top=2&$select=id,state")),
    );
    while let Some(page) = next {
        let r = s.get(page.trim_start_matches(&s.base)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for v in r.body["value"].as_array().unwrap() {
            assert!(
                v.get("justification").is_none(),
                "$select keeps id and state: {v}"
            );
            seen.push(v["id"].as_str().unwrap().to_owned());
        }
        next = r.body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), total);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "oldest first");
    let removals = s.get(&format!("{EM}/assignmentRequests?$filter=requestType eq 'adminRemove' and accessPackage/id eq '{p2}'")).await;
    assert_eq!(
        removals.body["value"].as_array().unwrap().len(),
        1,
        "{}",
        removals.text
    );
    let r = s
        .post(
            &format!("{EM}/assignments/{noah_assignment}/reprocess"),
            json!({}),
        )
        .await;
    assert_eq!(
        r.status, 409,
        "an expired assignment is not reprocessed: {}",
        r.text
    );
    for bad in [
        "$filter=colour eq 'red'",
        "$orderby=createdDateTime",
        "$search=noah",
    ] {
        let r = s.get(&format!("{EM}/assignmentRequests?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_to_removal_sqlite() {
    request_to_removal(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_to_removal_postgres() {
    request_to_removal(Backend::Postgres).await;
}

async fn expiry(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (cat, group, role) = group_in_catalog(&s, "Short", "Brief", "brief").await;
    let (pkg, policy) = package(&s, &cat, &role, "Brief access", false).await;
    let ola = s.create_user("Ola", "ola@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An administrator assigns it for two seconds.
    let end = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd", "assignment": {"targetId": ola, "assignmentPolicyId": policy, "accessPackageId": pkg},
                   "schedule": {"expiration": {"type": "afterDateTime", "endDateTime": end.to_string()}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let a = wait_for(
        &s,
        &format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    let assignment = a["assignment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(members(&s, &group).await, vec!["ola@consulate.example"]);
    // Pia's access would start in three seconds; canceled before then, it is never delivered.
    let pia = s.create_user("Pia", "pia@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd", "assignment": {"targetId": pia, "assignmentPolicyId": policy, "accessPackageId": pkg},
                   "schedule": {"startDateTime": start.to_string()}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "scheduled", "{}", r.text);
    let pia_request = format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap());
    assert_eq!(
        s.post(&format!("{pia_request}/cancel"), json!({}))
            .await
            .status,
        200
    );
    // Quinn's is canceled and then deleted before its start: the worker skips it too.
    let quinn = s
        .create_user("Quinn", "quinn@consulate.example", false)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd", "assignment": {"targetId": quinn, "assignmentPolicyId": policy, "accessPackageId": pkg},
                   "schedule": {"startDateTime": start.to_string()}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let quinn_request = format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap());
    assert_eq!(
        s.post(&format!("{quinn_request}/cancel"), json!({}))
            .await
            .status,
        200
    );
    assert_eq!(s.delete(&quinn_request).await.status, 204);
    // The sweep ends it exactly once and takes the membership back.
    let mut ended = Value::Null;
    for _ in 0..100 {
        ended = s.get(&format!("{EM}/assignments/{assignment}")).await.body;
        if ended["state"] == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ended["state"], "expired", "{ended}");
    for _ in 0..100 {
        if members(&s, &group).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(members(&s, &group).await.is_empty());
    let canceled = s.get(&pia_request).await.body;
    assert_eq!(canceled["state"], "canceled", "{canceled}");
    // The worker reaches the canceled starts on its next poll and skips each, once.
    let mut skipped = Value::Null;
    for _ in 0..100 {
        skipped = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Skip access package delivery'").await.body;
        if skipped["value"].as_array().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(skipped["value"].as_array().unwrap().len(), 2, "{skipped}");
    assert!(
        skipped.to_string().contains("the request was deleted"),
        "{skipped}"
    );
    assert_eq!(s.get(&quinn_request).await.status, 404);
    assert!(
        !members(&s, &group)
            .await
            .contains(&"pia@consulate.example".to_owned())
    );
    let pia_assignment = canceled["assignment"]["id"].as_str().unwrap_or_default();
    let a = s
        .get(&format!("{EM}/assignments/{pia_assignment}"))
        .await
        .body;
    assert_ne!(a["state"], "delivered", "{a}");
    let audit = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Expire access package assignment'").await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );
    let preview = s.get("/admin/v1/lifecycle/preview").await;
    assert_eq!(
        preview.body["expire"].as_array().unwrap().len(),
        0,
        "{}",
        preview.text
    );

    // Settings: Entra's defaults, changed and audited; bad values refused.
    let r = s.get(&format!("{EM}/settings")).await;
    assert_eq!(
        r.body["externalUserLifecycleAction"],
        "blockSignInAndDelete"
    );
    assert_eq!(
        r.body["durationUntilExternalUserDeletedAfterBlocked"],
        "P30D"
    );
    assert_eq!(
        s.patch(&format!("{EM}/settings"), json!({"externalUserLifecycleAction": "blockSignIn", "durationUntilExternalUserDeletedAfterBlocked": "P10D"})).await.status,
        204
    );
    let r = s.get(&format!("{EM}/settings")).await;
    assert_eq!(
        (
            r.body["externalUserLifecycleAction"].as_str(),
            r.body["durationUntilExternalUserDeletedAfterBlocked"].as_str()
        ),
        (Some("blockSignIn"), Some("P10D"))
    );
    for body in [
        json!({"externalUserLifecycleAction": "shred"}),
        json!({"durationUntilExternalUserDeletedAfterBlocked": "P400D"}),
        json!({"mode": 1}),
    ] {
        assert_eq!(
            s.patch(&format!("{EM}/settings"), body.clone())
                .await
                .status,
            400,
            "{body}"
        );
    }
    s.stop().await;
}

/// One sweep ends several assignments at once: what they alone granted goes, what an active
/// assignment still grants stays, and each is ended, recorded and revoked exactly once.
async fn one_sweep_many_assignments(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (cat, group, role) = group_in_catalog(&s, "Sweep", "Swept", "swept").await;
    let (p1, policy1) = package(&s, &cat, &role, "Swept first", false).await;
    let (p2, policy2) = package(&s, &cat, &role, "Swept second", false).await;
    let mut users = Vec::new();
    for name in ["ana", "ben", "cai"] {
        let id = s
            .create_user(name, &format!("{name}@consulate.example"), false)
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        users.push(id);
    }
    let (ana, ben, cai) = (&users[0], &users[1], &users[2]);
    // All end at the same instant, so one sweep meets them together: Ana holds the group
    // through both packages (both end), Ben through both (only the first ends), Cai through one.
    let end = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3)).to_string();
    let ending = json!({"expiration": {"type": "afterDateTime", "endDateTime": end}});
    let mut requests = Vec::new();
    for (user, pkg, policy, schedule) in [
        (ana, &p1, &policy1, ending.clone()),
        (ana, &p2, &policy2, ending.clone()),
        (ben, &p1, &policy1, ending.clone()),
        (ben, &p2, &policy2, json!({})),
        (cai, &p1, &policy1, ending.clone()),
    ] {
        let r = s
            .post(
                &format!("{EM}/assignmentRequests"),
                json!({"requestType": "adminAdd", "assignment": {"targetId": user, "assignmentPolicyId": policy, "accessPackageId": pkg},
                       "schedule": schedule}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        requests.push(r.body["id"].as_str().unwrap().to_owned());
    }
    for r in &requests {
        wait_for(&s, &format!("{EM}/assignmentRequests/{r}"), "delivered").await;
    }
    assert_eq!(
        members(&s, &group).await,
        vec![
            "ana@consulate.example",
            "ben@consulate.example",
            "cai@consulate.example"
        ]
    );
    async fn expired(s: &TestServer) -> serde_json::Value {
        s.get(&format!(
            "{EM}/assignments?$filter=state eq 'expired'&$count=true"
        ))
        .await
        .body["@odata.count"]
            .clone()
    }
    for _ in 0..200 {
        if expired(&s).await == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(expired(&s).await, 4);
    // Ending and revoking are one transaction: the membership is gone with the last ending.
    assert_eq!(members(&s, &group).await, vec!["ben@consulate.example"]);
    let audit = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Expire access package assignment'&$top=100").await;
    let events = audit.body["value"].as_array().unwrap();
    assert_eq!(events.len(), 4, "{}", audit.text);
    // One event per ending names what it took away: the group once for Ana (her second
    // ending), once for Cai, never for Ben (his other assignment still grants it).
    let revoked: Vec<&serde_json::Value> = events
        .iter()
        .flat_map(|e| {
            e["targetResources"][0]["modifiedProperties"]
                .as_array()
                .unwrap()
        })
        .filter(|p| p["displayName"] == "revoked")
        .collect();
    assert_eq!(revoked.len(), 2, "{}", audit.text);
    let swept = s
        .get(&format!(
            "{EM}/assignments?$filter=state eq 'expired'&$top=100"
        ))
        .await;
    let holder_of = |event: &serde_json::Value| {
        let id = event["targetResources"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        swept.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id.as_str())
            .map(|a| a["target"]["objectId"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let mut revoked_for: Vec<String> = events
        .iter()
        .filter(|e| {
            e["targetResources"][0]["modifiedProperties"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["displayName"] == "revoked")
        })
        .map(holder_of)
        .collect();
    revoked_for.sort();
    let mut expected = vec![ana.clone(), cai.clone()];
    expected.sort();
    assert_eq!(revoked_for, expected);
    let revokes = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Revoke access package assignment'&$top=100").await;
    assert_eq!(
        revokes.body["value"].as_array().unwrap().len(),
        0,
        "{}",
        revokes.text
    );
    // Each ending is recorded as a completed `systemRemove` request.
    let removals = s
        .get(&format!(
            "{EM}/assignmentRequests?$filter=requestType eq 'systemRemove'&$top=100"
        ))
        .await;
    let removals = removals.body["value"].as_array().unwrap().clone();
    assert_eq!(removals.len(), 4, "{removals:?}");
    assert!(
        removals.iter().all(|r| r["state"] == "delivered"),
        "{removals:?}"
    );
    // Nothing is left for the next sweep.
    let preview = s.get("/admin/v1/lifecycle/preview").await;
    assert_eq!(preview.body["expire"].as_array().unwrap().len(), 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sweep_many_assignments_sqlite() {
    one_sweep_many_assignments(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sweep_many_assignments_postgres() {
    one_sweep_many_assignments(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_and_settings_sqlite() {
    expiry(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_and_settings_postgres() {
    expiry(Backend::Postgres).await;
}

/// A poisoned outbox row (here, a payload nobody can read) is set aside with its error and a
/// later retry; the deliveries queued beside it go through.
async fn poisoned_outbox_row(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (cat, group, role) = group_in_catalog(&s, "Ops", "Pager", "pager").await;
    let (pkg, policy) = package(&s, &cat, &role, "Pager access", false).await;
    let ola = s.create_user("Ola", "ola@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let poison = uuid::Uuid::now_v7().to_string();
    outbox_sql(&s, "INSERT INTO outbox (id, kind, payload, created_at, available_at, attempts) VALUES ($1, 'deliverAssignment', 'not json', 0, 0, 0)", &poison).await;
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd", "assignment": {"targetId": ola, "assignmentPolicyId": policy, "accessPackageId": pkg}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    wait_for(
        &s,
        &format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    assert_eq!(members(&s, &group).await, vec!["ola@consulate.example"]);
    let row = outbox_sql(&s, "SELECT CAST(attempts AS BIGINT) AS attempts, last_error, CAST(done_at AS BIGINT) AS done_at, CAST(available_at AS BIGINT) AS available_at FROM outbox WHERE id = $1", &poison).await;
    let (attempts, error, done_at, available_at) = row.expect("the poisoned row");
    assert!(attempts >= 1);
    assert!(done_at.is_none());
    assert!(available_at > 0, "retried later");
    assert!(error.contains("outbox payload"), "{error}");
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Postpone failed delivery work'")
        .await;
    assert!(
        !audit.body["value"].as_array().unwrap().is_empty(),
        "{}",
        audit.text
    );
    // Someone removes Ola from the group behind Consulate's back; reprocessing puts her back.
    let assignment = s
        .get(&format!(
            "{EM}/assignments?$filter=target/objectId eq '{ola}'"
        ))
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .delete(&format!("/v1.0/groups/{group}/members/{ola}/$ref"))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(members(&s, &group).await.is_empty());
    let reprocess = format!("{EM}/assignments/{assignment}/reprocess");
    assert_eq!(s.post(&reprocess, json!({})).await.status, 202);
    for _ in 0..100 {
        if !members(&s, &group).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(members(&s, &group).await, vec!["ola@consulate.example"]);
    let missing = uuid::Uuid::now_v7();
    assert_eq!(
        s.post(&format!("{EM}/assignments/{missing}/reprocess"), json!({}))
            .await
            .status,
        404
    );
    s.stop().await;
}

/// Runs one statement on the server's database (SQLite file or PostgreSQL schema); for a
/// SELECT, returns the first row's (attempts, last_error, done_at, available_at).
async fn outbox_sql(
    s: &TestServer,
    sql: &str,
    id: &str,
) -> Option<(i64, String, Option<i64>, i64)> {
    use sqlx::{Connection as _, Row as _};
    match &s.pg_schema {
        None => {
            let conn = rusqlite::Connection::open(&s.database).unwrap();
            conn.busy_timeout(Duration::from_secs(10)).unwrap();
            if sql.starts_with("SELECT") {
                Some(
                    conn.query_row(sql, [id], |r| {
                        Ok((
                            r.get("attempts")?,
                            r.get::<_, Option<String>>("last_error")?
                                .unwrap_or_default(),
                            r.get("done_at")?,
                            r.get("available_at")?,
                        ))
                    })
                    .unwrap(),
                )
            } else {
                conn.execute(sql, [id]).unwrap();
                None
            }
        }
        Some(schema) => {
            let mut conn = sqlx::PgConnection::connect(&s.database).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path TO {schema}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(id);
            if sql.starts_with("SELECT") {
                let r = q.fetch_one(&mut conn).await.unwrap();
                Some((
                    r.get("attempts"),
                    r.get::<Option<String>, _>("last_error").unwrap_or_default(),
                    r.get("done_at"),
                    r.get("available_at"),
                ))
            } else {
                q.execute(&mut conn).await.unwrap();
                None
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoned_outbox_row_is_set_aside_sqlite() {
    poisoned_outbox_row(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoned_outbox_row_is_set_aside_postgres() {
    poisoned_outbox_row(Backend::Postgres).await;
}
