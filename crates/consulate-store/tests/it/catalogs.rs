use crate::both;
use crate::support::{event, now};
use consulate_core::DomainError;
use consulate_core::catalog::{
    AccessPackageCatalog, CatalogState, CatalogType, NewCatalog, general_catalog,
};
use consulate_core::filter::{CatalogField as F, Compare, Filter, TextMatch, Value};
use consulate_store::list::{ListQuery, Order};
use consulate_store::{Store, StoreError};
use uuid::Uuid;

fn catalog(name: &str) -> AccessPackageCatalog {
    NewCatalog {
        display_name: name.into(),
        ..Default::default()
    }
    .into_catalog(Uuid::now_v7(), now())
    .unwrap()
}

async fn insert(store: &Store, c: &AccessPackageCatalog) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_catalog(c).await.unwrap();
    tx.commit(&[event("create", &c.id.to_string())])
        .await
        .unwrap();
}

async fn round_trip(store: Store) {
    let mut c = catalog("Marketing");
    c.description = "Campaign tools".into();
    c.state = CatalogState::Unpublished;
    c.is_externally_visible = false;
    insert(&store, &c).await;
    assert_eq!(store.catalog(c.id).await.unwrap(), c);
    assert!(matches!(
        store.catalog(Uuid::now_v7()).await,
        Err(StoreError::Domain(DomainError::NotFound { .. }))
    ));
}
both!(catalog_round_trip, round_trip);

async fn one_general_catalog(store: Store) {
    assert!(store.general_catalog().await.unwrap().is_none());
    let first = general_catalog(Uuid::now_v7(), now());
    let mut tx = store.begin().await.unwrap();
    assert!(tx.insert_general_catalog(&first).await.unwrap());
    tx.commit(&[event("create", "general")]).await.unwrap();
    // A second start (or a second replica) finds it and creates nothing.
    let mut tx = store.begin().await.unwrap();
    assert!(
        !tx.insert_general_catalog(&general_catalog(Uuid::now_v7(), now()))
            .await
            .unwrap()
    );
    drop(tx);
    let g = store.general_catalog().await.unwrap().unwrap();
    assert_eq!(g.id, first.id);
    assert_eq!(g.catalog_type, CatalogType::ServiceDefault);
    // Nor can a plain insert make a second serviceDefault catalog.
    let mut other = catalog("Another default");
    other.catalog_type = CatalogType::ServiceDefault;
    let mut tx = store.begin().await.unwrap();
    let failed = match tx.insert_catalog(&other).await {
        Err(_) => true,
        Ok(()) => tx.commit(&[event("create", "x")]).await.is_err(),
    };
    assert!(failed);
}
both!(one_general_catalog_per_tenant, one_general_catalog);

async fn lists_and_filters(store: Store) {
    for (name, visible) in [
        ("Sales", true),
        ("staff tools", false),
        ("Finance", true),
        ("Staffing", true),
    ] {
        let mut c = catalog(name);
        c.is_externally_visible = visible;
        insert(&store, &c).await;
    }
    let q = |filter: Filter<F>| ListQuery::<F> {
        filter: Some(filter),
        order: Order::DisplayName { descending: false },
        count: true,
        ..Default::default()
    };
    let names = |p: consulate_store::list::Page<AccessPackageCatalog>| {
        p.items
            .into_iter()
            .map(|c| c.display_name)
            .collect::<Vec<_>>()
    };
    let staff = store
        .list_catalogs(&q(Filter::Text {
            field: F::DisplayName,
            op: TextMatch::Contains,
            value: "STAFF".into(),
        }))
        .await
        .unwrap();
    assert_eq!(staff.count, Some(2));
    // Folded names order bytewise: "staff tools" before "staffing".
    assert_eq!(names(staff), vec!["staff tools", "Staffing"]);
    let internal = store
        .list_catalogs(&q(Filter::Compare {
            field: F::IsExternallyVisible,
            op: Compare::Eq,
            value: Value::Bool(false),
        }))
        .await
        .unwrap();
    assert_eq!(names(internal), vec!["staff tools"]);
    let managed = store
        .list_catalogs(&q(Filter::Compare {
            field: F::CatalogType,
            op: Compare::Eq,
            value: Value::String("usermanaged".into()),
        }))
        .await
        .unwrap();
    assert_eq!(managed.count, Some(4));
    // Paging in name order.
    let mut page = ListQuery::<F> {
        order: Order::DisplayName { descending: false },
        top: 3,
        ..Default::default()
    };
    let first = store.list_catalogs(&page).await.unwrap();
    assert_eq!(
        names(first.clone()),
        vec!["Finance", "Sales", "staff tools"]
    );
    page.after = first.next;
    assert_eq!(
        names(store.list_catalogs(&page).await.unwrap()),
        vec!["Staffing"]
    );
}
both!(catalog_lists_and_filters, lists_and_filters);

async fn conditional_updates_and_deletes(store: Store) {
    let c = catalog("Engineering");
    insert(&store, &c).await;
    let mut tx = store.begin().await.unwrap();
    let mut changed = tx.catalog_for_update(c.id).await.unwrap();
    changed.display_name = "Engineering tools".into();
    changed.modified_date_time = now();
    tx.update_catalog(&changed, c.modified_date_time)
        .await
        .unwrap();
    tx.commit(&[event("update", "c")]).await.unwrap();
    // A writer that read the old version loses.
    let mut tx = store.begin().await.unwrap();
    let stale = tx.update_catalog(&c, c.modified_date_time).await;
    assert!(matches!(
        stale,
        Err(StoreError::Domain(DomainError::Conflict { .. }))
    ));
    drop(tx);
    assert_eq!(
        store.catalog(c.id).await.unwrap().display_name,
        "Engineering tools"
    );
    let mut tx = store.begin().await.unwrap();
    tx.delete_catalog(c.id).await.unwrap();
    tx.commit(&[event("delete", "c")]).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.delete_catalog(c.id).await,
        Err(StoreError::Domain(DomainError::NotFound { .. }))
    ));
}
both!(catalog_updates_and_deletes, conditional_updates_and_deletes);
