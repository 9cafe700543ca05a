//! A real OpenID Connect provider for tests: the npm `oidc-provider` package on loopback
//! (`tests/oidc-provider/provider.js`), installed with `npm ci` on first use.

use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

pub struct OidcProvider {
    pub issuer: String,
    child: tokio::process::Child,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

static INSTALL: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

async fn install() {
    INSTALL
        .get_or_init(|| async {
            if dir().join("node_modules/oidc-provider").exists() {
                return;
            }
            let out = tokio::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(dir())
                .output()
                .await
                .expect("npm (Node.js) is needed for the sign-in tests");
            assert!(
                out.status.success(),
                "npm ci failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        })
        .await;
}

impl OidcProvider {
    /// Starts a provider with these clients and accounts (account id -> claims), on a free
    /// port.
    pub async fn start(clients: &Value, accounts: &Value) -> OidcProvider {
        Self::start_on(0, clients, accounts).await
    }

    /// Starts a provider on `port` (0: a free one). Each start signs with a new key, so a
    /// provider started again on the port of a stopped one is the same issuer with rotated
    /// keys.
    pub async fn start_on(port: u16, clients: &Value, accounts: &Value) -> OidcProvider {
        install().await;
        let mut child = tokio::process::Command::new("node")
            .arg("provider.js")
            .current_dir(dir())
            .env("PORT", port.to_string())
            .env("CLIENTS", clients.to_string())
            .env("ACCOUNTS", accounts.to_string())
            .stdout(Stdio::piped())
            .stderr(if std::env::var("TRACE_PROVIDER").is_ok() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true)
            .spawn()
            .expect("node");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Ok(Some(l)) = lines.next_line().await {
                if let Some(i) = l.strip_prefix("issuer ") {
                    return i.to_owned();
                }
            }
            panic!("the provider did not start");
        })
        .await
        .expect("the provider starts within 30 s");
        // Keep reading its output: a closed pipe would end the provider at its next line.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        OidcProvider { issuer, child }
    }

    /// The port the provider listens on.
    pub fn port(&self) -> u16 {
        self.issuer
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .expect("the issuer names a port")
    }

    /// Ends the provider and waits until it has exited (its port is free again).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}
