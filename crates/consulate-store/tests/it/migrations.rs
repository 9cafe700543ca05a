use crate::support::{pg_options, pg_url, schema, sqlite};
use consulate_store::Store;
use consulate_store::sql::Sql;

#[tokio::test]
async fn sqlite_migrations_are_idempotent() {
    let (store, dir) = sqlite().await;
    store.close().await;
    let path = dir.0.join("test.db").to_string_lossy().to_string();
    let again = Store::open(&consulate_store::StoreOptions::new(path))
        .await
        .unwrap();
    let n = again
        .fetch_optional(&Sql::new("SELECT COUNT(*) AS n FROM _sqlx_migrations"))
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap();
    assert_eq!(
        n,
        consulate_store::MIGRATION_COUNT as i64,
        "every embedded migration is applied once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    let Some(url) = pg_url() else { return };
    let s = schema();
    let opens: Vec<_> = (0..6)
        .map(|_| {
            let o = pg_options(&url, &s);
            tokio::spawn(async move { Store::open(&o).await })
        })
        .collect();
    let mut stores = Vec::new();
    for o in opens {
        stores.push(o.await.unwrap().expect("every replica starts"));
    }
    let n = stores[0]
        .fetch_optional(&Sql::new("SELECT COUNT(*) AS n FROM _sqlx_migrations"))
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap();
    assert_eq!(
        n,
        consulate_store::MIGRATION_COUNT as i64,
        "every embedded migration is applied once"
    );
    let head = stores[0]
        .fetch_optional(&Sql::new("SELECT COUNT(*) AS n FROM audit_chain_head"))
        .await
        .unwrap()
        .unwrap()
        .int("n")
        .unwrap();
    assert_eq!(head, 1);
}

#[tokio::test]
async fn bad_database_urls_are_clear_errors() {
    let err = Store::open(&consulate_store::StoreOptions::new("sqlite::memory:"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a SQLite database file path"),
        "{err}"
    );
    let err = Store::open(&consulate_store::StoreOptions::new(
        "postgres://nobody@127.0.0.1:1/none",
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("database error"), "{err}");
}
