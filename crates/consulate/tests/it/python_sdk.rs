//! The official Python SDK (`msgraph-sdk`) drives every connected-organization operation
//! against a real server (`tests/python/sdk_compat.py`). The venv comes from
//! `scripts/python-env.sh` (CONSULATE_PYTHON when the test runner prepared it already).

use crate::harness::TestServer;

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

async fn python() -> String {
    if let Ok(p) = std::env::var("CONSULATE_PYTHON")
        && !p.is_empty()
    {
        return p;
    }
    let out = tokio::process::Command::new(repo_root().join("scripts/python-env.sh"))
        .output()
        .await
        .expect("run scripts/python-env.sh");
    assert!(
        out.status.success(),
        "scripts/python-env.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("python path")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgraph_sdk_drives_connected_organizations_catalogs_packages_and_policies() {
    let py = python().await;
    let s = TestServer::sqlite().await;
    let member = s
        .create_user("Mia Member", "mia@consulate.example", false)
        .await;
    let guest = s
        .create_user("Gus Guest", "gus_partner.com#EXT#@consulate.example", true)
        .await;
    let out = tokio::process::Command::new(&py)
        .arg(repo_root().join("tests/python/sdk_compat.py"))
        .args([
            "--base-url",
            &format!("{}/v1.0", s.base),
            "--token",
            &s.token,
        ])
        .args([
            "--member-id",
            member["id"].as_str().unwrap(),
            "--guest-id",
            guest["id"].as_str().unwrap(),
        ])
        .output()
        .await
        .expect("run sdk_compat.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "sdk_compat.py failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("checks passed"), "{stdout}");
    assert!(stdout.contains("check_catalogs:"), "{stdout}");
    assert!(stdout.contains("check_packages_and_policies:"), "{stdout}");
    s.stop().await;
}
