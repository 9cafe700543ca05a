//! Multi-factor sign-in for people who sign in with an email passcode: a rule requiring MFA
//! makes the passcode lead to an authenticator app (registered the first time), the session
//! then counts as MFA at request time, codes work once, a challenge takes five codes, a
//! registered app is always asked for, administrators reset a lost one, and a sign-in can step
//! up on purpose.

use crate::harness::{Backend, TestServer};
use crate::lifecycle::{EM, group_in_catalog, package_and_policy};
use crate::local_sign_in::{step_now, totp_at};
use crate::sign_in::Browser;
use crate::smtp_sink::SmtpSink;
use reqwest::Method;
use serde_json::{Value, json};

/// The passcode step for `email`; returns the answer to the code.
async fn passcode(
    b: &mut Browser,
    sink: &SmtpSink,
    email: &str,
    step_up: bool,
) -> crate::harness::Resp {
    let before = sink.to(email).len();
    let r = b
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": email})),
            &[],
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let code = sink.code_for(email, before + 1).await;
    b.send(
        Method::POST,
        "/auth/v1/email-otp/verify",
        Some(json!({"code": code, "stepUp": step_up})),
        &[],
    )
    .await
}

async fn second(b: &mut Browser, code: &str) -> crate::harness::Resp {
    b.send(
        Method::POST,
        "/auth/v1/second-factor",
        Some(json!({"code": code})),
        &[],
    )
    .await
}

fn enrollment(r: &crate::harness::Resp) -> Option<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["secondFactorRequired"], true, "{}", r.text);
    match &r.body["authenticatorToRegister"] {
        Value::Null => None,
        a => {
            assert!(
                a["otpauthUri"]
                    .as_str()
                    .unwrap()
                    .starts_with("otpauth://totp/"),
                "{a}"
            );
            Some(a["secret"].as_str().unwrap().to_owned())
        }
    }
}

async fn external_mfa(backend: Backend) {
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
    let pkg = package_and_policy(&s, json!({"displayName": "Partner space", "catalog": {"id": cat}}), &role, json!({"displayName": "Partner users", "allowedTargetScope": "specificConnectedOrganizationUsers",
               "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.connectedOrganizationMembers", "connectedOrganizationId": org}],
               "requestorSettings": {"enableTargetsToSelfAddAccess": true},
               "requestApprovalSettings": {"isApprovalRequiredForAdd": false, "stages": []}})).await;
    let requests = format!("{EM}/assignmentRequests");
    let ask = json!({"requestType": "userAdd", "assignment": {"accessPackageId": pkg}});

    // A package rule needs MFA: a plain passcode session is refused at request time, and
    // told how to get it.
    let r = s.post("/admin/v1/signInRules", json!({"displayName": "Space needs MFA", "target": "accessPackages", "targetIds": [pkg], "requireMfa": true})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut plain = Browser::new(&s);
    plain.sign_in(&sink, "dan@partner.example").await;
    let r = plain.post(&requests, ask.clone()).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("authenticator app"), "{}", r.text);
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Refuse request: sign-in rule'")
        .await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        1,
        "the refusal is in the audit trail: {}",
        audit.text
    );

    // In the portal, the package page says why and offers to sign in again with the app;
    // that sign-in asks for the app to register.
    let mut fay = Browser::new(&s);
    let back = format!("/access-packages/{pkg}");
    let r = fay
        .form(
            "/sign-in",
            &[("email", "fay@partner.example"), ("return_to", &back)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code = sink.code_for("fay@partner.example", 1).await;
    let r = fay
        .form(
            "/sign-in/code",
            &[
                ("code", &code),
                ("email", "fay@partner.example"),
                ("return_to", &back),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = fay.get(&back).await;
    assert!(page.text.contains("authenticator app"), "{}", page.text);
    assert!(page.text.contains("step_up=1"), "{}", page.text);
    let r = fay
        .form(
            "/sign-in",
            &[
                ("email", "fay@partner.example"),
                ("return_to", &back),
                ("step_up", "1"),
            ],
        )
        .await;
    assert!(r.text.contains(r#"name="step_up" value="1""#), "{}", r.text);
    let code = sink.code_for("fay@partner.example", 2).await;
    let r = fay
        .form(
            "/sign-in/code",
            &[
                ("code", &code),
                ("email", "fay@partner.example"),
                ("return_to", &back),
                ("step_up", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("Set up your authenticator app"),
        "{}",
        r.text
    );
    let key = r
        .text
        .split(r#"readonly value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let r = fay
        .form(
            "/sign-in/second-factor",
            &[("code", &totp_at(&key, step_now())), ("return_to", &back)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = fay.get(&back).await;
    assert!(!page.text.contains("step_up=1"), "{}", page.text);
    assert!(
        page.text.contains("Request: Partner users"),
        "{}",
        page.text
    );

    // Bea steps up: the passcode leads to registering an authenticator app.
    let mut bea = Browser::new(&s);
    let r = passcode(&mut bea, &sink, "bea@partner.example", true).await;
    let secret = enrollment(&r).expect("the first time, an app to register");
    assert_eq!(bea.get("/auth/v1/session").await.status, 401);
    let step = step_now();
    let r = second(&mut bea, "000000").await;
    if totp_at(&secret, step) != "000000" && totp_at(&secret, step + 1) != "000000" {
        assert_eq!(r.status, 400, "{}", r.text);
    }
    let r = second(&mut bea, &totp_at(&secret, step)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    bea.csrf = Some(r.body["csrfToken"].as_str().unwrap().to_owned());
    let me = bea.get("/auth/v1/session").await;
    assert_eq!(me.body["method"], "emailOtp+mfa", "{}", me.text);
    let r = bea.post(&requests, ask.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // From now on Bea's app is always asked for, and a code works once.
    let mut again = Browser::new(&s);
    let r = passcode(&mut again, &sink, "bea@partner.example", false).await;
    assert_eq!(
        enrollment(&r),
        None,
        "a registered app is not registered again"
    );
    let r = second(&mut again, &totp_at(&secret, step)).await;
    assert_eq!(r.status, 400, "a used code is refused: {}", r.text);
    let r = second(&mut again, &totp_at(&secret, step + 1)).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A challenge takes five codes at most, even the right one after them.
    let mut guess = Browser::new(&s);
    let r = passcode(&mut guess, &sink, "bea@partner.example", false).await;
    assert_eq!(enrollment(&r), None);
    for _ in 0..5 {
        let r = second(&mut guess, "12345x").await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
    let r = second(&mut guess, &totp_at(&secret, step_now() + 1)).await;
    assert!(r.status == 400 || r.status == 429, "{}", r.text);
    assert_eq!(guess.get("/auth/v1/session").await.status, 401);

    // An administrator resets a lost device: the passcode alone signs in again (no rule
    // needs MFA at sign-in), and stepping up registers a new app.
    let reset = "/admin/v1/externalAuthenticators/Bea@Partner.example";
    assert_eq!(s.delete(reset).await.status, 204);
    assert_eq!(s.delete(reset).await.status, 404);
    let mut fresh = Browser::new(&s);
    let r = passcode(&mut fresh, &sink, "bea@partner.example", true).await;
    let new_secret = enrollment(&r).expect("a new app to register");
    assert_ne!(new_secret, secret);

    // Without a rule and without an app, a passcode alone signs in.
    let mut eve = Browser::new(&s);
    let r = passcode(&mut eve, &sink, "eve@partner.example", false).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["csrfToken"].is_string(), "{}", r.text);

    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Register authenticator'")
        .await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        2,
        "{}",
        audit.text
    );
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Reset authenticator'")
        .await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_mfa_sqlite() {
    external_mfa(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_mfa_postgres() {
    external_mfa(Backend::Postgres).await;
}
