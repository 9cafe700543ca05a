//! Sign-in rules (methods, MFA, session cap) and the collaboration domain list, applied at
//! sign-in and again at request time, with refusals in plain words.

use crate::harness::{Backend, TestServer};
use crate::lifecycle::{EM, group_in_catalog, package_and_policy};
use crate::sign_in::Browser;
use crate::smtp_sink::SmtpSink;
use reqwest::Method;
use serde_json::json;

async fn sign_in_rules(backend: Backend) {
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
    let mut packages = Vec::new();
    for name in ["Everyday", "Sensitive"] {
        let pkg = package_and_policy(&s, json!({"displayName": name, "catalog": {"id": cat}}), &role, json!({"displayName": format!("{name} for partners"), "allowedTargetScope": "allConfiguredConnectedOrganizationUsers",
                   "requestorSettings": {"enableTargetsToSelfAddAccess": true},
                   "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})).await;
        packages.push(pkg);
    }
    let rules = "/admin/v1/signInRules";
    // Bad rules are refused.
    for body in [
        json!({"displayName": "Does nothing", "target": "allExternalUsers"}),
        json!({"displayName": "Nobody", "target": "accessPackages", "requireMfa": true}),
        json!({"displayName": "Odd", "target": "everyone", "requireMfa": true}),
        json!({"displayName": "Odd", "target": "allExternalUsers", "allowedMethods": ["carrierPigeon"]}),
        json!({"displayName": "Short", "target": "allExternalUsers", "maxSessionMinutes": 1}),
    ] {
        assert_eq!(s.post(rules, body.clone()).await.status, 400, "{body}");
    }
    // The sensitive package: only through the partner's own identity provider.
    let r = s.post(rules, json!({"displayName": "Sensitive: federated only", "target": "accessPackages", "targetIds": [packages[1]], "allowedMethods": ["identityProvider"]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Every external session: one hour at most.
    let r = s.post(rules, json!({"displayName": "Short sessions", "target": "allExternalUsers", "maxSessionMinutes": 60})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        s.get(rules).await.body["value"].as_array().unwrap().len(),
        2
    );

    let mut ana = Browser::new(&s);
    ana.sign_in(&sink, "ana@partner.example").await;
    let me = ana.get("/auth/v1/session").await;
    let expires: jiff::Timestamp = me.body["expiresDateTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = expires.duration_since(jiff::Timestamp::now()).as_secs();
    assert!((3500..=3600).contains(&left), "session of {left} s");
    // A session from outside cannot turn itself into a token that escapes these rules.
    let r = ana.post("/auth/v1/tokens", json!({"name": "escape", "scopes": ["EntitlementManagement.ReadWrite.All"], "expiresInDays": 90})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let requests = format!("{EM}/assignmentRequests");
    let r = ana
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": packages[1]}}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("identity provider"), "{}", r.text);
    let r = ana
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": packages[0]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // MFA for the partner's users: a passcode sign-in asks for an authenticator app next
    // (the whole second-factor flow is in external_mfa.rs).
    let r = s.post(rules, json!({"displayName": "Partner needs MFA", "target": "connectedOrganizations", "targetIds": [org], "requireMfa": true})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mfa_rule = r.body["id"].as_str().unwrap().to_owned();
    let mut bea = Browser::new(&s);
    bea.send(
        Method::POST,
        "/auth/v1/email-otp",
        Some(json!({"email": "bea@partner.example"})),
        &[],
    )
    .await;
    let code = sink.code_for("bea@partner.example", 1).await;
    let r = bea
        .send(
            Method::POST,
            "/auth/v1/email-otp/verify",
            Some(json!({"code": code})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["secondFactorRequired"], true, "{}", r.text);
    assert_eq!(bea.get("/auth/v1/session").await.status, 401);
    assert_eq!(s.delete(&format!("{rules}/{mfa_rule}")).await.status, 204);
    assert_eq!(s.delete(&format!("{rules}/{mfa_rule}")).await.status, 404);

    // The domain list overrides everything: no code goes out, and sessions stop requesting.
    let r = s
        .req(
            Method::PUT,
            "/admin/v1/collaborationDomains",
            Some(json!({"mode": "deny", "domains": ["partner.example"]})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        s.get("/admin/v1/collaborationDomains").await.body["mode"],
        "deny"
    );
    let mut cy = Browser::new(&s);
    let r = cy
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": "cy@partner.example"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 202);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(sink.to("cy@partner.example").is_empty());
    let r = ana
        .post(
            &requests,
            json!({"requestType": "userAdd", "assignment": {"accessPackageId": packages[0]}}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("not allowed"), "{}", r.text);
    let r = s
        .req(
            Method::PUT,
            "/admin/v1/collaborationDomains",
            Some(json!({"mode": "deny", "domains": []})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Create sign-in rule'")
        .await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        3,
        "{}",
        audit.text
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_rules_sqlite() {
    sign_in_rules(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_rules_postgres() {
    sign_in_rules(Backend::Postgres).await;
}
