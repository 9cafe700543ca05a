use crate::both;
use crate::support::{event, now};
use consulate_core::DomainError;
use consulate_core::access_package::{NewAccessPackage, RoleScope};
use consulate_core::catalog::NewCatalog;
use consulate_core::directory::Group;
use consulate_core::filter::{AccessPackageField, Compare, Filter, Value};
use consulate_core::policy::{
    AllowedTargetScope, ApprovalSettings, Expiration, IsoDuration, PolicyDraft, RequestorSettings,
    SubjectSet,
};
use consulate_core::resource::{ResourceOrigin, resource_for};
use consulate_store::list::ListQuery;
use consulate_store::policies::ReferenceKind;
use consulate_store::{Store, StoreError};
use uuid::Uuid;

fn draft(package: Uuid, group: Uuid) -> PolicyDraft {
    PolicyDraft {
        access_package_id: package,
        display_name: "Members of the group".into(),
        description: String::new(),
        allowed_target_scope: AllowedTargetScope::SpecificDirectoryUsers,
        specific_allowed_targets: vec![SubjectSet::GroupMembers {
            group_id: group,
            description: String::new(),
        }],
        expiration: Expiration::AfterDuration(IsoDuration::parse("d", "P30D").unwrap()),
        requestor_settings: RequestorSettings {
            enable_targets_to_self_add_access: true,
            ..Default::default()
        },
        approval_settings: ApprovalSettings::default(),
        review_settings: Some(serde_json::json!({"isEnabled": false})),
        automatic_request_settings: None,
        is_assignment_notification_disabled: false,
        questions: Vec::new(),
    }
}

async fn packages_roles_and_policies(store: Store) {
    let catalog = NewCatalog {
        display_name: "Cat".into(),
        ..Default::default()
    }
    .into_catalog(Uuid::now_v7(), now())
    .unwrap();
    let g = Group {
        id: Uuid::now_v7(),
        display_name: "Team".into(),
        description: String::new(),
        mail_nickname: "team".into(),
        security_enabled: true,
        mail_enabled: false,
        created_date_time: now(),
    };
    let resource = resource_for(
        &ResourceOrigin::Group(g.clone()),
        catalog.id,
        now(),
        Uuid::now_v7,
    )
    .unwrap();
    let pkg = NewAccessPackage {
        catalog_id: catalog.id,
        display_name: "Team access".into(),
        ..Default::default()
    }
    .into_package(Uuid::now_v7(), now())
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_catalog(&catalog).await.unwrap();
    tx.insert_group(&g).await.unwrap();
    tx.insert_resource(&resource).await.unwrap();
    tx.insert_access_package(&pkg).await.unwrap();
    let rs = RoleScope {
        access_package_id: pkg.id,
        role_id: resource.roles[0].id,
        scope_id: resource.scopes[0].id,
        created_date_time: now(),
    };
    assert!(tx.add_role_scope(&rs).await.unwrap());
    assert!(!tx.add_role_scope(&rs).await.unwrap());
    assert_eq!(tx.count_access_packages(catalog.id).await.unwrap(), 1);
    assert_eq!(
        tx.packages_using_resource(resource.id).await.unwrap(),
        vec!["Team access".to_string()]
    );
    let p1 = draft(pkg.id, g.id)
        .into_policy(Uuid::now_v7(), catalog.id, None, now())
        .unwrap();
    tx.insert_policy(&p1).await.unwrap();
    tx.commit(&[event("setup", "x")]).await.unwrap();

    assert_eq!(store.access_package(pkg.id).await.unwrap(), pkg);
    assert_eq!(store.role_scopes(pkg.id).await.unwrap(), vec![rs.clone()]);
    assert_eq!(store.policy(p1.id).await.unwrap(), p1);
    let by_catalog = store
        .list_access_packages(&ListQuery {
            filter: Some(Filter::Compare {
                field: AccessPackageField::CatalogId,
                op: Compare::Eq,
                value: Value::String(catalog.id.to_string()),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_catalog.items, vec![pkg.clone()]);

    // A replace is conditional on the version read, and keeps the old version.
    let mut tx = store.begin().await.unwrap();
    let current = tx.policy_for_update(p1.id).await.unwrap();
    let mut d = draft(pkg.id, g.id);
    d.display_name = "Renamed".into();
    d.specific_allowed_targets.clear();
    d.allowed_target_scope = AllowedTargetScope::AllMemberUsers;
    let p2 = d
        .into_policy(Uuid::nil(), catalog.id, Some(&current), now())
        .unwrap();
    assert_eq!((p2.id, p2.version), (p1.id, 2));
    tx.replace_policy(&p2).await.unwrap();
    assert_eq!(tx.count_policies(pkg.id).await.unwrap(), 1);
    assert!(
        tx.policies_referencing(ReferenceKind::Group, g.id)
            .await
            .unwrap()
            .is_empty(),
        "references follow the replace"
    );
    tx.commit(&[event("replace", "p")]).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let stale = tx.replace_policy(&p2).await;
    assert!(matches!(
        stale,
        Err(StoreError::Domain(DomainError::Conflict { .. }))
    ));
    drop(tx);
    assert_eq!(store.policy(p1.id).await.unwrap().display_name, "Renamed");
    assert_eq!(store.policy_version(p1.id, 1).await.unwrap(), p1);
    assert_eq!(
        store.policies_of_packages(&[pkg.id]).await.unwrap().len(),
        1
    );
    assert_eq!(store.all_policies().await.unwrap().len(), 1);

    // The database itself keeps a role in use and a package with policies.
    let mut tx = store.begin().await.unwrap();
    let failed = match tx.delete_resource(resource.id).await {
        Err(_) => {
            drop(tx);
            true
        }
        Ok(()) => tx.commit(&[event("x", "x")]).await.is_err(),
    };
    assert!(failed, "a resource whose role a package grants cannot go");
    let mut tx = store.begin().await.unwrap();
    tx.delete_policy(p1.id).await.unwrap();
    assert!(
        tx.remove_role_scope(pkg.id, rs.role_id, rs.scope_id)
            .await
            .unwrap()
    );
    tx.delete_access_package(pkg.id).await.unwrap();
    tx.delete_resource(resource.id).await.unwrap();
    tx.delete_catalog(catalog.id).await.unwrap();
    tx.commit(&[event("teardown", "x")]).await.unwrap();
}
both!(access_packages_and_policies, packages_roles_and_policies);
