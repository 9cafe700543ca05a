//! Access packages: CRUD, the resource roles they grant, and incompatible packages and
//! groups.

use crate::{App, ServiceResult, prop, target, within_readable_catalogs};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation};
use consulate_core::access_package::{
    self, AccessPackage, AccessPackagePatch, NewAccessPackage, RoleScope,
};
use consulate_core::audit::Category;
use consulate_core::catalog_roles::{CatalogAction, authorize_in_catalog};
use consulate_core::directory::Group;
use consulate_core::error::ObjectKind;
use consulate_core::filter::AccessPackageField;
use consulate_core::resource::{AccessPackageResource, OriginSystem, ResourceRole, ResourceScope};
use consulate_store::WriteTx;
use consulate_store::list::{ListQuery, Page};
use std::collections::HashMap;
use uuid::Uuid;

/// How a role-scope request names its resource.
#[derive(Debug, Clone)]
pub enum ResourceSelector {
    Id(Uuid),
    Origin { system: OriginSystem, id: String },
}

/// How a role-scope request names the role.
#[derive(Debug, Clone)]
pub enum RoleSelector {
    Id(Uuid),
    /// The role's `originId` on a resource of the package's catalog.
    Origin {
        resource: ResourceSelector,
        origin_id: String,
    },
}

/// How a role-scope request names the scope; absent means the resource's root scope.
#[derive(Debug, Clone)]
pub enum ScopeSelector {
    Id(Uuid),
    Origin(String),
    Root,
}

/// A role granted by a package, with everything needed to show it.
#[derive(Debug, Clone)]
pub struct RoleScopeDetail {
    pub role_scope: RoleScope,
    pub role: ResourceRole,
    pub scope: ResourceScope,
    pub resource: AccessPackageResource,
}

async fn resolve_role(
    tx: &mut WriteTx,
    catalog: Uuid,
    role: &RoleSelector,
) -> ServiceResult<(AccessPackageResource, ResourceRole)> {
    let missing = |what: String| DomainError::not_found(ObjectKind::AccessPackageResource, what);
    let resource = match role {
        RoleSelector::Id(id) => tx
            .resource_of_role(*id)
            .await?
            .ok_or_else(|| missing(id.to_string()))?,
        RoleSelector::Origin { resource, .. } => match resource {
            ResourceSelector::Id(id) => tx.resource(*id).await?,
            ResourceSelector::Origin { system, id } => tx
                .catalog_resource_by_origin(catalog, *system, &id.trim().to_ascii_lowercase())
                .await?
                .ok_or_else(|| missing(id.clone()))?,
        },
    };
    if resource.catalog_id != catalog {
        return Err(DomainError::invalid(
            "role",
            "the role is not one of a resource of this access package's catalog; add the resource to the catalog first",
        )
        .into());
    }
    let found = match role {
        RoleSelector::Id(id) => resource.roles.iter().find(|r| r.id == *id),
        RoleSelector::Origin { origin_id, .. } => resource
            .roles
            .iter()
            .find(|r| r.origin_id.eq_ignore_ascii_case(origin_id.trim())),
    }
    .cloned()
    .ok_or_else(|| {
        DomainError::invalid(
            "role",
            format!("'{}' has no such role", resource.display_name),
        )
    })?;
    Ok((resource, found))
}

impl App {
    /// Reads a package and checks the caller may do `action` in its catalog.
    pub(crate) async fn authorize_package(
        &self,
        caller: &Caller,
        op: Operation,
        action: CatalogAction,
        package: Uuid,
    ) -> ServiceResult<AccessPackage> {
        let p = self.store.access_package(package).await?;
        authorize_in_catalog(caller, op, action, p.catalog_id)?;
        Ok(p)
    }

    pub async fn list_access_packages(
        &self,
        caller: &Caller,
        q: &ListQuery<AccessPackageField>,
    ) -> ServiceResult<Page<AccessPackage>> {
        let mut q = q.clone();
        q.filter = within_readable_catalogs(
            caller,
            Operation::ReadAccessPackages,
            AccessPackageField::CatalogId,
            q.filter,
        )?;
        Ok(self.store.list_access_packages(&q).await?)
    }

    pub async fn get_access_package(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> ServiceResult<AccessPackage> {
        self.authorize_package(
            caller,
            Operation::ReadAccessPackages,
            CatalogAction::Read,
            id,
        )
        .await
    }

    /// The access packages of some catalogs (for `$expand=accessPackages`).
    pub async fn access_packages_in_catalogs(
        &self,
        caller: &Caller,
        catalogs: &[Uuid],
    ) -> ServiceResult<Vec<AccessPackage>> {
        for c in catalogs {
            authorize_in_catalog(
                caller,
                Operation::ReadAccessPackages,
                CatalogAction::Read,
                *c,
            )?;
        }
        Ok(self.store.access_packages_in_catalogs(catalogs).await?)
    }

    pub async fn create_access_package(
        &self,
        caller: &Caller,
        new: NewAccessPackage,
    ) -> ServiceResult<AccessPackage> {
        authorize_in_catalog(
            caller,
            Operation::WriteAccessPackages,
            CatalogAction::ManagePackages,
            new.catalog_id,
        )?;
        let p = new.into_package(self.ids.new_id(), self.clock.now())?;
        let mut tx = self.store.begin().await?;
        let catalog = tx.catalog_for_update(p.catalog_id).await?;
        tx.insert_access_package(&p).await?;
        let mut t = target("accessPackage", p.id, Some(&p.display_name));
        t.modified_properties.push(prop(
            "catalog",
            None,
            Some(format!("{} ({})", catalog.display_name, catalog.id)),
        ));
        t.modified_properties
            .push(prop("isHidden", None, Some(p.is_hidden.to_string())));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Create access package",
            "accessPackage.create",
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(p)
    }

    pub async fn update_access_package(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: AccessPackagePatch,
    ) -> ServiceResult<AccessPackage> {
        self.authorize_package(
            caller,
            Operation::WriteAccessPackages,
            CatalogAction::ManagePackages,
            id,
        )
        .await?;
        let mut tx = self.store.begin().await?;
        let mut p = tx.access_package_for_update(id).await?;
        let before = p.clone();
        let changed = access_package::apply_patch(&mut p, patch, self.clock.now())?;
        if changed.is_empty() {
            return Ok(p);
        }
        tx.update_access_package(&p, before.modified_date_time)
            .await?;
        let mut t = target("accessPackage", p.id, Some(&p.display_name));
        for name in changed {
            let (o, n) = match name {
                "displayName" => (before.display_name.clone(), p.display_name.clone()),
                "description" => (before.description.clone(), p.description.clone()),
                _ => (before.is_hidden.to_string(), p.is_hidden.to_string()),
            };
            t.modified_properties.push(prop(name, Some(o), Some(n)));
        }
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Update access package",
            "accessPackage.update",
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(p)
    }

    pub async fn delete_access_package(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        self.authorize_package(
            caller,
            Operation::WriteAccessPackages,
            CatalogAction::ManagePackages,
            id,
        )
        .await?;
        let mut tx = self.store.begin().await?;
        let p = tx.access_package_for_update(id).await?;
        let policies = tx.count_policies(id).await?;
        let assignments = tx.count_active_assignments(id).await?;
        access_package::check_deletable(&p, policies, assignments)?;
        tx.delete_access_package(id).await?;
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Delete access package",
            "accessPackage.delete",
            target("accessPackage", id, Some(&p.display_name)),
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(())
    }

    /// The roles a package grants, with their resources.
    pub async fn role_scopes(
        &self,
        caller: &Caller,
        package: Uuid,
    ) -> ServiceResult<Vec<RoleScopeDetail>> {
        self.authorize_package(
            caller,
            Operation::ReadAccessPackages,
            CatalogAction::Read,
            package,
        )
        .await?;
        let scopes = self.store.role_scopes(package).await?;
        let role_ids: Vec<Uuid> = scopes.iter().map(|s| s.role_id).collect();
        let resources = self.store.resources_of_roles(&role_ids).await?;
        let mut by_role: HashMap<Uuid, &AccessPackageResource> = HashMap::new();
        for r in &resources {
            for role in &r.roles {
                by_role.insert(role.id, r);
            }
        }
        scopes
            .into_iter()
            .map(|rs| {
                let resource = by_role.get(&rs.role_id).copied().ok_or_else(|| {
                    consulate_store::StoreError::Corrupt(format!(
                        "role {} of package {package} has no resource",
                        rs.role_id
                    ))
                })?;
                let role = resource.roles.iter().find(|r| r.id == rs.role_id).cloned();
                let scope = resource
                    .scopes
                    .iter()
                    .find(|s| s.id == rs.scope_id)
                    .cloned();
                match (role, scope) {
                    (Some(role), Some(scope)) => Ok(RoleScopeDetail {
                        role_scope: rs,
                        role,
                        scope,
                        resource: resource.clone(),
                    }),
                    _ => Err(consulate_store::StoreError::Corrupt(format!(
                        "role scope {} of package {package} is incomplete",
                        rs.id()
                    ))
                    .into()),
                }
            })
            .collect()
    }

    /// Adds a resource role (at a scope of its resource) to a package. The resource must be
    /// in the package's catalog.
    pub async fn add_role_scope(
        &self,
        caller: &Caller,
        package: Uuid,
        role: RoleSelector,
        scope: ScopeSelector,
    ) -> ServiceResult<RoleScopeDetail> {
        self.authorize_package(
            caller,
            Operation::WriteAccessPackages,
            CatalogAction::ManagePackages,
            package,
        )
        .await?;
        let mut tx = self.store.begin().await?;
        let p = tx.access_package_for_update(package).await?;
        let (resource, role) = resolve_role(&mut tx, p.catalog_id, &role).await?;
        // Granting a directory role is granting tenant-wide rights: a catalog role is not
        // enough for it.
        if resource.origin_system == consulate_core::resource::OriginSystem::DirectoryRole {
            consulate_core::access::authorize(caller, Operation::WriteDirectoryRoles)?;
        }
        let scope = match &scope {
            ScopeSelector::Id(id) => resource.scopes.iter().find(|s| s.id == *id),
            ScopeSelector::Origin(o) => resource
                .scopes
                .iter()
                .find(|s| s.origin_id.eq_ignore_ascii_case(o.trim())),
            ScopeSelector::Root => resource.scopes.iter().find(|s| s.is_root_scope),
        }
        .cloned()
        .ok_or_else(|| {
            DomainError::invalid(
                "scope",
                format!("'{}' has no such scope", resource.display_name),
            )
        })?;
        let rs = RoleScope {
            access_package_id: p.id,
            role_id: role.id,
            scope_id: scope.id,
            created_date_time: self.clock.now(),
        };
        if !tx.add_role_scope(&rs).await? {
            return Err(DomainError::conflict(format!(
                "The access package '{}' already grants {} of '{}'",
                p.display_name, role.display_name, resource.display_name
            ))
            .into());
        }
        let mut t = target("accessPackage", p.id, Some(&p.display_name));
        t.modified_properties.push(prop(
            "resourceRoleScopes",
            None,
            Some(format!(
                "{} of {} ({} {})",
                role.display_name,
                resource.display_name,
                resource.origin_system.as_str(),
                resource.origin_id
            )),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Add resource role to access package",
            "accessPackage.resourceRoleScope.add",
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(RoleScopeDetail {
            role_scope: rs,
            role,
            scope,
            resource,
        })
    }

    pub async fn remove_role_scope(
        &self,
        caller: &Caller,
        package: Uuid,
        role_scope_id: &str,
    ) -> ServiceResult<()> {
        self.authorize_package(
            caller,
            Operation::WriteAccessPackages,
            CatalogAction::ManagePackages,
            package,
        )
        .await?;
        let missing = || {
            DomainError::not_found(
                ObjectKind::AccessPackageResourceRoleScope,
                role_scope_id.chars().take(80).collect::<String>(),
            )
        };
        let (role, scope) = RoleScope::parse_id(role_scope_id).ok_or_else(missing)?;
        let mut tx = self.store.begin().await?;
        let p = tx.access_package_for_update(package).await?;
        if !tx.remove_role_scope(package, role, scope).await? {
            return Err(missing().into());
        }
        let mut t = target("accessPackage", p.id, Some(&p.display_name));
        t.modified_properties.push(prop(
            "resourceRoleScopes",
            Some(role_scope_id.to_owned()),
            None,
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Remove resource role from access package",
            "accessPackage.resourceRoleScope.remove",
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(())
    }

    pub async fn incompatible_packages(
        &self,
        caller: &Caller,
        package: Uuid,
        reverse: bool,
    ) -> ServiceResult<Vec<AccessPackage>> {
        self.authorize_package(
            caller,
            Operation::ReadAccessPackages,
            CatalogAction::Read,
            package,
        )
        .await?;
        Ok(if reverse {
            self.store.packages_incompatible_with(package).await?
        } else {
            self.store.incompatible_packages(package).await?
        })
    }

    pub async fn incompatible_groups(
        &self,
        caller: &Caller,
        package: Uuid,
    ) -> ServiceResult<Vec<Group>> {
        self.authorize_package(
            caller,
            Operation::ReadAccessPackages,
            CatalogAction::Read,
            package,
        )
        .await?;
        let ids = self.store.incompatible_group_ids(package).await?;
        Ok(self.store.groups_by_ids(&ids).await?)
    }

    /// Adds (`add`) or removes an incompatible package or group (`group`).
    pub async fn change_incompatibility(
        &self,
        caller: &Caller,
        package: Uuid,
        other: Uuid,
        group: bool,
        add: bool,
    ) -> ServiceResult<()> {
        self.authorize_package(
            caller,
            Operation::WriteAccessPackages,
            CatalogAction::ManagePackages,
            package,
        )
        .await?;
        if !group {
            access_package::check_incompatible(package, other)?;
        }
        let now = self.clock.now();
        if !group {
            // Incompatibility restricts requests for both packages: the caller must manage
            // the other one's catalog too.
            let o = self.store.access_package(other).await?;
            authorize_in_catalog(
                caller,
                Operation::WriteAccessPackages,
                CatalogAction::ManagePackages,
                o.catalog_id,
            )?;
        }
        let mut tx = self.store.begin().await?;
        let p = tx.access_package_for_update(package).await?;
        let name = if group {
            tx.group(other).await?.display_name
        } else {
            // Incompatibility restricts requests for both packages: the caller must manage
            // the other one's catalog too.
            let o = self.store.access_package(other).await?;
            authorize_in_catalog(
                caller,
                Operation::WriteAccessPackages,
                CatalogAction::ManagePackages,
                o.catalog_id,
            )?;
            tx.access_package_for_update(other).await?.display_name
        };
        let changed = match (group, add) {
            (false, true) => tx.add_incompatible_package(package, other, now).await?,
            (false, false) => tx.remove_incompatible_package(package, other).await?,
            (true, true) => tx.add_incompatible_group(package, other, now).await?,
            (true, false) => tx.remove_incompatible_group(package, other).await?,
        };
        if !changed {
            if add {
                // Adding what is already there is idempotent, as `$ref` adds are.
                return Ok(());
            }
            return Err(DomainError::not_found(
                if group {
                    ObjectKind::Group
                } else {
                    ObjectKind::AccessPackage
                },
                other.to_string(),
            )
            .into());
        }
        let what = if group {
            "incompatibleGroups"
        } else {
            "incompatibleAccessPackages"
        };
        let value = format!("{name} ({other})");
        let mut t = target("accessPackage", p.id, Some(&p.display_name));
        t.modified_properties.push(if add {
            prop(what, None, Some(value))
        } else {
            prop(what, Some(value), None)
        });
        let activity = if add {
            "Add incompatibility to access package"
        } else {
            "Remove incompatibility from access package"
        };
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            activity,
            "accessPackage.incompatibility",
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(())
    }
}
