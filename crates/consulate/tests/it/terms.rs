//! Terms of use for people from outside: set by administrators, accepted once per version
//! before requesting (through the API or the portal's request form), and audited; members
//! are not asked.

use crate::harness::{Backend, TestServer};
use crate::lifecycle::{EM, group_in_catalog, package_and_policy};
use crate::portal::{action, hidden};
use crate::sign_in::Browser;
use crate::smtp_sink::SmtpSink;
use reqwest::Method;
use serde_json::json;

async fn terms(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let Some(s) = TestServer::start_with(backend, |c| c.smtp_url = Some(url)).await else {
        return;
    };
    let org = s.create_domain_org("Partner", "partner.example").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cat, _, role) = group_in_catalog(&s, "Partner work", "Partner space", "pspace").await;
    let policy = |name: &str| {
        json!({"displayName": name, "allowedTargetScope": "specificConnectedOrganizationUsers",
               "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})
    };
    let first = package_and_policy(
        &s,
        json!({"displayName": "Space", "catalog": {"id": cat}}),
        &role,
        policy("Partners"),
    )
    .await;
    let second = package_and_policy(
        &s,
        json!({"displayName": "Space two", "catalog": {"id": cat}}),
        &role,
        policy("Partners too"),
    )
    .await;

    // Bad terms are refused; good ones get a version.
    let admin_terms = "/admin/v1/termsOfUse";
    let r = s
        .req(Method::PUT, admin_terms, Some(json!({"text": "bell\u{7}"})))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .req(
            Method::PUT,
            admin_terms,
            Some(json!({"text": "x".repeat(20_001)})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s
        .req(
            Method::PUT,
            admin_terms,
            Some(json!({"text": "Be kind.\nDo not share what you see."})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v1 = r.body["version"].as_str().unwrap().to_owned();
    assert_eq!(s.get(admin_terms).await.body["version"], v1.as_str());

    // Through the API: refused until accepted, then accepted once.
    let mut ana = Browser::new(&s);
    ana.sign_in(&sink, "ana@partner.example").await;
    let mine = ana.get("/auth/v1/terms").await;
    assert_eq!(mine.body["acceptanceRequired"], true, "{}", mine.text);
    assert!(mine.body["text"].as_str().unwrap().contains("Be kind."));
    let requests = format!("{EM}/assignmentRequests");
    let ask = |pkg: &str| json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}});
    let r = ana.post(&requests, ask(&first)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("terms of use"), "{}", r.text);
    let r = ana
        .post(
            "/auth/v1/terms/accept",
            json!({"version": "0000000000000000"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    for _ in 0..2 {
        let r = ana
            .post("/auth/v1/terms/accept", json!({"version": v1}))
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    assert_eq!(
        ana.get("/auth/v1/terms").await.body["acceptanceRequired"],
        false
    );
    let r = ana.post(&requests, ask(&first)).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // New terms: asked again.
    let r = s
        .req(
            Method::PUT,
            admin_terms,
            Some(json!({"text": "Be kind.\nDo not share.\nReport incidents."})),
        )
        .await;
    let v2 = r.body["version"].as_str().unwrap().to_owned();
    assert_ne!(v1, v2);
    let r = ana.post(&requests, ask(&second)).await;
    assert_eq!(r.status, 403, "{}", r.text);

    // Members are not asked.
    let r = s.post(&requests, json!({"requestType": "adminAdd", "assignment": {"accessPackageId": second, "targetId": s.create_user("Mo", "mo@consulate.example", false).await["id"], "assignmentPolicyId": s.get(&format!("{EM}/accessPackages/{second}/assignmentPolicies")).await.body["value"][0]["id"]}})).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // In the portal: the terms are shown, and the request form asks to accept them.
    let mut ivy = Browser::new(&s);
    ivy.sign_in(&sink, "ivy@partner.example").await;
    let link = format!("/access-packages/{first}");
    let page = ivy.get(&link).await;
    assert!(page.text.contains("Report incidents."), "{}", page.text);
    assert!(page.text.contains("name=\"accept_terms\""), "{}", page.text);
    let (csrf, policy_id, path) = (
        hidden(&page.text, "csrf"),
        hidden(&page.text, "policy"),
        action(&page.text, "/access-packages/"),
    );
    let r = ivy
        .form(
            &path,
            &[
                ("csrf", &csrf),
                ("policy", &policy_id),
                ("justification", "work"),
            ],
        )
        .await;
    assert!(r.text.contains("terms of use"), "{}", r.text);
    let r = ivy
        .form(
            &path,
            &[
                ("csrf", &csrf),
                ("policy", &policy_id),
                ("justification", "work"),
                ("accept_terms", &v2),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = ivy.get(&link).await;
    assert!(
        !page.text.contains("name=\"accept_terms\""),
        "{}",
        page.text
    );

    // Removing the terms stops asking.
    let r = s
        .req(Method::PUT, admin_terms, Some(json!({"text": "  "})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["version"].is_null());
    let r = ana.post(&requests, ask(&second)).await;
    assert_eq!(r.status, 201, "{}", r.text);

    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Accept terms of use'")
        .await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        2,
        "{}",
        audit.text
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terms_of_use_sqlite() {
    terms(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terms_of_use_postgres() {
    terms(Backend::Postgres).await;
}
