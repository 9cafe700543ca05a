//! Members and administrators sign in with a password and, once registered, an authenticator
//! code or a recovery code; guesses in parallel meet the same limits as in a row.

use crate::harness::{Backend, TestServer, assert_error};
use crate::sign_in::Browser;
use reqwest::Method;
use serde_json::{Value, json};

pub fn step_now() -> i64 {
    jiff::Timestamp::now().as_second() / 30
}

pub fn totp_at(secret: &str, step: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let t = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes);
    t.generate((step * 30) as u64)
}

fn error_shape(r: &crate::harness::Resp) -> (u16, Value, Value) {
    (
        r.status,
        r.body["error"]["code"].clone(),
        r.body["error"]["message"].clone(),
    )
}

async fn password_and_authenticator(backend: Backend) {
    let Some(s) = TestServer::start(backend).await else {
        return;
    };
    let mia = s.create_user("Mia", "mia@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .req(
            Method::PUT,
            &format!("/admin/v1/users/{mia}/password"),
            Some(json!({"password": "short"})),
        )
        .await;
    assert_error(&r, 400, "invalidRequest");
    let r = s
        .req(
            Method::PUT,
            &format!("/admin/v1/users/{mia}/password"),
            Some(json!({"password": "a long passphrase for mia"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    // A sign-in posted from another site is refused (login CSRF), in the API and the pages.
    let mut evil = Browser::new(&s);
    let r = evil.send(Method::POST, "/auth/v1/password", Some(json!({"userName": "mia@consulate.example", "password": "a long passphrase for mia"})), &[("origin", "https://evil.example")]).await;
    assert_error(&r, 403, "csrfCheckFailed");
    let r = evil
        .send(
            Method::POST,
            "/auth/v1/email-otp",
            Some(json!({"email": "ana@partner.example"})),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_error(&r, 403, "csrfCheckFailed");
    assert!(!evil.cookies_contain("consulate-session"));

    // Wrong password and unknown user answer alike.
    let mut b = Browser::new(&s);
    let wrong = b
        .send(
            Method::POST,
            "/auth/v1/password",
            Some(json!({"userName": "mia@consulate.example", "password": "not her passphrase"})),
            &[],
        )
        .await;
    let unknown = b
        .send(
            Method::POST,
            "/auth/v1/password",
            Some(json!({"userName": "nobody@consulate.example", "password": "not her passphrase"})),
            &[],
        )
        .await;
    assert_eq!(error_shape(&wrong), error_shape(&unknown));
    assert_error(&wrong, 400, "invalidCredentials");
    let r = b.send(Method::POST, "/auth/v1/password", Some(json!({"userName": "mia@consulate.example", "password": "a long passphrase for mia"})), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.csrf = Some(r.body["csrfToken"].as_str().unwrap().to_owned());
    let me = b.get("/auth/v1/session").await;
    assert_eq!(me.body["principal"]["userId"], mia.as_str(), "{}", me.text);
    assert_eq!(me.body["method"], "password");

    // A token for scripts, made in the session: it acts for Mia, and only a session makes one.
    let r = b.post("/auth/v1/tokens", json!({"name": "my script", "scopes": ["EntitlementManagement.ReadWrite.All"], "expiresInDays": 30})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let script = r.body["token"].as_str().unwrap().to_owned();
    let token_id = r.body["id"].as_str().unwrap().to_owned();
    let mine = "/v1.0/identityGovernance/entitlementManagement/assignments/filterByCurrentUser(on='target')";
    assert_eq!(
        s.req_with(Method::GET, mine, None, Some(&script))
            .await
            .status,
        200
    );
    let r = s.req_with(Method::POST, "/auth/v1/tokens", Some(json!({"name": "x", "scopes": ["EntitlementManagement.Read.All"], "expiresInDays": 1})), Some(&script)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = b.post("/auth/v1/tokens", json!({"name": "long", "scopes": ["EntitlementManagement.Read.All"], "expiresInDays": 365})).await;
    assert_error(&r, 400, "invalidRequest");
    assert_eq!(
        b.get("/auth/v1/tokens").await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let csrf = b.csrf.clone().unwrap();
    let r = b
        .send(
            Method::DELETE,
            &format!("/auth/v1/tokens/{token_id}"),
            None,
            &[("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        s.req_with(Method::GET, mine, None, Some(&script))
            .await
            .status,
        401
    );

    // Register an authenticator; a wrong confirmation code is refused.
    let r = b.post("/auth/v1/authenticator", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(
        r.body["otpauthUri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let step = step_now();
    let r = b
        .post("/auth/v1/authenticator/confirm", json!({"code": "000000"}))
        .await;
    if (step - 1..=step + 1).all(|st| totp_at(&secret, st) != "000000") {
        assert_error(&r, 400, "invalidRequest");
    }
    let r = b
        .post(
            "/auth/v1/authenticator/confirm",
            json!({"code": totp_at(&secret, step)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let recovery: Vec<String> = r.body["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(b.post("/auth/v1/sign-out", json!({})).await.status, 204);

    // Now the password alone is not enough.
    let mut b = Browser::new(&s);
    let r = b.send(Method::POST, "/auth/v1/password", Some(json!({"userName": "mia@consulate.example", "password": "a long passphrase for mia"})), &[]).await;
    assert_eq!(r.body["secondFactorRequired"], true, "{}", r.text);
    assert_eq!(b.get("/auth/v1/session").await.status, 401);
    let r = b
        .send(
            Method::POST,
            "/auth/v1/second-factor",
            Some(json!({"code": totp_at(&secret, step)})),
            &[],
        )
        .await;
    assert_error(&r, 400, "invalidCredentials"); // the step used to confirm works once
    let r = b
        .send(
            Method::POST,
            "/auth/v1/second-factor",
            Some(json!({"code": totp_at(&secret, step + 1)})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = b.get("/auth/v1/session").await;
    assert_eq!(me.body["method"], "password+totp", "{}", me.text);

    // An administrator ends every session of Mia's at once.
    let r = s
        .post(
            &format!("/v1.0/users/{mia}/revokeSignInSessions"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["value"], true);
    assert_eq!(b.get("/auth/v1/session").await.status, 401);

    // A registered authenticator is not replaced by starting a new enrolment.
    let mut again = Browser::new(&s);
    again.send(Method::POST, "/auth/v1/password", Some(json!({"userName": "mia@consulate.example", "password": "a long passphrase for mia"})), &[]).await;
    let r = again
        .send(
            Method::POST,
            "/auth/v1/second-factor",
            Some(json!({"recoveryCode": recovery[5]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    again.csrf = Some(r.body["csrfToken"].as_str().unwrap().to_owned());
    let r = again.post("/auth/v1/authenticator", json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text);

    // A recovery code works once.
    for (i, expect) in [(0, 200), (1, 400)] {
        let mut b = Browser::new(&s);
        b.send(Method::POST, "/auth/v1/password", Some(json!({"userName": "mia@consulate.example", "password": "a long passphrase for mia"})), &[]).await;
        let r = b
            .send(
                Method::POST,
                "/auth/v1/second-factor",
                Some(json!({"recoveryCode": recovery[0].to_uppercase()})),
                &[],
            )
            .await;
        assert_eq!(r.status, expect, "attempt {i}: {}", r.text);
    }
    // A second-factor step without a password step first is refused.
    let mut stranger = Browser::new(&s);
    let r = stranger
        .send(
            Method::POST,
            "/auth/v1/second-factor",
            Some(json!({"recoveryCode": recovery[1]})),
            &[],
        )
        .await;
    assert_error(&r, 400, "invalidCredentials");

    // Wrong second factors count for the user across new challenges: five, then a wait.
    for _ in 0..2 {
        let mut guess = Browser::new(&s);
        guess.send(Method::POST, "/auth/v1/password", Some(json!({"userName": "mia@consulate.example", "password": "a long passphrase for mia"})), &[]).await;
        for _ in 0..3 {
            guess
                .send(
                    Method::POST,
                    "/auth/v1/second-factor",
                    Some(json!({"code": "000001"})),
                    &[],
                )
                .await;
        }
    }
    let mut late = Browser::new(&s);
    late.send(
        Method::POST,
        "/auth/v1/password",
        Some(json!({"userName": "mia@consulate.example", "password": "a long passphrase for mia"})),
        &[],
    )
    .await;
    let r = late
        .send(
            Method::POST,
            "/auth/v1/second-factor",
            Some(json!({"recoveryCode": recovery[6]})),
            &[],
        )
        .await;
    assert_error(&r, 429, "tooManyAttempts");

    // Fifty guesses at once for Noa: at most five passwords are checked.
    let noa = s.create_user("Noa", "noa@consulate.example", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.req(
        Method::PUT,
        &format!("/admin/v1/users/{noa}/password"),
        Some(json!({"password": "noa's own long passphrase"})),
    )
    .await;
    let before = s.get("/v1.0/auditLogs/directoryAudits?$top=999&$filter=activityDisplayName eq 'Attempt sign-in with password'").await.body["value"].as_array().unwrap().len();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (http, url, barrier) = (
            reqwest::Client::new(),
            format!("{}/auth/v1/password", s.base),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            http.post(url).json(&json!({"userName": "noa@consulate.example", "password": format!("guess number {i:04}")})).send().await.unwrap().status().as_u16()
        }));
    }
    let mut limited = 0;
    for t in tasks {
        if t.await.unwrap() == 429 {
            limited += 1;
        }
    }
    let after = s.get("/v1.0/auditLogs/directoryAudits?$top=999&$filter=activityDisplayName eq 'Attempt sign-in with password'").await.body["value"].as_array().unwrap().len();
    assert!(after - before <= 5, "{} passwords checked", after - before);
    assert!(limited >= 45, "{limited} refused for coming too soon");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_and_authenticator_sqlite() {
    password_and_authenticator(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_and_authenticator_postgres() {
    password_and_authenticator(Backend::Postgres).await;
}

/// The administrator created on first start gets a password from the CLI and signs in with
/// it; the session carries the administrator's roles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_admin_signs_in_with_a_password_set_by_the_cli() {
    use tokio::io::AsyncWriteExt as _;
    let s = TestServer::sqlite().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_consulate"))
        .args([
            "admin",
            "password",
            "--database",
            &s.database,
            "--user",
            "admin@consulate.example",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"the administrator's passphrase\n")
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut b = Browser::new(&s);
    let r = b
        .send(
            Method::POST,
            "/auth/v1/password",
            Some(json!({"userName": "admin@consulate.example", "password": "the administrator's passphrase"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = b
        .get("/v1.0/identityGovernance/entitlementManagement/catalogs")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let audit = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Set user password'")
        .await;
    assert_eq!(
        audit.body["value"].as_array().unwrap().len(),
        1,
        "{}",
        audit.text
    );
    s.stop().await;
}
