use crate::both;
use crate::organizations::{insert, org};
use crate::support::event;
use consulate_core::audit::ChainError;
use consulate_store::audit::ChainStatus;
use consulate_store::sql::Sql;
use consulate_store::{Backend, Store};

async fn seed(store: &Store, n: usize) {
    for i in 0..n {
        insert(
            store,
            &org(&format!("Org {i}"), &format!("o{i}.example.com")),
        )
        .await;
    }
}

async fn drop_guards(store: &Store) {
    let sql = match store.backend() {
        Backend::Sqlite => vec![
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ],
        Backend::Postgres => vec!["DROP TRIGGER audit_events_no_update ON audit_events"],
    };
    for s in sql {
        store.execute_bookkeeping(&Sql::new(s)).await.unwrap();
    }
}

async fn intact_chain(store: Store) {
    seed(&store, 5).await;
    match store.verify_audit_chain().await.unwrap() {
        ChainStatus::Intact { events, .. } => assert_eq!(events, 5),
        other => panic!("{other:?}"),
    }
    let page = store.list_audit_events(None, 2, None).await.unwrap();
    assert_eq!(
        page.events.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![5, 4]
    );
    let next = store
        .list_audit_events(None, 2, page.next_before)
        .await
        .unwrap();
    assert_eq!(
        next.events.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![3, 2]
    );
}
both!(chain_verifies_and_pages, intact_chain);

async fn append_only(store: Store) {
    seed(&store, 2).await;
    assert!(
        store
            .execute_bookkeeping(&Sql::new(
                "UPDATE audit_events SET activity = 'x' WHERE sequence = 1"
            ))
            .await
            .is_err()
    );
    assert!(
        store
            .execute_bookkeeping(&Sql::new("DELETE FROM audit_events WHERE sequence = 1"))
            .await
            .is_err()
    );
}
both!(audit_rows_refuse_update_and_delete, append_only);

async fn edit_detected(store: Store) {
    seed(&store, 4).await;
    drop_guards(&store).await;
    store.execute_bookkeeping(&Sql::new("UPDATE audit_events SET canonical = REPLACE(canonical, 'create', 'CREATE') WHERE sequence = 3")).await.unwrap();
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        ChainStatus::Broken(ChainError::Tampered { sequence: 3 })
    );
}
both!(edited_event_is_detected, edit_detected);

async fn deletion_detected(store: Store) {
    seed(&store, 4).await;
    drop_guards(&store).await;
    store
        .execute_bookkeeping(&Sql::new(
            "DELETE FROM audit_event_targets WHERE sequence = 2",
        ))
        .await
        .unwrap();
    store
        .execute_bookkeeping(&Sql::new("DELETE FROM audit_events WHERE sequence = 2"))
        .await
        .unwrap();
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        ChainStatus::Broken(ChainError::Gap {
            sequence: 3,
            expected: 2
        })
    );
}
both!(deleted_event_is_detected, deletion_detected);

async fn truncation_detected(store: Store) {
    seed(&store, 4).await;
    drop_guards(&store).await;
    store
        .execute_bookkeeping(&Sql::new(
            "DELETE FROM audit_event_targets WHERE sequence = 4",
        ))
        .await
        .unwrap();
    store
        .execute_bookkeeping(&Sql::new("DELETE FROM audit_events WHERE sequence = 4"))
        .await
        .unwrap();
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        ChainStatus::HeadMismatch {
            chain_end: 3,
            head_sequence: 4
        }
    );
}
both!(truncated_tail_is_detected, truncation_detected);

async fn no_unaudited_commit(store: Store) {
    let o = org("Contoso", "contoso.com");
    let mut tx = store.begin().await.unwrap();
    tx.insert_connected_organization(&o).await.unwrap();
    assert!(
        tx.commit(&[]).await.is_err(),
        "a change without an audit event must not commit"
    );
    // Dropping a transaction rolls everything back.
    let mut tx = store.begin().await.unwrap();
    tx.insert_connected_organization(&o).await.unwrap();
    drop(tx);
    assert!(store.connected_organization(o.id).await.is_err());
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        ChainStatus::Intact {
            events: 0,
            head_hash: consulate_core::audit::GENESIS_HASH.into()
        }
    );
    // Log-injection text is stored verbatim and escaped in the canonical JSON.
    let mut tx = store.begin().await.unwrap();
    tx.insert_connected_organization(&o).await.unwrap();
    tx.commit(&[event("line\r\nbreak \u{1b}[31m\"}", "x")])
        .await
        .unwrap();
    let page = store.list_audit_events(None, 1, None).await.unwrap();
    assert_eq!(
        page.events[0].1.activity_display_name,
        "line\r\nbreak \u{1b}[31m\"}"
    );
    assert!(matches!(
        store.verify_audit_chain().await.unwrap(),
        ChainStatus::Intact { events: 1, .. }
    ));
}
both!(changes_commit_only_with_audit, no_unaudited_commit);
