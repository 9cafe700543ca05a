//! Assigning entitlement-management roles: catalog creators for the tenant (by identity
//! governance administrators), and catalog roles (also by the catalog's owners).

use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::catalog_roles::{
    CatalogAction, CatalogRoleGrant, RoleScope, authorize_in_catalog, check_grant,
    readable_catalogs,
};
use consulate_core::filter::{Filter, RoleAssignmentField, Value};
use consulate_store::catalog_roles::RoleAssignment;
use consulate_store::list::{ListQuery, Page};
use uuid::Uuid;

impl App {
    fn authorize_role_scope(
        &self,
        caller: &Caller,
        scope: RoleScope,
        write: bool,
    ) -> ServiceResult<()> {
        let op = if write {
            Operation::WriteCatalogs
        } else {
            Operation::ReadCatalogs
        };
        let action = if write {
            CatalogAction::ManageCatalog
        } else {
            CatalogAction::Read
        };
        match scope {
            RoleScope::Tenant => authorize(caller, op)?,
            RoleScope::Catalog(c) => authorize_in_catalog(caller, op, action, c)?,
        }
        Ok(())
    }

    pub async fn list_role_assignments(
        &self,
        caller: &Caller,
        q: &ListQuery<RoleAssignmentField>,
    ) -> ServiceResult<Page<RoleAssignment>> {
        let mut q = q.clone();
        if let Some(ids) = readable_catalogs(caller, Operation::ReadCatalogs)? {
            let only = Filter::In {
                field: RoleAssignmentField::AppScopeId,
                values: ids
                    .into_iter()
                    .map(|c| Value::String(RoleScope::Catalog(c).app_scope_id()))
                    .collect(),
            };
            q.filter = Some(match q.filter {
                Some(f) => Filter::And(Box::new(only), Box::new(f)),
                None => only,
            });
        }
        Ok(self.store.list_role_assignments(&q).await?)
    }

    pub async fn get_role_assignment(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> ServiceResult<RoleAssignment> {
        let a = self.store.role_assignment(id).await?;
        self.authorize_role_scope(caller, a.grant.scope, false)?;
        Ok(a)
    }

    pub async fn create_role_assignment(
        &self,
        caller: &Caller,
        principal: Uuid,
        grant: CatalogRoleGrant,
    ) -> ServiceResult<RoleAssignment> {
        check_grant(grant)?;
        self.authorize_role_scope(caller, grant.scope, true)?;
        let a = RoleAssignment {
            id: self.ids.new_id(),
            principal_id: principal,
            grant,
            created_at: self.clock.now(),
        };
        let mut tx = self.store.begin().await?;
        let user = tx.user(principal).await.map_err(|_| {
            DomainError::invalid("principalId", format!("user {principal} does not exist"))
        })?;
        let scope_name = match grant.scope {
            RoleScope::Tenant => "the tenant".to_owned(),
            RoleScope::Catalog(c) => {
                format!("catalog '{}'", tx.catalog_for_update(c).await?.display_name)
            }
        };
        if !tx.insert_role_assignment(&a).await? {
            return Err(DomainError::conflict(format!(
                "{} already holds {} for {scope_name}",
                user.user_principal_name,
                grant.role.display_name()
            ))
            .into());
        }
        let mut t = target("user", principal, Some(&user.user_principal_name));
        t.modified_properties.push(prop(
            "entitlementManagementRole",
            None,
            Some(format!("{} for {scope_name}", grant.role.display_name())),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Add entitlement management role assignment",
            "roleAssignment.create",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(a)
    }

    pub async fn delete_role_assignment(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let current = self.store.role_assignment(id).await?;
        self.authorize_role_scope(caller, current.grant.scope, true)?;
        let mut tx = self.store.begin().await?;
        let a = tx.role_assignment(id).await?;
        tx.delete_role_assignment(id).await?;
        let mut t = target("user", a.principal_id, None);
        t.modified_properties.push(prop(
            "entitlementManagementRole",
            Some(format!(
                "{} for {}",
                a.grant.role.display_name(),
                a.grant.scope.app_scope_id()
            )),
            None,
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Remove entitlement management role assignment",
            "roleAssignment.delete",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }
}
