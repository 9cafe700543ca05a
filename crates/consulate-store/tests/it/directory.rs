use crate::both;
use crate::support::{event, now};
use consulate_core::DomainError;
use consulate_core::access::{DirectoryRole, Scope};
use consulate_core::directory::{Group, ObjectIdentity, User, UserType};
use consulate_core::filter::{Compare, Filter, UserField, Value};
use consulate_store::list::ListQuery;
use consulate_store::tokens::{ApiToken, TokenUser};
use consulate_store::{Store, StoreError};
use uuid::Uuid;

pub fn user(upn: &str) -> User {
    User {
        id: Uuid::now_v7(),
        display_name: upn.into(),
        given_name: Some("G".into()),
        surname: None,
        mail: Some(upn.into()),
        user_principal_name: upn.into(),
        user_type: UserType::Member,
        account_enabled: true,
        identities: vec![ObjectIdentity {
            sign_in_type: "federated".into(),
            issuer: "https://idp.example.com".into(),
            issuer_assigned_id: upn.into(),
        }],
        creation_type: None,
        external_user_state: None,
        created_date_time: now(),
    }
}

async fn users_groups_members(store: Store) {
    let a = user("a@consulate.example");
    let b = user("b@consulate.example");
    let g = Group {
        id: Uuid::now_v7(),
        display_name: "Sales".into(),
        description: "d".into(),
        mail_nickname: "sales".into(),
        security_enabled: true,
        mail_enabled: false,
        created_date_time: now(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&a).await.unwrap();
    tx.insert_user(&b).await.unwrap();
    tx.insert_group(&g).await.unwrap();
    assert!(tx.add_group_member(g.id, a.id, now()).await.unwrap());
    assert!(!tx.add_group_member(g.id, a.id, now()).await.unwrap());
    tx.commit(&[event("setup", "x")]).await.unwrap();
    assert_eq!(store.user(a.id).await.unwrap(), a);
    let members = store
        .group_members(g.id, &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(
        members.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![a.id]
    );
    // UPNs are unique case-insensitively.
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_user(&user("A@CONSULATE.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Domain(DomainError::Conflict { .. })),
        "{err:?}"
    );
    drop(tx);
    // An (issuer, subject) identity belongs to one user.
    let mut dup = user("c@consulate.example");
    dup.identities = a.identities.clone();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_user(&dup).await.unwrap_err(),
        StoreError::Domain(DomainError::Conflict { .. })
    ));
    drop(tx);
    // identities/any filter.
    let f = Filter::Any {
        collection: UserField::Identities,
        filter: Box::new(Filter::Compare {
            field: UserField::IdentityIssuerAssignedId,
            op: Compare::Eq,
            value: Value::String("b@consulate.example".into()),
        }),
    };
    let page = store
        .list_users(&ListQuery {
            filter: Some(f),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    // Deleting a user removes its memberships.
    let mut tx = store.begin().await.unwrap();
    tx.delete_user(a.id).await.unwrap();
    tx.commit(&[event("delete", "a")]).await.unwrap();
    assert!(
        store
            .group_members(g.id, &ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
both!(users_groups_and_members, users_groups_members);

async fn tokens(store: Store) {
    let t = ApiToken {
        id: Uuid::now_v7(),
        name: "ci".into(),
        scopes: [Scope::EntitlementManagementReadAll, Scope::AuditLogReadAll]
            .into_iter()
            .collect(),
        user_id: None,
        created_at: now(),
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_token(&t, "hash-1").await.unwrap();
    tx.commit(&[event("token", "t")]).await.unwrap();
    assert_eq!(
        store.token_for_auth("hash-1").await.unwrap().unwrap(),
        (t.clone(), None)
    );
    assert!(store.token_for_auth("hash-2").await.unwrap().is_none());
    let used = now();
    store.mark_tokens_used(&[(t.id, used)]).await.unwrap();
    let last_used = || async {
        store
            .token_for_auth("hash-1")
            .await
            .unwrap()
            .unwrap()
            .0
            .last_used_at
    };
    assert_eq!(last_used().await, Some(used));
    // An older use recorded late (another replica's) does not move it back.
    store
        .mark_tokens_used(&[(t.id, used - jiff::SignedDuration::from_secs(30))])
        .await
        .unwrap();
    assert_eq!(last_used().await, Some(used));
    let mut tx = store.begin().await.unwrap();
    assert!(tx.revoke_token(t.id, now()).await.unwrap());
    assert!(!tx.revoke_token(t.id, now()).await.unwrap());
    tx.commit(&[event("revoke", "t")]).await.unwrap();
    assert!(
        store
            .token_for_auth("hash-1")
            .await
            .unwrap()
            .unwrap()
            .0
            .revoked_at
            .is_some()
    );
}
both!(api_tokens, tokens);

/// A delegated token is read with its user's state and whether the user holds any role.
async fn delegated_token(store: Store) {
    let u = user("d@consulate.example");
    let t = ApiToken {
        id: Uuid::now_v7(),
        name: "d".into(),
        scopes: [Scope::EntitlementManagementReadAll].into_iter().collect(),
        user_id: Some(u.id),
        created_at: now(),
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_token(&t, "hash-d").await.unwrap();
    tx.commit(&[event("token", "d")]).await.unwrap();
    let (token, tu) = store.token_for_auth("hash-d").await.unwrap().unwrap();
    assert_eq!(token, t);
    assert_eq!(
        tu,
        Some(TokenUser {
            user_principal_name: "d@consulate.example".into(),
            account_enabled: true,
            has_roles: false,
            has_catalog_roles: false,
        })
    );
    let mut tx = store.begin().await.unwrap();
    tx.assign_role(u.id, DirectoryRole::GlobalAdministrator, now())
        .await
        .unwrap();
    tx.commit(&[event("role", "d")]).await.unwrap();
    let tu = store
        .token_for_auth("hash-d")
        .await
        .unwrap()
        .unwrap()
        .1
        .unwrap();
    assert!(tu.has_roles && !tu.has_catalog_roles);
    // The user gone, so is its token.
    let mut tx = store.begin().await.unwrap();
    tx.delete_user(u.id).await.unwrap();
    tx.commit(&[event("delete", "d")]).await.unwrap();
    assert!(store.token_for_auth("hash-d").await.unwrap().is_none());
}
both!(delegated_tokens, delegated_token);
