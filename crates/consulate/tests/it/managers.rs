//! A user's manager and sponsors, and approval stages that name them (`requestorManager`,
//! `targetUserSponsors`), falling back when a set is empty.

use crate::harness::{Backend, TestServer, assert_error};
use crate::lifecycle::{EM, created, delegated, group_in_catalog, members, wait_for};
use reqwest::Method;
use serde_json::{Value, json};

async fn user(s: &TestServer, name: &str) -> (String, String) {
    let upn = format!("{name}@consulate.example");
    let id = s.create_user(name, &upn, false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, delegated(s, &upn).await)
}

fn reference(id: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{id}")})
}

async fn stage_of(s: &TestServer, token: &str, request: &str) -> (String, Value) {
    let r = s
        .req_with(
            Method::GET,
            &format!("{EM}/accessPackageAssignmentApprovals/{request}/stages"),
            None,
            Some(token),
        )
        .await;
    let open = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["status"] == "InProgress")
        .cloned()
        .unwrap_or_else(|| panic!("no open stage: {}", r.text));
    assert_eq!(open["assignedToMe"], true, "{}", r.text);
    (open["id"].as_str().unwrap().to_owned(), open)
}

async fn decide(s: &TestServer, token: &str, request: &str, stage: &str) -> u16 {
    s.req_with(
        Method::PATCH,
        &format!("{EM}/accessPackageAssignmentApprovals/{request}/stages/{stage}"),
        Some(json!({"reviewResult": "Approve", "justification": "known to me"})),
        Some(token),
    )
    .await
    .status
}

async fn managers_and_sponsors(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (ola, ola_t) = user(&s, "ola").await;
    let (max, max_t) = user(&s, "max").await;
    let (sue, sue_t) = user(&s, "sue").await;
    let (pia, pia_t) = user(&s, "pia").await;
    let (_, admin_t) = ((), delegated(&s, "admin@consulate.example").await);

    // The directory: Max manages Ola, Sue sponsors Ola.
    assert_eq!(
        s.get(&format!("/v1.0/users/{ola}/manager")).await.status,
        404
    );
    let r = s
        .req(
            Method::PUT,
            &format!("/v1.0/users/{ola}/manager/$ref"),
            Some(reference(&max)),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        s.get(&format!("/v1.0/users/{ola}/manager")).await.body["id"],
        max.as_str()
    );
    let r = s
        .req(
            Method::PUT,
            &format!("/v1.0/users/{ola}/manager/$ref"),
            Some(reference(&ola)),
        )
        .await;
    assert_error(&r, 400, "invalidRequest");
    let r = s
        .req(
            Method::PUT,
            &format!("/v1.0/users/{ola}/manager/$ref"),
            Some(reference(&uuid::Uuid::new_v4().to_string())),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        s.post(&format!("/v1.0/users/{ola}/sponsors/$ref"), reference(&sue))
            .await
            .status,
        204
    );
    assert_error(
        &s.post(&format!("/v1.0/users/{ola}/sponsors/$ref"), reference(&sue))
            .await,
        400,
        "invalidRequest",
    );
    let sponsors = s.get(&format!("/v1.0/users/{ola}/sponsors")).await;
    assert_eq!(
        sponsors.body["value"][0]["id"],
        sue.as_str(),
        "{}",
        sponsors.text
    );
    assert_eq!(
        s.delete(&format!("/v1.0/users/{ola}/sponsors/{max}/$ref"))
            .await
            .status,
        404
    );
    // Only administrators change them.
    let r = s
        .req_with(
            Method::PUT,
            &format!("/v1.0/users/{pia}/manager/$ref"),
            Some(reference(&max)),
            Some(&pia_t),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    // A package whose first stage is the requestor's manager and second the target's
    // sponsors, with the administrator as fallback for both.
    let (cat, group, role) = group_in_catalog(&s, "Sales", "Deals", "deals").await;
    let pkg = created(
        &s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "Deals", "catalog": {"id": cat}}),
    )
    .await;
    created(
        &s,
        &format!("{EM}/accessPackages/{pkg}/resourceRoleScopes"),
        json!({"role": {"id": role}}),
    )
    .await;
    let admin = s
        .get("/v1.0/users?$filter=userPrincipalName eq 'admin@consulate.example'")
        .await
        .body["value"][0]["id"]
        .clone();
    let fallback = json!([{"@odata.type": "#microsoft.graph.singleUser", "userId": admin}]);
    created(
        &s,
        &format!("{EM}/assignmentPolicies"),
        json!({"displayName": "Manager then sponsors", "allowedTargetScope": "allMemberUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [
                   {"durationBeforeAutomaticDenial": "P7D", "primaryApprovers": [{"@odata.type": "#microsoft.graph.requestorManager", "managerLevel": 1}], "fallbackPrimaryApprovers": fallback},
                   {"durationBeforeAutomaticDenial": "P7D", "primaryApprovers": [{"@odata.type": "#microsoft.graph.targetUserSponsors"}], "fallbackPrimaryApprovers": fallback}]},
               "accessPackage": {"id": pkg}}),
    )
    .await;
    let requests = format!("{EM}/assignmentRequests");
    let r = s
        .req_with(
            Method::POST,
            &requests,
            Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}})),
            Some(&ola_t),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let ola_request = r.body["id"].as_str().unwrap().to_owned();
    // Stage one is Max's: not Sue's, not the administrator's (fallback only when empty).
    let (stage, _) = stage_of(&s, &max_t, &ola_request).await;
    assert_eq!(decide(&s, &sue_t, &ola_request, &stage).await, 403);
    assert_eq!(decide(&s, &admin_t, &ola_request, &stage).await, 403);
    assert_eq!(decide(&s, &max_t, &ola_request, &stage).await, 204);
    // Stage two is Sue's.
    let (stage, _) = stage_of(&s, &sue_t, &ola_request).await;
    assert_eq!(decide(&s, &max_t, &ola_request, &stage).await, 403);
    assert_eq!(decide(&s, &sue_t, &ola_request, &stage).await, 204);
    wait_for(&s, &format!("{requests}/{ola_request}"), "delivered").await;
    assert_eq!(members(&s, &group).await, vec!["ola@consulate.example"]);

    // Pia has neither manager nor sponsors: both stages fall back to the administrator.
    let r = s
        .req_with(
            Method::POST,
            &requests,
            Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}})),
            Some(&pia_t),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pia_request = r.body["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (stage, _) = stage_of(&s, &admin_t, &pia_request).await;
        assert_eq!(decide(&s, &max_t, &pia_request, &stage).await, 403);
        assert_eq!(decide(&s, &admin_t, &pia_request, &stage).await, 204);
    }
    wait_for(&s, &format!("{requests}/{pia_request}"), "delivered").await;

    // Removing the manager and sponsor is audited; a removed manager answers 404.
    assert_eq!(
        s.delete(&format!("/v1.0/users/{ola}/manager/$ref"))
            .await
            .status,
        204
    );
    assert_eq!(
        s.delete(&format!("/v1.0/users/{ola}/manager/$ref"))
            .await
            .status,
        404
    );
    assert_eq!(
        s.delete(&format!("/v1.0/users/{ola}/sponsors/{sue}/$ref"))
            .await
            .status,
        204
    );
    assert_eq!(
        s.get(&format!("/v1.0/users/{ola}/sponsors")).await.body["value"],
        json!([])
    );
    for activity in [
        "Set user manager",
        "Remove user manager",
        "Add user sponsor",
        "Remove user sponsor",
    ] {
        let r = s
            .get(&format!(
                "/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq '{activity}'"
            ))
            .await;
        assert_eq!(
            r.body["value"].as_array().unwrap().len(),
            1,
            "{activity}: {}",
            r.text
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_and_sponsors_approve_sqlite() {
    managers_and_sponsors(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_and_sponsors_approve_postgres() {
    managers_and_sponsors(Backend::Postgres).await;
}
