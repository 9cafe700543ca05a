use crate::harness::{ORGS, TestServer, assert_error};
use reqwest::Method;
use serde_json::json;

/// Runs the `consulate` binary; returns (exit code, stdout, stderr).
pub async fn consulate(args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_consulate"))
        .args(args)
        .output()
        .await
        .expect("run consulate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn mint(s: &TestServer, extra: &[&str]) -> String {
    let mut args = vec!["admin", "token", "create", "--database", &s.database];
    args.extend_from_slice(extra);
    let (code, out, err) = consulate(&args).await;
    assert_eq!(code, 0, "{err}");
    let token = out.trim().to_owned();
    assert!(token.starts_with("csl_") && token.len() >= 47, "{token}");
    token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_tokens_are_scoped_listed_and_revocable() {
    let s = TestServer::sqlite().await;
    let reader = mint(
        &s,
        &[
            "--name",
            "reporting",
            "--scopes",
            "EntitlementManagement.Read.All",
        ],
    )
    .await;
    assert_eq!(
        s.req_with(Method::GET, ORGS, None, Some(&reader))
            .await
            .status,
        200
    );
    let body = json!({"displayName": "X", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "x.com"}]});
    assert_error(
        &s.req_with(Method::POST, ORGS, Some(body), Some(&reader))
            .await,
        403,
        "accessDenied",
    );
    assert_error(
        &s.req_with(Method::GET, "/v1.0/users", None, Some(&reader))
            .await,
        403,
        "accessDenied",
    );
    assert_error(
        &s.req_with(
            Method::GET,
            "/v1.0/auditLogs/directoryAudits",
            None,
            Some(&reader),
        )
        .await,
        403,
        "accessDenied",
    );
    // Bad scopes are refused by the CLI.
    let (code, _, err) = consulate(&[
        "admin",
        "token",
        "create",
        "--database",
        &s.database,
        "--name",
        "x",
        "--scopes",
        "Mail.Send",
    ])
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("Mail.Send"), "{err}");
    // Listed without secrets.
    let (code, out, _) = consulate(&[
        "admin",
        "token",
        "list",
        "--database",
        &s.database,
        "--json",
    ])
    .await;
    assert_eq!(code, 0);
    assert!(
        !out.contains(&reader) && !out.contains("csl_"),
        "secrets must never be listed"
    );
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "reporting")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Revoked tokens stop working at once.
    let (code, out, err) =
        consulate(&["admin", "token", "revoke", "--database", &s.database, &id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("revoked"));
    assert_error(
        &s.req_with(Method::GET, ORGS, None, Some(&reader)).await,
        401,
        "InvalidAuthenticationToken",
    );
    let (code, _, err) =
        consulate(&["admin", "token", "revoke", "--database", &s.database, &id]).await;
    assert_ne!(code, 0);
    assert!(err.contains("already revoked"), "{err}");
    // Minting and revoking are audited.
    let r = s
        .get("/v1.0/auditLogs/directoryAudits?$filter=category eq 'ApplicationManagement'")
        .await;
    let acts: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["activityDisplayName"].as_str().unwrap())
        .collect();
    assert!(
        acts.contains(&"Revoke API token") && acts.contains(&"Create API token"),
        "{acts:?}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_tokens_need_scope_and_role() {
    let s = TestServer::sqlite().await;
    // The bootstrap administrator holds Global Administrator.
    let admin = mint(
        &s,
        &[
            "--name",
            "script",
            "--scopes",
            "EntitlementManagement.ReadWrite.All",
            "--as-user",
            "admin@consulate.example",
        ],
    )
    .await;
    let body = json!({"displayName": "Contoso", "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": "contoso.com"}]});
    let r = s
        .req_with(Method::POST, ORGS, Some(body), Some(&admin))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let audit = s.get("/v1.0/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Create connected organization'").await;
    assert_eq!(
        audit.body["value"][0]["initiatedBy"]["user"]["userPrincipalName"],
        "admin@consulate.example"
    );
    // A user without an administrative role cannot, whatever the token's scopes.
    let u = s
        .create_user("Plain", "plain@consulate.example", false)
        .await;
    let plain = mint(
        &s,
        &[
            "--name",
            "plain",
            "--scopes",
            "EntitlementManagement.ReadWrite.All",
            "--as-user",
            "plain@consulate.example",
        ],
    )
    .await;
    assert_error(
        &s.req_with(Method::GET, ORGS, None, Some(&plain)).await,
        403,
        "accessDenied",
    );
    // Unknown users cannot get tokens.
    let (code, _, err) = consulate(&[
        "admin",
        "token",
        "create",
        "--database",
        &s.database,
        "--name",
        "x",
        "--scopes",
        "User.ReadWrite.All",
        "--as-user",
        "ghost@consulate.example",
    ])
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("ghost@consulate.example"), "{err}");
    // Blocking or deleting the user stops the token on the next request.
    let uid = u["id"].as_str().unwrap();
    let reader = mint(
        &s,
        &[
            "--name",
            "p2",
            "--scopes",
            "EntitlementManagement.Read.All",
            "--as-user",
            uid,
        ],
    )
    .await;
    assert_eq!(
        s.patch(
            &format!("/v1.0/users/{uid}"),
            json!({"accountEnabled": false})
        )
        .await
        .status,
        204
    );
    assert_error(
        &s.req_with(Method::GET, ORGS, None, Some(&reader)).await,
        401,
        "InvalidAuthenticationToken",
    );
    assert_eq!(s.delete(&format!("/v1.0/users/{uid}")).await.status, 204);
    assert_error(
        &s.req_with(Method::GET, ORGS, None, Some(&plain)).await,
        401,
        "InvalidAuthenticationToken",
    );
    s.stop().await;
}
