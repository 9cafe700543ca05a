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

async fn failed_commits_leave_the_chain_whole(store: Store) {
    // Writers share batches; every third one fails at its commit (its audit event reuses an
    // id already in the chain), which undoes that writer's work only. The others' events
    // follow each other in one unbroken chain.
    let taken = event("create", "first");
    let first = org("First", "first.example.com");
    let mut tx = store.begin().await.unwrap();
    tx.insert_connected_organization(&first).await.unwrap();
    tx.commit(std::slice::from_ref(&taken)).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..24 {
        let (store, taken) = (store.clone(), taken.clone());
        tasks.push(tokio::spawn(async move {
            let o = org(&format!("Chain {w}"), &format!("chain{w}.example.com"));
            let mut tx = store.begin().await.unwrap();
            tx.insert_connected_organization(&o).await.unwrap();
            let e = if w % 3 == 0 {
                taken
            } else {
                event("create", &o.id.to_string())
            };
            (o.id, tx.commit(&[e]).await.is_ok())
        }));
    }
    let mut committed = 0;
    for t in tasks {
        let (id, ok) = t.await.unwrap();
        assert_eq!(store.connected_organization(id).await.is_ok(), ok);
        committed += usize::from(ok);
    }
    assert_eq!(committed, 16);
    match store.verify_audit_chain().await.unwrap() {
        ChainStatus::Intact { events, .. } => assert_eq!(events, 17),
        other => panic!("{other:?}"),
    }
}
both!(
    failed_commits_leave_the_chain_whole_ok,
    failed_commits_leave_the_chain_whole
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_file_keep_one_chain() {
    // A second store on the same file (as `consulate admin …` opens it while the server runs)
    // writes between and during the first one's batches.
    let (store, dir) = crate::support::sqlite().await;
    let other = Store::open(&consulate_store::StoreOptions::new(
        dir.0.join("test.db").to_string_lossy().to_string(),
    ))
    .await
    .unwrap();
    let write = |store: Store, name: String| async move {
        let o = org(&name, &format!("{}.example.com", name.to_lowercase()));
        let mut tx = store.begin().await.unwrap();
        tx.insert_connected_organization(&o).await.unwrap();
        tx.commit(&[event("create", &o.id.to_string())])
            .await
            .unwrap();
    };
    // Taking turns: each sees the other's events as the chain's head.
    for i in 0..10 {
        write(store.clone(), format!("First{i}")).await;
        write(other.clone(), format!("Second{i}")).await;
    }
    // And at once.
    let mut tasks = Vec::new();
    for w in 0..16 {
        let store = if w % 4 == 0 {
            other.clone()
        } else {
            store.clone()
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..5 {
                let o = org(&format!("P{w} #{i}"), &format!("p{w}-{i}.example.com"));
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
    match store.verify_audit_chain().await.unwrap() {
        ChainStatus::Intact { events, .. } => assert_eq!(events, 100),
        other => panic!("{other:?}"),
    }
}
