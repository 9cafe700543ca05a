//! Fresh stores for tests.

use consulate_core::access::Caller;
use consulate_core::audit::{AuditEvent, Category, TargetResource};
use consulate_store::{Store, StoreOptions};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir() -> TempDir {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "consulate-store-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    TempDir(dir)
}

pub async fn sqlite() -> (Store, TempDir) {
    let dir = temp_dir();
    let store = Store::open(&StoreOptions::new(
        dir.0.join("test.db").to_string_lossy().to_string(),
    ))
    .await
    .expect("open sqlite");
    (store, dir)
}

/// The PostgreSQL URL for tests, or `None` when explicitly switched off.
pub fn pg_url() -> Option<String> {
    match std::env::var("CONSULATE_TEST_PG") {
        Ok(v) if v == "off" => None,
        Ok(v) if !v.is_empty() => Some(v),
        _ => Some("postgres://postgres@127.0.0.1:5432/test".into()),
    }
}

/// A unique schema name.
pub fn schema() -> String {
    format!("t_{}", uuid::Uuid::now_v7().simple())
}

pub fn pg_options(url: &str, schema: &str) -> StoreOptions {
    let mut o = StoreOptions::new(url);
    o.pg_schema = Some(schema.to_owned());
    o.max_connections = 4;
    o
}

pub async fn postgres() -> Option<Store> {
    let url = pg_url()?;
    let s = schema();
    Some(Store::open(&pg_options(&url, &s)).await.unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for this test (set CONSULATE_TEST_PG=off to opt out explicitly): {e}")))
}

pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(jiff::Timestamp::now().as_microsecond()).unwrap()
}

pub fn event(activity: &str, target: &str) -> AuditEvent {
    AuditEvent::success(
        uuid::Uuid::now_v7(),
        now(),
        &Caller::system(),
        Category::DirectoryManagement,
        activity,
        "test",
        TargetResource {
            id: target.into(),
            display_name: None,
            kind: "test".into(),
            modified_properties: vec![],
        },
    )
}
