//! Extensions (`userUpdate`, `adminUpdate`), request reprocessing and `additionalAccess`.

use crate::harness::{Backend, TestServer, assert_error};
use crate::lifecycle::{
    EM, created, delegated, group_in_catalog, members, package, package_and_policy, wait_for,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

async fn admin_id(s: &TestServer) -> Value {
    s.get("/v1.0/users?$filter=userPrincipalName eq 'admin@consulate.example'")
        .await
        .body["value"][0]["id"]
        .clone()
}

async fn as_user(
    s: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> crate::harness::Resp {
    s.req_with(method, path, body, Some(token)).await
}

async fn extensions(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (cat, group, role) = group_in_catalog(&s, "Projects", "Project X", "projectx").await;
    // Targets may extend their own access, with the administrator approving extensions.
    let pkg = created(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "Project X", "catalog": {"id": cat}}),
    )
    .await;
    created(
        &s,
        &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
        json!({"role": {"id": role}}),
    )
    .await;
    let admin = admin_id(&s).await;
    let policy = created(
        &s,
        &format!("{EM}/assignmentPolicies"),
        json!({"displayName": "Members, 30 days", "allowedTargetScope": "allMemberUsers",
               "expiration": {"type": "afterDuration", "duration": "P30D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfUpdateAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "isApprovalRequiredForUpdate": true,
                   "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": admin}]}]},
               "accessPackage": {"id": pkg}}),
    )
    .await;
    let ola = id(&s.create_user("Ola", "ola@consulate.example", false).await);
    let ola_t = delegated(&s, "ola@consulate.example").await;
    let requests = format!("{EM}/assignmentRequests");
    let r = as_user(
        &s,
        &ola_t,
        Method::POST,
        &requests,
        Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let delivered = wait_for(&s, &format!("{requests}/{}", id(&r.body)), "delivered").await;
    let assignment = delivered["assignment"]["id"].as_str().unwrap().to_owned();
    let a_path = format!("{EM}/assignments/{assignment}");
    let end0 = s.get(&a_path).await.body["schedule"]["expiration"]["endDateTime"]
        .as_str()
        .unwrap()
        .to_owned();

    // Asking for more than the policy allows is refused; so is extending someone else's.
    let r = as_user(
        &s,
        &ola_t,
        Method::POST,
        &requests,
        Some(
            json!({"requestType": "userUpdate", "assignment": {"id": assignment},
        "schedule": {"expiration": {"type": "afterDuration", "duration": "P60D"}}}),
        ),
    )
    .await;
    assert_error(&r, 400, "invalidRequest");
    s.create_user("Pia", "pia@consulate.example", false).await;
    let pia_t = delegated(&s, "pia@consulate.example").await;
    let r = as_user(
        &s,
        &pia_t,
        Method::POST,
        &requests,
        Some(json!({"requestType": "userUpdate", "assignment": {"id": assignment}})),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = as_user(
        &s,
        &ola_t,
        Method::POST,
        &requests,
        Some(json!({"requestType": "userUpdate", "assignment": {"id": uuid::Uuid::new_v4()}})),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);

    // Ola's extension waits for the administrator, who approves it: the end moves, nothing
    // is delivered again.
    let r = as_user(&s, &ola_t, Method::POST, &requests, Some(json!({"requestType": "userUpdate", "assignment": {"id": assignment}, "justification": "Phase two"}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "pendingApproval", "{}", r.text);
    assert_eq!(r.body["requestType"], "userUpdate");
    let ext = id(&r.body);
    let stages = s
        .get(&format!(
            "{EM}/accessPackageAssignmentApprovals/{ext}/stages"
        ))
        .await;
    let stage = id(&stages.body["value"][0]);
    let admin_t = delegated(&s, "admin@consulate.example").await;
    let r = as_user(
        &s,
        &admin_t,
        Method::PATCH,
        &format!("{EM}/accessPackageAssignmentApprovals/{ext}/stages/{stage}"),
        Some(json!({"reviewResult": "Approve", "justification": "ok"})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let done = s.get(&format!("{requests}/{ext}")).await.body;
    assert_eq!(done["state"], "delivered", "{done}");
    let a = s.get(&a_path).await.body;
    let end1 = a["schedule"]["expiration"]["endDateTime"]
        .as_str()
        .unwrap()
        .to_owned();
    let parse = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
    assert!(parse(&end1) > parse(&end0), "{end0} -> {end1}");
    assert_eq!(a["state"], "delivered");
    assert_eq!(members(&s, &group).await, vec!["ola@consulate.example"]);

    // An administrator's extension needs no approval, but must move the end later.
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 10)).to_string();
    let r = s
        .post(
            &requests,
            json!({"requestType": "adminUpdate", "assignment": {"id": assignment},
        "schedule": {"expiration": {"type": "afterDateTime", "endDateTime": soon}}}),
        )
        .await;
    assert_error(&r, 400, "invalidRequest");
    assert!(r.text.contains("current end"), "{}", r.text);
    let other = uuid::Uuid::new_v4();
    let r = s.post(&requests, json!({"requestType": "adminUpdate", "assignment": {"id": assignment, "assignmentPolicyId": other}})).await;
    assert_error(&r, 400, "invalidRequest");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let r = s.post(&requests, json!({"requestType": "adminUpdate", "assignment": {"id": assignment, "assignmentPolicyId": policy}})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "delivered", "{}", r.text);
    let end2 = s.get(&a_path).await.body["schedule"]["expiration"]["endDateTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(parse(&end2) > parse(&end1), "{end1} -> {end2}");
    let audit = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Request access package assignment extension'").await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        2,
        "{}",
        audit.text
    );

    // A package whose policy does not let targets extend refuses userUpdate.
    let (cat2, _, role2) = group_in_catalog(&s, "Other", "Other group", "othergroup").await;
    let (pkg2, _) = package(&s, &cat2, &role2, "No extensions", false).await;
    let r = as_user(&s, &ola_t, Method::POST, &requests, Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg2}, "justification": "needed"}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let second = wait_for(&s, &format!("{requests}/{}", id(&r.body)), "delivered").await;
    let assignment2 = second["assignment"]["id"].as_str().unwrap().to_owned();
    let r = as_user(
        &s,
        &ola_t,
        Method::POST,
        &requests,
        Some(json!({"requestType": "userUpdate", "assignment": {"id": assignment2}})),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // additionalAccess: who holds both packages.
    let pia = s
        .get("/v1.0/users?$filter=userPrincipalName eq 'pia@consulate.example'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = as_user(
        &s,
        &pia_t,
        Method::POST,
        &requests,
        Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}})),
    )
    .await;
    wait_for(&s, &format!("{requests}/{}", id(&r.body)), "delivered").await;
    let both = s.get(&format!("{EM}/assignments/additionalAccess(accessPackageId='{pkg}',incompatibleAccessPackageId='{pkg2}')?$count=true")).await;
    assert_eq!(both.status, 200, "{}", both.text);
    let ids: Vec<&str> = both.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![assignment.as_str()], "{}", both.text);
    assert_eq!(both.body["@odata.count"], 1);
    let reverse = s.get(&format!("{EM}/assignments/additionalAccess(incompatibleAccessPackageId='{pkg}',accessPackageId='{pkg2}')")).await;
    assert_eq!(
        reverse.body["value"][0]["id"],
        assignment2.as_str(),
        "{}",
        reverse.text
    );
    assert_eq!(
        reverse.body["value"][0]["target"]["objectId"]
            .as_str()
            .unwrap_or(&ola),
        ola
    );
    assert_ne!(pia, ola);
    let r = s.get(&format!("{EM}/assignments/additionalAccess(accessPackageId='{pkg}',incompatibleAccessPackageId='{pkg}')")).await;
    assert_error(&r, 400, "invalidRequest");
    let r = s
        .get(&format!(
            "{EM}/assignments/additionalAccess(accessPackageId='{pkg}')"
        ))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s.get(&format!("{EM}/assignments/additionalAccess(accessPackageId='{pkg}',incompatibleAccessPackageId='{}')", uuid::Uuid::new_v4())).await;
    assert_eq!(r.status, 404, "{}", r.text);

    // An ended assignment cannot be extended.
    let r = s
        .post(
            &requests,
            json!({"requestType": "adminRemove", "assignment": {"id": assignment2}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s
        .post(
            &requests,
            json!({"requestType": "adminUpdate", "assignment": {"id": assignment2}}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_sqlite() {
    extensions(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_postgres() {
    extensions(Backend::Postgres).await;
}

/// A request whose delivery failed (the requestor lost eligibility before its scheduled
/// start) is delivered anew once the requestor is eligible again.
async fn reprocess_request(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (cat, group, role) = group_in_catalog(&s, "Lab", "Lab access", "lab").await;
    let team = created(
        &s,
        "/v1.0/groups",
        json!({"displayName": "Lab team", "mailNickname": "labteam"}),
    )
    .await;
    let pkg = package_and_policy(&s, json!({"displayName": "Lab", "catalog": {"id": cat}}), &role, json!({"displayName": "Lab team", "allowedTargetScope": "specificDirectoryUsers",
               "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.groupMembers", "groupId": team}],
               "expiration": {"type": "afterDuration", "duration": "P7D"},
               "requestorSettings": {"enableTargetsToSelfAddAccess": true, "allowCustomAssignmentSchedule": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})).await;
    let ola = id(&s.create_user("Ola", "ola@consulate.example", false).await);
    let ola_t = delegated(&s, "ola@consulate.example").await;
    let membership = |add: bool| {
        let s = &s;
        let team = team.clone();
        let ola = ola.clone();
        async move {
            let r = if add {
                s.post(
                    &format!("/v1.0/groups/{team}/members/$ref"),
                    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{ola}")}),
                )
                .await
            } else {
                s.delete(&format!("/v1.0/groups/{team}/members/{ola}/$ref"))
                    .await
            };
            assert_eq!(r.status, 204, "{}", r.text);
        }
    };
    membership(true).await;
    let start = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2)).to_string();
    let requests = format!("{EM}/assignmentRequests");
    let r = as_user(
        &s,
        &ola_t,
        Method::POST,
        &requests,
        Some(
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg},
        "schedule": {"startDateTime": start}}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["state"], "scheduled", "{}", r.text);
    let request = format!("{requests}/{}", id(&r.body));
    // Ola leaves the team before the start: delivery finds Ola no longer eligible.
    membership(false).await;
    let failed = wait_for(&s, &request, "deliveryFailed").await;
    let first_assignment = failed["assignment"]["id"].as_str().unwrap().to_owned();
    // Only an assignment manager reprocesses; a delivered or unknown request cannot be.
    let r = as_user(
        &s,
        &ola_t,
        Method::POST,
        &format!("{request}/reprocess"),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = s
        .post(
            &format!("{requests}/{}/reprocess", uuid::Uuid::new_v4()),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Reprocessed while still not eligible, it fails again, with a new assignment.
    let r = s.post(&format!("{request}/reprocess"), json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let mut again = Value::Null;
    for _ in 0..100 {
        again = s.get(&request).await.body;
        if again["state"] == "deliveryFailed"
            && again["assignment"]["id"] != first_assignment.as_str()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(again["state"], "deliveryFailed", "{again}");
    assert_ne!(
        again["assignment"]["id"],
        first_assignment.as_str(),
        "{again}"
    );
    assert!(members(&s, &group).await.is_empty());
    // Back in the team, the request is reprocessed and delivered.
    membership(true).await;
    let r = s.post(&format!("{request}/reprocess"), json!({})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let done = wait_for(&s, &request, "delivered").await;
    let a = s
        .get(&format!(
            "{EM}/assignments/{}",
            done["assignment"]["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(a["state"], "delivered", "{a}");
    assert_eq!(members(&s, &group).await, vec!["ola@consulate.example"]);
    let r = s.post(&format!("{request}/reprocess"), json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let audit = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Reprocess access package request'").await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        2,
        "{}",
        audit.text
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reprocess_request_sqlite() {
    reprocess_request(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reprocess_request_postgres() {
    reprocess_request(Backend::Postgres).await;
}
