use crate::both;
use crate::support::{event, now};
use consulate_core::DomainError;
use consulate_core::connected_org::{
    ConnectedOrganization, ConnectedOrganizationState, IdentitySource, SponsorKind,
};
use consulate_core::directory::{User, UserType};
use consulate_core::domain_name::DomainName;
use consulate_core::filter::{Compare, Filter, OrganizationField as F, TextMatch, Value};
use consulate_store::list::{ListQuery, Order};
use consulate_store::{Store, StoreError};
use uuid::Uuid;

pub fn org(name: &str, domain: &str) -> ConnectedOrganization {
    let t = now();
    ConnectedOrganization {
        id: Uuid::now_v7(),
        display_name: name.into(),
        description: String::new(),
        identity_sources: vec![IdentitySource::DomainIdentitySource {
            domain_name: DomainName::parse(domain).unwrap(),
            display_name: domain.into(),
        }],
        state: ConnectedOrganizationState::Configured,
        created_date_time: t,
        modified_date_time: t,
    }
}

pub async fn insert(store: &Store, o: &ConnectedOrganization) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_connected_organization(o).await.unwrap();
    tx.commit(&[event("create", &o.id.to_string())])
        .await
        .unwrap();
}

async fn round_trip(store: Store) {
    let mut o = org("Contoso", "contoso.com");
    o.identity_sources
        .push(IdentitySource::AzureActiveDirectoryTenant {
            tenant_id: "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01".into(),
            display_name: "Contoso HQ".into(),
        });
    o.identity_sources
        .push(IdentitySource::ExternalDomainFederation {
            domain_name: DomainName::parse("contoso.org").unwrap(),
            display_name: "Contoso IdP".into(),
            issuer_uri: "https://idp.contoso.org/".into(),
        });
    insert(&store, &o).await;
    let back = store.connected_organization(o.id).await.unwrap();
    assert_eq!(back, o);
    let missing = store.connected_organization(Uuid::now_v7()).await;
    assert!(matches!(
        missing,
        Err(StoreError::Domain(DomainError::NotFound { .. }))
    ));
}
both!(organization_round_trip, round_trip);

async fn domain_uniqueness(store: Store) {
    let first = org("Contoso", "contoso.com");
    insert(&store, &first).await;
    let other = org("Other", "contoso.com");
    // The check before a write names the owner.
    match store
        .check_sources_unclaimed(other.id, &other.identity_sources)
        .await
        .unwrap_err()
    {
        StoreError::Domain(DomainError::Conflict { message }) => assert!(
            message.contains("contoso.com") && message.contains("Contoso"),
            "{message}"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // An organization's own keys are not a conflict.
    store
        .check_sources_unclaimed(first.id, &first.identity_sources)
        .await
        .unwrap();
    // Without the check (a race), the unique key refuses the write, at the latest at commit.
    let mut tx = store.begin().await.unwrap();
    let err = match tx.insert_connected_organization(&other).await {
        Err(e) => e,
        Ok(()) => tx.commit(&[event("create", "x")]).await.unwrap_err(),
    };
    match err {
        StoreError::Domain(DomainError::Conflict { message }) => {
            assert!(
                message.contains("another connected organization"),
                "{message}"
            )
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The failed transaction left nothing behind.
    let page = store
        .list_connected_organizations(&ListQuery {
            count: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.count, Some(1));
}
both!(one_domain_one_organization, domain_uniqueness);

async fn paging_and_filters(store: Store) {
    for (i, name) in ["delta", "Alpha", "charlie", "Bravo", "echo", "alpha two"]
        .iter()
        .enumerate()
    {
        insert(&store, &org(name, &format!("d{i}.example.com"))).await;
    }
    // Keyset pages by display name, case-insensitive, stable.
    let mut q = ListQuery::<F> {
        order: Order::DisplayName { descending: false },
        top: 2,
        count: true,
        ..Default::default()
    };
    let mut names = Vec::new();
    loop {
        let page = store.list_connected_organizations(&q).await.unwrap();
        assert_eq!(page.count, Some(6));
        names.extend(page.items.iter().map(|o| o.display_name.clone()));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(
        names,
        ["Alpha", "alpha two", "Bravo", "charlie", "delta", "echo"]
    );
    // Descending.
    let page = store
        .list_connected_organizations(&ListQuery::<F> {
            order: Order::DisplayName { descending: true },
            top: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|o| o.display_name.as_str())
            .collect::<Vec<_>>(),
        ["echo", "delta", "charlie"]
    );
    // startswith is case-insensitive; search is a contains on the name, never on the domain.
    let f = Filter::Text {
        field: F::DisplayName,
        op: TextMatch::StartsWith,
        value: "ALPHA".into(),
    };
    let page = store
        .list_connected_organizations(&ListQuery {
            filter: Some(f),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    let page = store
        .list_connected_organizations(&ListQuery::<F> {
            search: Some("HARL".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let page = store
        .list_connected_organizations(&ListQuery::<F> {
            search: Some("example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.items.is_empty(), "search must not match domains");
    // identitySources/any(s: s/domainName eq 'd2.example.com')
    let f = Filter::Any {
        collection: F::IdentitySources,
        filter: Box::new(Filter::Compare {
            field: F::SourceDomainName,
            op: Compare::Eq,
            value: Value::String("D2.example.com".into()),
        }),
    };
    let page = store
        .list_connected_organizations(&ListQuery {
            filter: Some(f),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].display_name, "charlie");
    // LIKE wildcards in input are literals.
    let page = store
        .list_connected_organizations(&ListQuery::<F> {
            search: Some("%".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.items.is_empty());
}
both!(paging_filters_and_search, paging_and_filters);

fn user(upn: &str, user_type: UserType) -> User {
    User {
        id: Uuid::now_v7(),
        display_name: upn.into(),
        given_name: None,
        surname: None,
        mail: Some(upn.into()),
        user_principal_name: upn.into(),
        user_type,
        account_enabled: true,
        identities: vec![],
        creation_type: None,
        external_user_state: None,
        created_date_time: now(),
    }
}

async fn sponsors_follow_users(store: Store) {
    let o = org("Contoso", "contoso.com");
    insert(&store, &o).await;
    let alice = user("alice@consulate.example", UserType::Member);
    let bob = user("bob_contoso.com#EXT#@consulate.example", UserType::Guest);
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&alice).await.unwrap();
    tx.insert_user(&bob).await.unwrap();
    assert!(
        tx.add_sponsor(o.id, SponsorKind::Internal, alice.id, false, now())
            .await
            .unwrap()
    );
    assert!(
        !tx.add_sponsor(o.id, SponsorKind::Internal, alice.id, false, now())
            .await
            .unwrap(),
        "adding twice is idempotent"
    );
    assert!(
        tx.add_sponsor(o.id, SponsorKind::External, bob.id, false, now())
            .await
            .unwrap()
    );
    tx.commit(&[event("sponsors", "x")]).await.unwrap();
    assert_eq!(
        store
            .sponsors(o.id, SponsorKind::Internal, 10, None)
            .await
            .unwrap()
            .0,
        vec![(alice.id, false)]
    );
    assert_eq!(
        store
            .sponsors(o.id, SponsorKind::External, 10, None)
            .await
            .unwrap()
            .0,
        vec![(bob.id, false)]
    );
    // A deleted user disappears from sponsor lists.
    let mut tx = store.begin().await.unwrap();
    tx.delete_user(alice.id).await.unwrap();
    tx.commit(&[event("delete", "alice")]).await.unwrap();
    assert!(
        store
            .sponsors(o.id, SponsorKind::Internal, 10, None)
            .await
            .unwrap()
            .0
            .is_empty()
    );
    // Deleting the organization removes its sponsor rows and frees its domain.
    let mut tx = store.begin().await.unwrap();
    tx.delete_connected_organization(o.id).await.unwrap();
    tx.commit(&[event("delete", "org")]).await.unwrap();
    insert(&store, &org("Contoso again", "contoso.com")).await;
}
both!(sponsors_follow_user_deletion, sponsors_follow_users);

async fn conditional_update(store: Store) {
    let mut o = org("Contoso", "contoso.com");
    insert(&store, &o).await;
    let stale = o.modified_date_time;
    o.display_name = "Contoso Ltd".into();
    o.modified_date_time = now();
    let mut tx = store.begin().await.unwrap();
    tx.update_connected_organization(&o, stale, false)
        .await
        .unwrap();
    tx.commit(&[event("update", "o")]).await.unwrap();
    // A writer holding the old modified time loses.
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .update_connected_organization(&o, stale, false)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Domain(DomainError::Conflict { .. })
    ));
}
both!(updates_are_conditional, conditional_update);
