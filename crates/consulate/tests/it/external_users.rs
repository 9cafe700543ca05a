//! The external-user lifecycle: governed guests are blocked when their last assignment ends,
//! deleted after the configured time, and unblocked by a new assignment before then; guests
//! not governed and members are never touched.

use crate::harness::{Backend, TestServer, assert_error};
use crate::lifecycle::{EM, delegated, group_in_catalog, package, wait_for};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

async fn user_id(s: &TestServer, name: &str, upn: &str, guest: bool) -> String {
    s.create_user(name, upn, guest).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Assigns the package to `user` (adminAdd) and waits for delivery; returns the assignment.
async fn assign(s: &TestServer, pkg: &str, policy: &str, user: &str) -> String {
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminAdd", "assignment": {"targetId": user, "assignmentPolicyId": policy, "accessPackageId": pkg}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let done = wait_for(
        s,
        &format!("{EM}/assignmentRequests/{}", r.body["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    done["assignment"]["id"].as_str().unwrap().to_owned()
}

async fn remove(s: &TestServer, assignment: &str) {
    let r = s
        .post(
            &format!("{EM}/assignmentRequests"),
            json!({"requestType": "adminRemove", "assignment": {"id": assignment}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn enabled(s: &TestServer, user: &str) -> Value {
    s.get(&format!("/v1.0/users/{user}")).await.body["accountEnabled"].clone()
}

async fn audits(s: &TestServer, activity: &str) -> usize {
    s.get(&format!(
        "/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq '{activity}'"
    ))
    .await
    .body["value"]
        .as_array()
        .unwrap()
        .len()
}

async fn govern(s: &TestServer, user: &str) {
    let r = s
        .patch(
            &format!("{EM}/subjects(objectId='{user}')"),
            json!({"subjectLifecycle": "governed"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

async fn external_user_lifecycle(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let (cat, _, role) = group_in_catalog(&s, "Partners", "Partner space", "partners").await;
    let (pkg, policy) = package(&s, &cat, &role, "Partner space", false).await;
    let (pkg2, policy2) = package(&s, &cat, &role, "Partner space too", false).await;
    let gus = user_id(
        &s,
        "Gus",
        "gus_partner.example#EXT#@consulate.example",
        true,
    )
    .await;
    let hal = user_id(
        &s,
        "Hal",
        "hal_partner.example#EXT#@consulate.example",
        true,
    )
    .await;
    let mia = user_id(&s, "Mia", "mia@consulate.example", false).await;

    // Subjects: unknown until governed; members cannot be governed; bad input is refused.
    let subject = s.get(&format!("{EM}/subjects(objectId='{gus}')")).await;
    assert_eq!(subject.status, 200, "{}", subject.text);
    assert_eq!(subject.body["subjectLifecycle"], "notDefined");
    assert_eq!(
        subject.body["principalName"],
        "gus_partner.example#EXT#@consulate.example"
    );
    govern(&s, &gus).await;
    assert_eq!(
        s.get(&format!("{EM}/subjects(objectId='{gus}')"))
            .await
            .body["subjectLifecycle"],
        "governed"
    );
    let r = s
        .patch(
            &format!("{EM}/subjects(objectId='{mia}')"),
            json!({"subjectLifecycle": "governed"}),
        )
        .await;
    assert_error(&r, 400, "invalidRequest");
    let r = s
        .patch(
            &format!("{EM}/subjects(objectId='{gus}')"),
            json!({"subjectLifecycle": "owned"}),
        )
        .await;
    assert_error(&r, 400, "invalidRequest");
    assert_eq!(
        s.get(&format!(
            "{EM}/subjects(objectId='{}')",
            uuid::Uuid::new_v4()
        ))
        .await
        .status,
        404
    );
    assert_eq!(
        s.get(&format!("{EM}/subjects(objectId='x')")).await.status,
        400
    );
    assert_eq!(s.get(&format!("{EM}/nothingHere")).await.status, 404);

    // Gus holds two assignments: losing one keeps him enabled.
    let a1 = assign(&s, &pkg, &policy, &gus).await;
    let a2 = assign(&s, &pkg2, &policy2, &gus).await;
    let gus_t = delegated(&s, "gus_partner.example#EXT#@consulate.example").await;
    let mine = format!("{EM}/assignments/filterByCurrentUser(on='target')");
    assert_eq!(
        s.req_with(Method::GET, &mine, None, Some(&gus_t))
            .await
            .status,
        200
    );
    remove(&s, &a1).await;
    assert_eq!(enabled(&s, &gus).await, true);
    // Losing the last one blocks him at once: his token stops working. Deletion is 30 days out.
    remove(&s, &a2).await;
    assert_eq!(enabled(&s, &gus).await, false);
    assert_eq!(
        s.req_with(Method::GET, &mine, None, Some(&gus_t))
            .await
            .status,
        401
    );
    assert_eq!(audits(&s, "Block external user").await, 1);
    // A new approved assignment before the deletion unblocks him.
    let a3 = assign(&s, &pkg, &policy, &gus).await;
    assert_eq!(enabled(&s, &gus).await, true);
    assert_eq!(
        s.req_with(Method::GET, &mine, None, Some(&gus_t))
            .await
            .status,
        200
    );
    assert_eq!(audits(&s, "Unblock external user").await, 1);

    // With deletion after 0 days, the next loss deletes him once his grants are revoked.
    assert_eq!(
        s.patch(
            &format!("{EM}/settings"),
            json!({"durationUntilExternalUserDeletedAfterBlocked": "P0D"})
        )
        .await
        .status,
        204
    );
    remove(&s, &a3).await;
    let mut status = 0;
    for _ in 0..100 {
        status = s.get(&format!("/v1.0/users/{gus}")).await.status;
        if status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 404, "the blocked guest was not deleted");
    assert_eq!(audits(&s, "Delete external user").await, 1);
    assert_eq!(
        s.req_with(Method::GET, &mine, None, Some(&gus_t))
            .await
            .status,
        401
    );

    // Hal is a guest not governed by entitlement management: never blocked or deleted.
    let h = assign(&s, &pkg, &policy, &hal).await;
    remove(&s, &h).await;
    // Mia is a member: never touched either.
    let m = assign(&s, &pkg, &policy, &mia).await;
    remove(&s, &m).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(enabled(&s, &hal).await, true);
    assert_eq!(enabled(&s, &mia).await, true);
    assert_eq!(
        audits(&s, "Block external user").await,
        2,
        "only Gus was blocked, twice"
    );

    // Block only: Ivy is blocked and kept.
    assert_eq!(
        s.patch(
            &format!("{EM}/settings"),
            json!({"externalUserLifecycleAction": "blockSignIn"})
        )
        .await
        .status,
        204
    );
    let ivy = user_id(
        &s,
        "Ivy",
        "ivy_partner.example#EXT#@consulate.example",
        true,
    )
    .await;
    govern(&s, &ivy).await;
    let i = assign(&s, &pkg, &policy, &ivy).await;
    remove(&s, &i).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(enabled(&s, &ivy).await, false);
    assert_eq!(s.get(&format!("/v1.0/users/{ivy}")).await.status, 200);
    assert_eq!(audits(&s, "Delete external user").await, 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_user_lifecycle_sqlite() {
    external_user_lifecycle(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_user_lifecycle_postgres() {
    external_user_lifecycle(Backend::Postgres).await;
}
