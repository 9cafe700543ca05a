//! Store conformance: every test runs against SQLite (a real file) and PostgreSQL (a fresh
//! schema on the server named by `CONSULATE_TEST_PG`, default
//! `postgres://postgres@127.0.0.1:5432/test`). PostgreSQL is required: when it is unreachable
//! these tests fail. `CONSULATE_TEST_PG=off` is the explicit opt-out for machines without it.

mod access_packages;
mod audit;
mod catalogs;
mod concurrency;
mod directory;
mod migrations;
mod organizations;
mod resources;
mod support;

/// Instantiates an async test for both backends: `both!(name, async_fn)` where
/// `async_fn(Store)`.
#[macro_export]
macro_rules! both {
    ($name:ident, $f:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (store, _guard) = $crate::support::sqlite().await;
                super::$f(store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(store) = $crate::support::postgres().await {
                    super::$f(store).await;
                }
            }
        }
    };
}
