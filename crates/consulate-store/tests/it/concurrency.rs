use crate::both;
use crate::organizations::org;
use crate::support::event;
use consulate_store::Store;
use consulate_store::audit::ChainStatus;
use consulate_store::list::ListQuery;

async fn parallel_writers(store: Store) {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                let o = org(&format!("W{w} #{i}"), &format!("w{w}-{i}.example.com"));
                let mut tx = store.begin().await.unwrap();
                tx.insert_connected_organization(&o).await.unwrap();
                tx.commit(&[event("create", &o.id.to_string())])
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let page = store
        .list_connected_organizations(&ListQuery::<consulate_core::filter::OrganizationField> {
            count: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.count, Some(120));
    match store.verify_audit_chain().await.unwrap() {
        ChainStatus::Intact { events, .. } => assert_eq!(events, 120),
        other => panic!("{other:?}"),
    }
}
both!(parallel_writers_keep_one_chain, parallel_writers);

async fn racing_duplicates(store: Store) {
    // Eight writers race to claim the same domain: exactly one wins.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let o = org(&format!("Racer {w}"), "contested.example.com");
            let mut tx = store.begin().await.unwrap();
            match tx.insert_connected_organization(&o).await {
                Ok(()) => tx.commit(&[event("create", "x")]).await.is_ok(),
                Err(_) => false,
            }
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}
both!(one_winner_for_a_contested_domain, racing_duplicates);

async fn committed_and_abandoned_jobs_share_batches(store: Store) {
    // Forty writers at once: even ones commit, odd ones write and then give up. Batches mix
    // both; only the committed work (and its audit) survives, also after reopening.
    let mut tasks = Vec::new();
    for w in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let o = org(&format!("Mixed {w}"), &format!("mixed{w}.example.com"));
            let mut tx = store.begin().await.unwrap();
            tx.insert_connected_organization(&o).await.unwrap();
            if w % 2 == 0 {
                tx.commit(&[event("create", &o.id.to_string())])
                    .await
                    .unwrap();
                Some(o.id)
            } else {
                drop(tx);
                None
            }
        }));
    }
    let mut committed = Vec::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            committed.push(id);
        }
    }
    assert_eq!(committed.len(), 20);
    let count = |s: Store| async move {
        s.list_connected_organizations(&ListQuery::<consulate_core::filter::OrganizationField> {
            count: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .count
    };
    assert_eq!(count(store.clone()).await, Some(20));
    for id in &committed {
        store.connected_organization(*id).await.unwrap();
    }
    match store.verify_audit_chain().await.unwrap() {
        ChainStatus::Intact { events, .. } => assert_eq!(events, 20),
        other => panic!("{other:?}"),
    }
}
both!(
    committed_and_abandoned_jobs_share_batches_ok,
    committed_and_abandoned_jobs_share_batches
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_committed_writes_survive_reopening() {
    let (store, dir) = crate::support::sqlite().await;
    let mut tasks = Vec::new();
    for w in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let o = org(&format!("Durable {w}"), &format!("durable{w}.example.com"));
            let mut tx = store.begin().await.unwrap();
            tx.insert_connected_organization(&o).await.unwrap();
            tx.commit(&[event("create", &o.id.to_string())])
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    store.close().await;
    let reopened = Store::open(&consulate_store::StoreOptions::new(
        dir.0.join("test.db").to_string_lossy().to_string(),
    ))
    .await
    .unwrap();
    let page = reopened
        .list_connected_organizations(&ListQuery::<consulate_core::filter::OrganizationField> {
            count: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.count, Some(32));
    assert!(matches!(
        reopened.verify_audit_chain().await.unwrap(),
        ChainStatus::Intact { events: 32, .. }
    ));
}
