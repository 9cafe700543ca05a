use crate::harness::TestServer;
use crate::tokens::consulate;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_org_commands_over_the_api() {
    let s = TestServer::sqlite().await;
    let alice = s
        .create_user("Alice", "alice@consulate.example", false)
        .await;
    let srv = ["--server", s.base.as_str(), "--token", s.token.as_str()];
    let run = |args: Vec<&str>| {
        let mut all: Vec<String> = vec!["connected-org".into()];
        all.extend(srv.iter().map(|x| x.to_string()));
        all.extend(args.into_iter().map(str::to_owned));
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            consulate(&refs).await
        }
    };
    let (code, out, err) = run(vec![
        "--json",
        "add",
        "--name",
        "Contoso",
        "--domain",
        "contoso.com",
        "--description",
        "supplier",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let org: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = org["id"].as_str().unwrap().to_owned();
    let (code, out, _) = run(vec![
        "add",
        "--name",
        "Woodgrove",
        "--tenant-id",
        "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01",
    ])
    .await;
    assert_eq!(code, 0);
    assert!(
        out.contains("Woodgrove") && out.contains("tenant 0ab4f2b5"),
        "{out}"
    );
    // Errors come back readable, with a non-zero exit.
    let (code, _, err) = run(vec!["add", "--name", "Dup", "--domain", "contoso.com"]).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("409 conflict") && err.contains("contoso.com"),
        "{err}"
    );
    // Table output and search by name.
    let (code, out, _) = run(vec!["list", "--search", "wood"]).await;
    assert_eq!(code, 0);
    assert!(
        out.starts_with("ID") && out.contains("Woodgrove") && !out.contains("Contoso"),
        "{out}"
    );
    let (code, out, _) = run(vec!["--json", "list", "--all", "--top", "1"]).await;
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Update, sponsors, show.
    let (code, _, err) = run(vec!["update", &id, "--state", "proposed"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(vec![
        "sponsor",
        "add",
        &id,
        "--side",
        "internal",
        "--user",
        alice["id"].as_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(vec!["--json", "show", &id]).await;
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["state"], "proposed");
    assert_eq!(shown["internalSponsors"][0]["displayName"], "Alice");
    let (code, _, _) = run(vec![
        "sponsor",
        "remove",
        &id,
        "--side",
        "internal",
        "--user",
        alice["id"].as_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0);
    let (code, out, _) = run(vec!["delete", &id]).await;
    assert_eq!(code, 0);
    assert!(out.contains("deleted"));
    let (code, _, err) = run(vec!["show", &id]).await;
    assert_ne!(code, 0);
    assert!(err.contains("404 itemNotFound"), "{err}");
    // A wrong token is a clear error.
    let (code, _, err) = consulate(&[
        "connected-org",
        "--server",
        &s.base,
        "--token",
        "csl_wrong",
        "list",
    ])
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("401"), "{err}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_detects_tampering() {
    let s = TestServer::sqlite().await;
    s.create_domain_org("Contoso", "contoso.com").await;
    s.create_domain_org("Fabrikam", "fabrikam.com").await;
    let db = s.database.clone();
    let _files = s.stop_keeping_files().await;
    let (code, out, _) = consulate(&["audit", "verify", "--database", &db]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
    // Someone with file access edits an event behind the application's back.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET canonical = REPLACE(canonical, 'Fabrikam', 'Fabrikan') WHERE sequence = (SELECT MAX(sequence) FROM audit_events)",
    )
    .unwrap();
    drop(conn);
    let (code, out, _) = consulate(&["audit", "verify", "--database", &db]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("BROKEN") && out.contains("edited"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_bootstraps_once_and_stops_gracefully_on_sigterm() {
    let dir = crate::harness::temp_dir();
    let db = dir.0.join("c.db").to_string_lossy().to_string();
    let start = |log: &str| {
        let log = std::fs::File::create(dir.0.join(log)).unwrap();
        tokio::process::Command::new(env!("CARGO_BIN_EXE_consulate"))
            .args([
                "serve",
                "--database",
                &db,
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
            ])
            .stderr(log)
            .spawn()
            .unwrap()
    };
    let wait_for = |log: &str, needle: &str| {
        let path = dir.0.join(log);
        let needle = needle.to_owned();
        async move {
            for _ in 0..200 {
                if std::fs::read_to_string(&path)
                    .unwrap_or_default()
                    .contains(&needle)
                {
                    return std::fs::read_to_string(&path).unwrap();
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!(
                "{needle} not logged: {}",
                std::fs::read_to_string(&path).unwrap_or_default()
            );
        }
    };
    let mut child = start("1.log");
    let log = wait_for("1.log", "consulate is serving").await;
    assert!(
        log.contains("bootstrap API token") && log.contains("csl_"),
        "{log}"
    );
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("JSON log line expected ({e}): {line}"));
    }
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().await.unwrap();
    assert!(status.success(), "exit on SIGTERM: {status:?}");
    assert!(wait_for("1.log", "stopped").await.contains("draining"));
    // A second start finds the tenant and prints no new credential.
    let mut child = start("2.log");
    let log = wait_for("2.log", "consulate is serving").await;
    assert!(!log.contains("csl_"), "{log}");
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_commands_over_the_api() {
    let s = TestServer::sqlite().await;
    let srv = ["--server", s.base.as_str(), "--token", s.token.as_str()];
    let run = |args: Vec<&str>| {
        let mut all: Vec<String> = vec!["catalog".into()];
        all.extend(srv.iter().map(|x| x.to_string()));
        all.extend(args.into_iter().map(str::to_owned));
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            consulate(&refs).await
        }
    };
    let (code, out, err) = run(vec![
        "--json",
        "add",
        "--name",
        "Partner tools",
        "--internal-only",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(c["isExternallyVisible"], false);
    let id = c["id"].as_str().unwrap().to_owned();
    let (code, out, err) = run(vec![
        "update",
        &id,
        "--external",
        "true",
        "--state",
        "unpublished",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("unpublished") && out.contains("true"), "{out}");
    let (code, out, _) = run(vec!["list"]).await;
    assert_eq!(code, 0);
    assert!(
        out.starts_with("ID") && out.contains("General") && out.contains("Partner tools"),
        "{out}"
    );
    let (code, out, _) = run(vec!["list", "--search", "partner"]).await;
    assert_eq!(code, 0);
    assert!(!out.contains("General"), "{out}");
    // The General catalog cannot go; the error is readable.
    let general = out.lines().count();
    assert_eq!(general, 2, "{out}");
    let (_, out, _) = run(vec![
        "--json",
        "list",
        "--filter",
        "catalogType eq 'serviceDefault'",
    ])
    .await;
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let general_id = list[0]["id"].as_str().unwrap().to_owned();
    let (code, _, err) = run(vec!["delete", &general_id]).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("409 conflict") && err.contains("General"),
        "{err}"
    );
    let (code, out, err) = run(vec!["delete", &id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deleted"), "{out}");
    let (code, _, err) = run(vec!["show", &id]).await;
    assert_ne!(code, 0);
    assert!(err.contains("404"), "{err}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_and_policy_commands_follow_the_walkthrough() {
    let s = TestServer::sqlite().await;
    let run = |cmd: &'static str, args: Vec<String>| {
        let mut all: Vec<String> = vec![
            cmd.into(),
            "--server".into(),
            s.base.clone(),
            "--token".into(),
            s.token.clone(),
        ];
        all.extend(args);
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            consulate(&refs).await
        }
    };
    let json_of = |out: &str| -> serde_json::Value {
        serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    let (code, out, err) = run("catalog", v(&["--json", "add", "--name", "Consulting"])).await;
    assert_eq!(code, 0, "{err}");
    let cat = json_of(&out)["id"].as_str().unwrap().to_owned();
    let g = s
        .post(
            "/v1.0/groups",
            serde_json::json!({"displayName": "Consultants", "mailNickname": "consultants"}),
        )
        .await;
    let group = g.body["id"].as_str().unwrap().to_owned();
    let (code, _, err) = run("catalog", v(&["add-resource", &cat, "--group", &group])).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        "catalog",
        v(&["add-resource", &cat, "--directory-role", "Global Reader"]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run("catalog", v(&["resources", &cat])).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("Consultants") && out.contains("Active Member"),
        "{out}"
    );
    let (_, out, _) = run("catalog", v(&["--json", "resources", &cat])).await;
    let resources = json_of(&out);
    let member_role = resources
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["originSystem"] == "AadGroup")
        .unwrap()["roles"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (code, out, err) = run(
        "package",
        v(&[
            "--json",
            "add",
            "--catalog",
            &cat,
            "--name",
            "Consulting Services",
        ]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let pkg = json_of(&out)["id"].as_str().unwrap().to_owned();
    let (code, out, err) = run("package", v(&["add-role", &pkg, "--role", &member_role])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Member of Consultants"), "{out}");

    let (code, out, err) = run(
        "connected-org",
        v(&[
            "--json",
            "add",
            "--name",
            "Contoso",
            "--domain",
            "contoso.com",
        ]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let org = json_of(&out)["id"].as_str().unwrap().to_owned();
    let (code, out, err) = run(
        "policy",
        v(&[
            "--json",
            "add",
            "--package",
            &pkg,
            "--name",
            "Contoso consultants",
            "--requestors",
            "orgs",
            "--org",
            &org,
            "--days",
            "365",
            "--justification",
        ]),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let policy = json_of(&out);
    assert_eq!(policy["expiration"]["duration"], "P365D");
    assert_eq!(
        policy["requestApprovalSettings"]["isRequestorJustificationRequired"],
        true
    );
    let policy_id = policy["id"].as_str().unwrap().to_owned();

    let (code, out, _) = run("package", v(&["show", &pkg])).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("Consultants")
            && out.contains("Contoso consultants")
            && out.contains("specificConnectedOrganizationUsers"),
        "{out}"
    );
    let (code, out, _) = run("policy", v(&["list", "--package", &pkg])).await;
    assert_eq!(code, 0);
    assert!(out.contains("P365D") && out.contains("none"), "{out}");

    // Replace from a file: now approved by the organization's sponsors.
    let (_, out, _) = run("policy", v(&["show", &policy_id])).await;
    let mut body = json_of(&out);
    body["requestApprovalSettings"] = serde_json::json!({"isApprovalRequiredForAdd": true, "stages": [{"primaryApprovers": [{"@odata.type": "#microsoft.graph.internalSponsors"}]}]});
    body["accessPackage"] = serde_json::json!({"id": pkg});
    let dir = crate::harness::temp_dir();
    let file = dir.0.join("policy.json");
    std::fs::write(&file, body.to_string()).unwrap();
    let (code, out, err) = run(
        "policy",
        vec![
            "replace".into(),
            policy_id.clone(),
            "--file".into(),
            file.to_string_lossy().into_owned(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 stage(s)"), "{out}");
    // Errors are readable and exit non-zero.
    let (code, _, err) = run("package", v(&["delete", &pkg])).await;
    assert_ne!(code, 0);
    assert!(err.contains("409 conflict"), "{err}");

    let (code, _, err) = run("policy", v(&["delete", &policy_id])).await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run("package", v(&["delete", &pkg])).await;
    assert_eq!(code, 0, "{err}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_provider_commands_over_the_api() {
    let s = TestServer::sqlite().await;
    let run = |args: Vec<String>| {
        let mut all: Vec<String> = vec![
            "idp".into(),
            "--server".into(),
            s.base.clone(),
            "--token".into(),
            s.token.clone(),
        ];
        all.extend(args);
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            consulate(&refs).await
        }
    };
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let issuer = "https://idp.fabrikam.example/";

    // A federation for two domains; stdout is the new id alone.
    let (code, out, err) = run(v(&[
        "add",
        "--name",
        "Fabrikam",
        "--issuer",
        issuer,
        "--domain",
        "fabrikam.example",
        "--domain",
        "fabrikam-labs.example",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_owned();
    let uuid = uuid::Uuid::parse_str(&id).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(err.contains("federation"), "{err}");
    let tenant = "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01";
    // A partner tenant, under the command's full name and with the server from the environment.
    let (code, _, err) = consulate(&[
        "identity-provider",
        "--server",
        &s.base,
        "--token",
        &s.token,
        "add",
        "--name",
        "Woodgrove",
        "--tenant-id",
        tenant,
        "--domain",
        "woodgrove.example",
    ])
    .await;
    assert_eq!(code, 0, "{err}");

    // Listed as a table and as JSON.
    let (code, out, err) = run(v(&["list"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("ID") && out.contains("TENANT / ISSUER"),
        "{out}"
    );
    let row = out.lines().find(|l| l.starts_with(&id)).expect(&out);
    assert!(
        row.contains("Fabrikam")
            && row.contains("federation")
            && row.contains(issuer)
            && row.contains("fabrikam.example")
            && row.contains("fabrikam-labs.example"),
        "{out}"
    );
    let row = out.lines().find(|l| l.contains("Woodgrove")).expect(&out);
    assert!(row.contains("tenant") && row.contains(tenant), "{out}");
    let (code, out, err) = run(v(&["list", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let fab = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id.as_str())
        .expect(&out);
    assert_eq!(fab["kind"], "federation");
    assert_eq!(fab["issuerUri"], issuer);
    let mut domains: Vec<&str> = fab["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    domains.sort_unstable();
    assert_eq!(domains, ["fabrikam-labs.example", "fabrikam.example"]);

    // Sign-in, the secret read from a file (its line ending dropped) and never echoed.
    let secret = "fabrikam-client-secret-7f3a";
    let dir = crate::harness::temp_dir();
    let file = dir.0.join("client-secret");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let (code, out, err) = run(vec![
        "sign-in".into(),
        id.clone(),
        "--client-id".into(),
        "consulate".into(),
        "--client-secret-file".into(),
        file.to_string_lossy().into_owned(),
        "--allowed-tenant".into(),
        tenant.into(),
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sign-in configured"), "{out}");
    assert!(!out.contains(secret) && !err.contains(secret));
    let client = s
        .running_app()
        .store
        .provider_client(uuid)
        .await
        .unwrap()
        .expect("sign-in configured");
    assert_eq!(client.client_id, "consulate");
    assert_eq!(client.client_secret, secret);
    assert_eq!(client.allowed_tenants, vec![tenant.to_owned()]);

    // The domains now sign in through the federation.
    for d in ["fabrikam.example", "fabrikam-labs.example"] {
        let r = s.get(&format!("/admin/v1/domainLookup?domain={d}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["authenticationType"], "federation", "{}", r.text);
        assert_eq!(r.body["issuerUri"], issuer);
    }

    // Removed: gone from the list, and the domains fall back to one-time passcodes.
    let (code, out, err) = run(v(&["remove", &id])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("removed"), "{out}");
    let (_, out, _) = run(v(&["list"])).await;
    assert!(!out.contains(&id) && out.contains("Woodgrove"), "{out}");
    let r = s
        .get("/admin/v1/domainLookup?domain=fabrikam.example")
        .await;
    assert_eq!(
        r.body["authenticationType"], "oneTimePasscode",
        "{}",
        r.text
    );

    // Errors: the server's message and a non-zero exit.
    let (code, _, err) = run(v(&["remove", &id])).await;
    assert_ne!(code, 0);
    assert!(err.contains("404") && err.contains(&id), "{err}");
    let (code, _, err) = run(v(&[
        "sign-in",
        &id,
        "--client-id",
        "consulate",
        "--client-secret-file",
        &file.to_string_lossy(),
    ]))
    .await;
    assert_ne!(code, 0);
    assert!(err.contains("404") && err.contains(&id), "{err}");
    // Usage errors, refused before any request.
    let (code, _, err) = run(v(&[
        "add",
        "--name",
        "Both",
        "--tenant-id",
        tenant,
        "--issuer",
        issuer,
        "--domain",
        "both.example",
    ]))
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = run(v(&["sign-in", &id, "--client-id", "consulate"])).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--client-secret-file"), "{err}");
    let (code, _, err) = run(v(&[
        "sign-in",
        &id,
        "--client-id",
        "consulate",
        "--client-secret-env",
        "CONSULATE_TEST_UNSET_SECRET",
    ]))
    .await;
    assert_ne!(code, 0);
    assert!(
        err.contains("CONSULATE_TEST_UNSET_SECRET is not set"),
        "{err}"
    );
    s.stop().await;
}
