use crate::both;
use crate::directory::user;
use crate::support::{event, now};
use consulate_core::access::DirectoryRole;
use consulate_core::application::{AppRole, Application};
use consulate_core::catalog::NewCatalog;
use consulate_core::directory::Group;
use consulate_core::filter::{Compare, Filter, ResourceField, ResourceRoleField, Value};
use consulate_core::resource::{Grant, OriginSystem, ResourceOrigin, resource_for};
use consulate_store::Store;
use consulate_store::list::ListQuery;
use uuid::Uuid;

fn group(name: &str) -> Group {
    Group {
        id: Uuid::now_v7(),
        display_name: name.into(),
        description: String::new(),
        mail_nickname: name.to_lowercase(),
        security_enabled: true,
        mail_enabled: false,
        created_date_time: now(),
    }
}

fn app() -> Application {
    Application {
        id: Uuid::now_v7(),
        app_id: Uuid::now_v7(),
        display_name: "Survey".into(),
        description: "Surveys".into(),
        app_roles: vec![AppRole {
            id: Uuid::now_v7(),
            display_name: "Reader".into(),
            description: String::new(),
            value: "Survey.Read".into(),
            is_enabled: true,
        }],
        created_date_time: now(),
    }
}

async fn resources_with_roles_and_scopes(store: Store) {
    let catalog = NewCatalog {
        display_name: "Sales".into(),
        ..Default::default()
    }
    .into_catalog(Uuid::now_v7(), now())
    .unwrap();
    let g = group("Sales team");
    let a = app();
    let mut tx = store.begin().await.unwrap();
    tx.insert_catalog(&catalog).await.unwrap();
    tx.insert_group(&g).await.unwrap();
    tx.insert_application(&a).await.unwrap();
    let origins = [
        ResourceOrigin::Group(g.clone()),
        ResourceOrigin::Application(a.clone()),
        ResourceOrigin::DirectoryRole(DirectoryRole::GlobalReader),
    ];
    let mut made = Vec::new();
    for o in &origins {
        let r = resource_for(o, catalog.id, now(), Uuid::now_v7).unwrap();
        tx.insert_resource(&r).await.unwrap();
        made.push(r);
    }
    // Found by origin inside the transaction, before commit.
    let found = tx
        .catalog_resource_by_origin(catalog.id, OriginSystem::AadGroup, &g.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, made[0]);
    assert_eq!(
        tx.catalogs_holding(OriginSystem::AadApplication, &a.id.to_string())
            .await
            .unwrap(),
        vec!["Sales".to_string()]
    );
    tx.commit(&[event("add", "resources")]).await.unwrap();
    assert_eq!(store.application(a.id).await.unwrap(), a);

    let page = store
        .list_catalog_resources(catalog.id, &ListQuery::<ResourceField>::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let by_id = |id: Uuid| page.items.iter().find(|r| r.id == id).unwrap();
    for r in &made {
        assert_eq!(by_id(r.id), r);
    }
    let only_groups = store
        .list_catalog_resources(
            catalog.id,
            &ListQuery::<ResourceField> {
                filter: Some(Filter::Compare {
                    field: ResourceField::OriginSystem,
                    op: Compare::Eq,
                    value: Value::String("AadGroup".into()),
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(only_groups.items.len(), 1);
    let roles = store
        .list_catalog_resource_roles(
            catalog.id,
            &ListQuery::<ResourceRoleField> {
                filter: Some(Filter::Compare {
                    field: ResourceRoleField::ResourceId,
                    op: Compare::Eq,
                    value: Value::String(made[0].id.to_string()),
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let names: Vec<&str> = roles
        .items
        .iter()
        .map(|(r, _)| r.display_name.as_str())
        .collect();
    assert_eq!(names, vec!["Member", "Owner"]);
    assert!(roles.items.iter().all(|(_, res)| res.id == made[0].id));

    // Removing a resource removes its roles and scopes.
    let mut tx = store.begin().await.unwrap();
    tx.delete_resource(made[0].id).await.unwrap();
    tx.commit(&[event("remove", "r")]).await.unwrap();
    let all_roles = store
        .list_catalog_resource_roles(catalog.id, &ListQuery::<ResourceRoleField>::default())
        .await
        .unwrap();
    assert_eq!(all_roles.items.len(), 2);
}
both!(catalog_resources, resources_with_roles_and_scopes);

async fn grants_are_idempotent(store: Store) {
    let u = user("p@consulate.example");
    let g = group("Partners");
    let a = app();
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&u).await.unwrap();
    tx.insert_group(&g).await.unwrap();
    tx.insert_application(&a).await.unwrap();
    tx.commit(&[event("setup", "x")]).await.unwrap();
    let grants = [
        Grant::GroupMember { group: g.id },
        Grant::GroupOwner { group: g.id },
        Grant::AppRole {
            application: a.id,
            app_role: a.app_roles[0].id,
        },
        Grant::DirectoryRole(DirectoryRole::GlobalReader),
    ];
    for grant in &grants {
        let mut tx = store.begin().await.unwrap();
        assert!(!tx.holds(grant, u.id).await.unwrap(), "{grant:?}");
        assert!(tx.grant(grant, u.id, now()).await.unwrap(), "{grant:?}");
        assert!(
            !tx.grant(grant, u.id, now()).await.unwrap(),
            "{grant:?} twice"
        );
        assert!(tx.holds(grant, u.id).await.unwrap(), "{grant:?}");
        tx.commit(&[event("grant", "x")]).await.unwrap();
    }
    assert!(
        store
            .user_roles(u.id)
            .await
            .unwrap()
            .contains(&DirectoryRole::GlobalReader)
    );
    for grant in &grants {
        let mut tx = store.begin().await.unwrap();
        assert!(tx.revoke(grant, u.id).await.unwrap(), "{grant:?}");
        assert!(!tx.revoke(grant, u.id).await.unwrap(), "{grant:?} twice");
        assert!(!tx.holds(grant, u.id).await.unwrap(), "{grant:?}");
        tx.commit(&[event("revoke", "x")]).await.unwrap();
    }
    assert!(store.user_roles(u.id).await.unwrap().is_empty());
}
both!(grants_and_revokes_are_idempotent, grants_are_idempotent);
