//! Access package catalogs: list, read, create, update, delete, and the built-in General
//! catalog.

use crate::{App, ServiceResult, prop, target, within_readable_catalogs};
use consulate_core::access::{Caller, CallerIdentity, Operation};
use consulate_core::audit::Category;
use consulate_core::catalog::{self, AccessPackageCatalog, CatalogPatch, NewCatalog};
use consulate_core::catalog_roles::{
    CatalogAction, CatalogRole, CatalogRoleGrant, RoleScope, authorize_catalog_creation,
    authorize_in_catalog,
};
use consulate_core::filter::CatalogField;
use consulate_store::catalog_roles::RoleAssignment;
use consulate_store::list::{ListQuery, Page};
use uuid::Uuid;

fn describe(c: &AccessPackageCatalog) -> [(&'static str, String); 3] {
    [
        ("state", c.state.as_str().into()),
        ("isExternallyVisible", c.is_externally_visible.to_string()),
        ("catalogType", c.catalog_type.as_str().into()),
    ]
}

impl App {
    pub async fn list_catalogs(
        &self,
        caller: &Caller,
        q: &ListQuery<CatalogField>,
    ) -> ServiceResult<Page<AccessPackageCatalog>> {
        let mut q = q.clone();
        q.filter =
            within_readable_catalogs(caller, Operation::ReadCatalogs, CatalogField::Id, q.filter)?;
        Ok(self.store.list_catalogs(&q).await?)
    }

    pub async fn get_catalog(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> ServiceResult<AccessPackageCatalog> {
        authorize_in_catalog(caller, Operation::ReadCatalogs, CatalogAction::Read, id)?;
        Ok(self.store.catalog(id).await?)
    }

    pub async fn create_catalog(
        &self,
        caller: &Caller,
        new: NewCatalog,
    ) -> ServiceResult<AccessPackageCatalog> {
        authorize_catalog_creation(caller, Operation::WriteCatalogs)?;
        let c = new.into_catalog(self.ids.new_id(), self.clock.now())?;
        let mut tx = self.store.begin().await?;
        tx.insert_catalog(&c).await?;
        let mut t = target("accessPackageCatalog", c.id, Some(&c.display_name));
        // A user who creates a catalog becomes its first owner.
        if let CallerIdentity::User { user_id, .. } = caller.identity {
            t.modified_properties
                .push(prop("catalogOwner", None, Some(user_id.to_string())));
            tx.insert_role_assignment(&RoleAssignment {
                id: self.ids.new_id(),
                principal_id: user_id,
                grant: CatalogRoleGrant {
                    role: CatalogRole::CatalogOwner,
                    scope: RoleScope::Catalog(c.id),
                },
                created_at: c.created_date_time,
            })
            .await?;
        }
        t.modified_properties
            .push(prop("displayName", None, Some(c.display_name.clone())));
        for (name, value) in describe(&c) {
            t.modified_properties.push(prop(name, None, Some(value)));
        }
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Create catalog",
            "accessPackageCatalog.create",
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(c)
    }

    pub async fn update_catalog(
        &self,
        caller: &Caller,
        id: Uuid,
        patch: CatalogPatch,
    ) -> ServiceResult<AccessPackageCatalog> {
        authorize_in_catalog(
            caller,
            Operation::WriteCatalogs,
            CatalogAction::ManageCatalog,
            id,
        )?;
        let mut tx = self.store.begin().await?;
        let mut c = tx.catalog_for_update(id).await?;
        let before = c.clone();
        let changed = catalog::apply_patch(&mut c, patch, self.clock.now())?;
        if changed.is_empty() {
            return Ok(c);
        }
        if before.is_externally_visible && !c.is_externally_visible {
            let external = tx.external_policies_in_catalog(id).await?;
            if !external.is_empty() {
                return Err(consulate_core::DomainError::conflict(format!(
                    "the polic(ies) {} let users outside the directory request packages of this catalog; change them first",
                    external.join(", ")
                ))
                .into());
            }
        }
        tx.update_catalog(&c, before.modified_date_time).await?;
        let mut t = target("accessPackageCatalog", c.id, Some(&c.display_name));
        let (old, new) = (describe(&before), describe(&c));
        for name in &changed {
            let (o, n) = match *name {
                "displayName" => (before.display_name.clone(), c.display_name.clone()),
                "description" => (before.description.clone(), c.description.clone()),
                other => {
                    let pick = |d: &[(&str, String); 3]| {
                        d.iter()
                            .find(|(k, _)| *k == other)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    (pick(&old), pick(&new))
                }
            };
            t.modified_properties.push(prop(name, Some(o), Some(n)));
        }
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Update catalog",
            "accessPackageCatalog.update",
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(c)
    }

    pub async fn delete_catalog(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        authorize_in_catalog(
            caller,
            Operation::WriteCatalogs,
            CatalogAction::ManageCatalog,
            id,
        )?;
        let mut tx = self.store.begin().await?;
        let c = tx.catalog_for_update(id).await?;
        let packages = tx.count_access_packages(id).await?;
        catalog::check_deletable(&c, packages)?;
        tx.delete_catalog(id).await?;
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Delete catalog",
            "accessPackageCatalog.delete",
            target("accessPackageCatalog", id, Some(&c.display_name)),
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(())
    }

    /// Creates the built-in General catalog if the tenant has none (at every start; replicas
    /// starting together create it once). Returns it.
    pub async fn ensure_general_catalog(&self) -> ServiceResult<AccessPackageCatalog> {
        if let Some(g) = self.store.general_catalog().await? {
            return Ok(g);
        }
        let g = catalog::general_catalog(self.ids.new_id(), self.clock.now());
        let mut tx = self.store.begin().await?;
        if tx.insert_general_catalog(&g).await? {
            let event = self.event(
                &Caller::system(),
                Category::EntitlementManagement,
                "Create catalog",
                "accessPackageCatalog.create",
                target("accessPackageCatalog", g.id, Some(&g.display_name)),
            );
            tx.commit(&[event]).await?;
            self.eligibility.invalidate();
        } else {
            drop(tx);
        }
        self.store.general_catalog().await?.ok_or_else(|| {
            consulate_store::StoreError::Corrupt("the General catalog is missing".into()).into()
        })
    }
}
