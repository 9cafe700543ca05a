use crate::harness::{Backend, TestServer};
use crate::lifecycle::package_and_policy;
use consulate_core::access::Scope;
use serde_json::{Value, json};
use std::time::Duration;

const EM: &str = "/v1.0/identityGovernance/entitlementManagement";

async fn created(s: &TestServer, path: &str, body: Value) -> String {
    let r = s.post(path, body.clone()).await;
    assert_eq!(r.status, 201, "POST {path} {body}: {}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Sends as a user token; returns status and body.
async fn call(
    s: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let r = s.req_with(method, path, body, Some(token)).await;
    (r.status, r.body)
}

struct Setup {
    group: String,
    package: String,
    approvers_group: String,
}

/// A package granting a group, whose policy for members needs two stages: `first` approves,
/// then any member of an approvers group (with a justification).
async fn setup(s: &TestServer, first: &str) -> Setup {
    let cat = created(
        s,
        &format!("{EM}/catalogs"),
        json!({"displayName": "Finance"}),
    )
    .await;
    let group = created(
        s,
        "/v1.0/groups",
        json!({"displayName": "Ledger", "mailNickname": "ledger"}),
    )
    .await;
    let approvers_group = created(
        s,
        "/v1.0/groups",
        json!({"displayName": "Controllers", "mailNickname": "controllers"}),
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
    let package = created(
        s,
        &format!("{EM}/accessPackages"),
        json!({"displayName": "Ledger access", "catalog": {"id": cat}}),
    )
    .await;
    created(
        s,
        &format!("{EM}/accessPackages/{package}/resourceRoleScopes"),
        json!({"role": {"id": role}}),
    )
    .await;
    created(
        s,
        &format!("{EM}/assignmentPolicies"),
        json!({"displayName": "Two approvals", "allowedTargetScope": "allMemberUsers",
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [
                   {"durationBeforeAutomaticDenial": "P7D", "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": first}]},
                   {"durationBeforeAutomaticDenial": "P7D", "isApproverJustificationRequired": true,
                    "primaryApprovers": [{"@odata.type": "#microsoft.graph.groupMembers", "groupId": approvers_group}]}]},
               "accessPackage": {"id": package}}),
    )
    .await;
    Setup {
        group,
        package,
        approvers_group,
    }
}

async fn user_with_token(s: &TestServer, name: &str) -> (String, String) {
    let upn = format!("{name}@consulate.example");
    let id = s.create_user(name, &upn, false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (
        id,
        s.delegated_token(&upn, &[Scope::EntitlementManagementReadWriteAll])
            .await,
    )
}

async fn join(s: &TestServer, group: &str, user: &str) {
    let r = s
        .post(
            &format!("/v1.0/groups/{group}/members/$ref"),
            json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{user}")}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

async fn wait_state(s: &TestServer, request: &str, state: &str) {
    for _ in 0..200 {
        if s.get(&format!("{EM}/assignmentRequests/{request}"))
            .await
            .body["state"]
            == state
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "request {request} never became {state}: {}",
        s.get(&format!("{EM}/assignmentRequests/{request}"))
            .await
            .text
    );
}

async fn two_stages(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (alice, alice_t) = user_with_token(&s, "alice").await;
    let set = setup(&s, &alice).await;
    let (bob, bob_t) = user_with_token(&s, "bob").await;
    let (carol, carol_t) = user_with_token(&s, "carol").await;
    join(&s, &set.approvers_group, &bob).await;
    join(&s, &set.approvers_group, &carol).await;
    let (_, mia_t) = user_with_token(&s, "mia").await;

    let (status, r) = call(
        &s,
        &mia_t,
        reqwest::Method::POST,
        &format!("{EM}/assignmentRequests"),
        Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": set.package}})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["state"], "pendingApproval");
    let request = r["id"].as_str().unwrap().to_owned();
    let approval = format!("{EM}/accessPackageAssignmentApprovals/{request}");

    // Alice sees it waiting for her; Bob is not an approver of stage 1; Mia never decides.
    let (_, mine) = call(
        &s,
        &alice_t,
        reqwest::Method::GET,
        &format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"),
        None,
    )
    .await;
    assert_eq!(mine["value"][0]["id"], request.as_str(), "{mine}");
    let (_, a) = call(&s, &alice_t, reqwest::Method::GET, &approval, None).await;
    let stage1 = a["stages"][0]["id"].as_str().unwrap().to_owned();
    let stage2 = a["stages"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(a["stages"][0]["assignedToMe"], true);
    assert_eq!(a["stages"][1]["status"], "NotStarted");
    let approve = json!({"reviewResult": "Approve", "justification": "ok"});
    assert_eq!(
        call(
            &s,
            &bob_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage1}"),
            Some(approve.clone())
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &s,
            &mia_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage1}"),
            Some(approve.clone())
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(
            &s,
            &alice_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage1}"),
            Some(json!({"reviewResult": "Maybe"}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            &s,
            &alice_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage1}"),
            Some(approve.clone())
        )
        .await
        .0,
        204
    );
    assert_eq!(
        call(
            &s,
            &alice_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage1}"),
            Some(approve.clone())
        )
        .await
        .0,
        409
    );
    assert_eq!(
        s.get(&format!("{EM}/assignmentRequests/{request}"))
            .await
            .body["state"],
        "pendingApproval"
    );

    // Stage 2: any controller, with a justification; the second one is too late.
    let (_, a) = call(&s, &bob_t, reqwest::Method::GET, &approval, None).await;
    assert_eq!(a["stages"][1]["status"], "InProgress");
    assert_eq!(a["stages"][1]["assignedToMe"], true);
    assert_eq!(
        call(
            &s,
            &bob_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage2}"),
            Some(json!({"reviewResult": "Approve"}))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        call(
            &s,
            &bob_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage2}"),
            Some(approve.clone())
        )
        .await
        .0,
        204
    );
    assert_eq!(
        call(
            &s,
            &carol_t,
            reqwest::Method::PATCH,
            &format!("{approval}/stages/{stage2}"),
            Some(approve.clone())
        )
        .await
        .0,
        409
    );
    wait_state(&s, &request, "delivered").await;
    let members = s.get(&format!("/v1.0/groups/{}/members", set.group)).await;
    assert_eq!(
        members.body["value"][0]["userPrincipalName"],
        "mia@consulate.example"
    );
    let (_, a) = call(&s, &alice_t, reqwest::Method::GET, &approval, None).await;
    assert_eq!(a["stages"][1]["reviewedBy"]["id"], bob.as_str());

    // A denial is final.
    let (_, noah_t) = user_with_token(&s, "noah").await;
    let (_, r) = call(
        &s,
        &noah_t,
        reqwest::Method::POST,
        &format!("{EM}/assignmentRequests"),
        Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": set.package}})),
    )
    .await;
    let denied = r["id"].as_str().unwrap().to_owned();
    let (_, a) = call(
        &s,
        &alice_t,
        reqwest::Method::GET,
        &format!("{EM}/accessPackageAssignmentApprovals/{denied}"),
        None,
    )
    .await;
    let st = a["stages"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &s,
            &alice_t,
            reqwest::Method::PATCH,
            &format!("{EM}/accessPackageAssignmentApprovals/{denied}/stages/{st}"),
            Some(json!({"reviewResult": "Deny", "justification": "not needed"}))
        )
        .await
        .0,
        204
    );
    let r = s.get(&format!("{EM}/assignmentRequests/{denied}")).await;
    assert_eq!(
        (r.body["state"].as_str(), r.body["status"].as_str()),
        (Some("denied"), Some("Denied"))
    );
    let _ = carol;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stage_approval_sqlite() {
    two_stages(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stage_approval_postgres() {
    two_stages(Backend::Postgres).await;
}

/// Eight approvers decide the same requests at once: exactly one decision per stage, and
/// every approved request is delivered once.
async fn racing_approvers(backend: Backend, requests: usize) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (_, _) = user_with_token(&s, "owner").await;
    let cat = created(
        &s,
        &format!("{EM}/catalogs"),
        json!({"displayName": "Race"}),
    )
    .await;
    let group = created(
        &s,
        "/v1.0/groups",
        json!({"displayName": "Raced", "mailNickname": "raced"}),
    )
    .await;
    let approvers_group = created(
        &s,
        "/v1.0/groups",
        json!({"displayName": "Racers", "mailNickname": "racers"}),
    )
    .await;
    created(&s, &format!("{EM}/resourceRequests"), json!({"requestType": "adminAdd", "resource": {"originId": group, "originSystem": "AadGroup"}, "catalog": {"id": cat}})).await;
    let role = s
        .get(&format!(
            "{EM}/catalogs/{cat}/resourceRoles?$filter=displayName eq 'Member'"
        ))
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let package = package_and_policy(&s, json!({"displayName": "Raced access", "catalog": {"id": cat}}), &role, json!({"displayName": "One approval", "allowedTargetScope": "allMemberUsers",
        "requestorSettings": {"enableTargetsToSelfAddAccess": true},
        "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.groupMembers", "groupId": approvers_group}]}]}})).await;
    let mut approvers = Vec::new();
    for i in 0..8 {
        let (id, t) = user_with_token(&s, &format!("approver{i}")).await;
        join(&s, &approvers_group, &id).await;
        approvers.push(t);
    }
    let mut pending = Vec::new();
    for i in 0..requests {
        let (_, t) = user_with_token(&s, &format!("requestor{i}")).await;
        let (status, r) = call(
            &s,
            &t,
            reqwest::Method::POST,
            &format!("{EM}/assignmentRequests"),
            Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": package}})),
        )
        .await;
        assert_eq!(status, 201, "{r}");
        let id = r["id"].as_str().unwrap().to_owned();
        let a = s
            .get(&format!("{EM}/accessPackageAssignmentApprovals/{id}"))
            .await;
        let stage = a.body["stages"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{r} {}", a.text))
            .to_owned();
        pending.push((id, stage));
    }
    let pending = std::sync::Arc::new(pending);
    let mut tasks = Vec::new();
    for (n, token) in approvers.into_iter().enumerate() {
        let (pending, http, base) = (pending.clone(), s.http.clone(), s.base.clone());
        tasks.push(tokio::spawn(async move {
            let mut wins = 0;
            let mut order: Vec<usize> = (0..pending.len()).collect();
            order.rotate_left(n * pending.len() / 8);
            for i in order {
                let (req, stage) = &pending[i];
                let status = http
                    .patch(format!(
                        "{base}{EM}/accessPackageAssignmentApprovals/{req}/stages/{stage}"
                    ))
                    .bearer_auth(&token)
                    .json(&json!({"reviewResult": "Approve", "justification": "race"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                match status {
                    204 => wins += 1,
                    409 => {}
                    other => panic!("unexpected {other}"),
                }
            }
            wins
        }));
    }
    let mut decided = 0;
    for t in tasks {
        decided += t.await.unwrap();
    }
    assert_eq!(decided, requests, "exactly one decision per stage");
    for (req, _) in pending.iter() {
        wait_state(&s, req, "delivered").await;
    }
    let members = s
        .get(&format!(
            "/v1.0/groups/{group}/members?$count=true&$top=999"
        ))
        .await;
    assert_eq!(
        members.body["value"].as_array().unwrap().len(),
        requests,
        "one delivery per approval"
    );
    let audit = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Decide access package request'&$top=999").await;
    assert_eq!(audit.body["value"].as_array().unwrap().len(), requests);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_approvers_sqlite() {
    racing_approvers(Backend::Sqlite, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_approvers_postgres() {
    racing_approvers(Backend::Postgres, 200).await;
}

/// A pending request: cancelled by its target (not by a stranger), after which nobody can
/// decide it; deleted by an administrator only once it is final.
async fn cancel_then_delete(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (alice, alice_t) = user_with_token(&s, "alice").await;
    let set = setup(&s, &alice).await;
    let (_, bob_t) = user_with_token(&s, "bob").await;
    let (_, mia_t) = user_with_token(&s, "mia").await;
    let (status, r) = call(
        &s,
        &mia_t,
        reqwest::Method::POST,
        &format!("{EM}/assignmentRequests"),
        Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": set.package}})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let request = r["id"].as_str().unwrap().to_owned();
    let path = format!("{EM}/assignmentRequests/{request}");
    let cancel = format!("{path}/cancel");

    // Each sees it through their own lens: Alice to decide, Mia as its creator, Bob not at all.
    let on = |who: &str| format!("{EM}/assignmentRequests/filterByCurrentUser(on='{who}')");
    for (token, lens, expected) in [
        (&alice_t, "approver", 1),
        (&mia_t, "createdBy", 1),
        (&mia_t, "target", 1),
        (&mia_t, "approver", 0),
        (&bob_t, "createdBy", 0),
        (&bob_t, "approver", 0),
    ] {
        let (status, body) = call(&s, token, reqwest::Method::GET, &on(lens), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["value"].as_array().unwrap().len(),
            expected,
            "{lens}: {body}"
        );
        if expected == 1 {
            assert_eq!(body["value"][0]["id"], request.as_str());
        }
    }
    let (status, _) = call(&s, &mia_t, reqwest::Method::GET, &on("everyone"), None).await;
    assert_eq!(status, 400);

    let r = s.delete(&path).await;
    assert_eq!(
        r.status, 409,
        "pending requests are canceled, not deleted: {}",
        r.text
    );
    let (status, body) = call(&s, &bob_t, reqwest::Method::POST, &cancel, None).await;
    assert_eq!(status, 403, "{body}");
    let audit_before = s.audit_count().await;
    let (status, body) = call(&s, &mia_t, reqwest::Method::POST, &cancel, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.audit_count().await, audit_before + 1);
    assert_eq!(s.get(&path).await.body["state"], "canceled");
    let (status, _) = call(&s, &mia_t, reqwest::Method::POST, &cancel, None).await;
    assert_eq!(status, 409, "a canceled request is final");

    // Alice no longer has anything to decide, and cannot decide it anyway.
    let (_, mine) = call(
        &s,
        &alice_t,
        reqwest::Method::GET,
        &format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"),
        None,
    )
    .await;
    assert_eq!(mine["value"], json!([]), "{mine}");
    let approval = format!("{EM}/accessPackageAssignmentApprovals/{request}");
    let (_, a) = call(&s, &alice_t, reqwest::Method::GET, &approval, None).await;
    let stage1 = a["stages"][0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = call(
        &s,
        &alice_t,
        reqwest::Method::PATCH,
        &format!("{approval}/stages/{stage1}"),
        Some(json!({"reviewResult": "Approve", "justification": "late"})),
    )
    .await;
    assert!(matches!(status, 404 | 409), "{status} {body}");
    assert_eq!(s.get(&path).await.body["state"], "canceled");
    assert!(
        s.get(&format!("{EM}/assignments")).await.body["value"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (status, _) = call(&s, &mia_t, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 403, "only assignment managers delete requests");
    assert_eq!(s.delete(&path).await.status, 204);
    assert_eq!(s.get(&path).await.status, 404);
    assert_eq!(s.delete(&path).await.status, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_then_delete_sqlite() {
    cancel_then_delete(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_then_delete_postgres() {
    cancel_then_delete(Backend::Postgres).await;
}

/// Nobody decides within `durationBeforeEscalation`: the escalation approver gets the stage
/// too, and decides it.
async fn escalation(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (alice, _) = user_with_token(&s, "alice").await;
    let (bob, bob_t) = user_with_token(&s, "bob").await;
    let (_, mia_t) = user_with_token(&s, "mia").await;
    let set = setup(&s, &alice).await;
    let r = s
        .post(
            &format!("{EM}/assignmentPolicies"),
            json!({"displayName": "Escalating", "allowedTargetScope": "allMemberUsers",
                   "requestorSettings": {"enableTargetsToSelfAddAccess": true},
                   "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "stages": [
                       {"durationBeforeAutomaticDenial": "P7D", "durationBeforeEscalation": "PT3S", "isEscalationEnabled": true,
                        "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": alice}],
                        "escalationApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": bob}]}]},
                   "accessPackage": {"id": set.package}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let policy = r.body["id"].as_str().unwrap().to_owned();
    let (status, r) = call(
        &s,
        &mia_t,
        reqwest::Method::POST,
        &format!("{EM}/assignmentRequests"),
        Some(json!({"requestType": "userAdd", "assignment": {"accessPackageId": set.package, "assignmentPolicyId": policy}})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let request = r["id"].as_str().unwrap().to_owned();
    let mine = format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')");
    let (_, before) = call(&s, &bob_t, reqwest::Method::GET, &mine, None).await;
    assert_eq!(
        before["value"],
        json!([]),
        "not Bob's before escalation: {before}"
    );
    let mut after = Value::Null;
    for _ in 0..100 {
        after = call(&s, &bob_t, reqwest::Method::GET, &mine, None).await.1;
        if after["value"][0]["id"] == request.as_str() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(after["value"][0]["id"], request.as_str(), "{after}");
    let approval = format!("{EM}/accessPackageAssignmentApprovals/{request}");
    let stage = after["value"][0]["stages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = call(
        &s,
        &bob_t,
        reqwest::Method::PATCH,
        &format!("{approval}/stages/{stage}"),
        Some(json!({"reviewResult": "Approve", "justification": "covering for Alice"})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    wait_state(&s, &request, "delivered").await;
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Escalate access package request'")
        .await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );
    assert!(audit.text.contains(&bob), "{}", audit.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_sqlite() {
    escalation(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_postgres() {
    escalation(Backend::Postgres).await;
}
