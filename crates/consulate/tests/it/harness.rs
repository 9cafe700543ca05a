//! A server per test, and a small HTTP client.

use consulate::server::{Running, ServerConfig, start};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};

pub const ORGS: &str = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir() -> TempDir {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "consulate-it-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir)
}

/// The PostgreSQL server for tests (required unless `CONSULATE_TEST_PG=off`).
pub fn pg_url() -> Option<String> {
    match std::env::var("CONSULATE_TEST_PG") {
        Ok(v) if v == "off" => None,
        Ok(v) if !v.is_empty() => Some(v),
        _ => Some("postgres://postgres@127.0.0.1:5432/test".into()),
    }
}

pub struct TestServer {
    pub running: Option<Running>,
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
    pub database: String,
    /// The PostgreSQL schema of this server's tables (`None` on SQLite).
    pub pg_schema: Option<String>,
    _dir: TempDir,
}

/// A response: status and JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl TestServer {
    /// `None` only for PostgreSQL explicitly switched off.
    pub async fn start(backend: Backend) -> Option<TestServer> {
        Self::start_with(backend, |_| {}).await
    }

    /// Like [`Self::start`], with the configuration adjusted first (mail relay, limits).
    pub async fn start_with(
        backend: Backend,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Option<TestServer> {
        let dir = temp_dir();
        let mut cfg = match backend {
            Backend::Sqlite => ServerConfig::new(
                dir.0.join("consulate.db").to_string_lossy().to_string(),
                "127.0.0.1:0",
            ),
            Backend::Postgres => {
                let mut c = ServerConfig::new(pg_url()?, "127.0.0.1:0");
                c.pg_schema = Some(format!("t_{}", uuid::Uuid::now_v7().simple()));
                c.max_connections = 4;
                c
            }
        };
        cfg.tenant_domain = "consulate.example".into();
        adjust(&mut cfg);
        let database = cfg.database.clone();
        let pg_schema = cfg.pg_schema.clone();
        let running = start(cfg).await.unwrap_or_else(|e| panic!("server start on {backend:?} (PostgreSQL is required unless CONSULATE_TEST_PG=off): {e:#}"));
        let token = running
            .bootstrap
            .as_ref()
            .expect("first start bootstraps")
            .secret
            .clone();
        let _ = rustls::crypto::ring::default_provider().install_default();
        Some(TestServer {
            base: running.public_url.clone(),
            running: Some(running),
            token,
            http: reqwest::Client::new(),
            database,
            pg_schema,
            _dir: dir,
        })
    }

    pub async fn sqlite() -> TestServer {
        Self::start(Backend::Sqlite).await.expect("sqlite server")
    }

    pub async fn req_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut r = self.http.request(method, url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn req(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.req_with(method, path, body, Some(&self.token.clone()))
            .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.req(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.req(Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.req(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.req(Method::DELETE, path, None).await
    }

    /// Creates a connected organization for an email domain; returns its JSON.
    pub async fn create_domain_org(&self, name: &str, domain: &str) -> Value {
        let r = self.post(ORGS, json!({"displayName": name, "identitySources": [{"@odata.type": "#microsoft.graph.domainIdentitySource", "domainName": domain, "displayName": domain}]})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    pub async fn create_user(&self, name: &str, upn: &str, guest: bool) -> Value {
        let mut body = json!({"displayName": name, "userPrincipalName": upn});
        if guest {
            body["userType"] = json!("Guest");
        }
        let r = self.post("/v1.0/users", body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// The running server's application (for what tests set up in-process).
    pub fn running_app(&self) -> consulate_app::App {
        self.running.as_ref().expect("running").app.clone()
    }

    /// A token acting for the user `upn` (made in-process, so it works on every backend).
    pub async fn delegated_token(
        &self,
        upn: &str,
        scopes: &[consulate_core::access::Scope],
    ) -> String {
        let app = &self.running.as_ref().expect("running").app;
        let user = app
            .store
            .find_user(upn)
            .await
            .unwrap()
            .expect("the user exists");
        app.create_token(
            &consulate_core::access::Caller::system(),
            upn,
            scopes.iter().copied().collect(),
            Some(user.id),
            None,
        )
        .await
        .unwrap()
        .secret
    }

    /// Number of audit events (all pages).
    pub async fn audit_count(&self) -> usize {
        let mut n = 0;
        let mut next = Some("/v1.0/auditLogs/directoryAudits?$top=999".to_owned());
        while let Some(p) = next {
            let r = self.get(&p).await;
            assert_eq!(r.status, 200, "{}", r.text);
            n += r.body["value"].as_array().map(Vec::len).unwrap_or(0);
            next = r.body["@odata.nextLink"].as_str().map(str::to_owned);
        }
        n
    }

    pub async fn stop(self) {
        drop(self.stop_keeping_files().await);
    }

    /// Stops the server but keeps its directory (and SQLite file) until the guard drops.
    pub async fn stop_keeping_files(mut self) -> TempDir {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
        std::mem::replace(&mut self._dir, TempDir(std::path::PathBuf::new()))
    }
}

/// Asserts a Graph error shape with the given status and code.
pub fn assert_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.body["error"]["code"], code, "body: {}", r.text);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "message missing: {}",
        r.text
    );
    assert!(
        r.body["error"]["innerError"]["request-id"].is_string(),
        "request-id missing: {}",
        r.text
    );
}
