//! Assignment policies: create, read, replace (PUT), delete, with the checks that need the
//! store: the package exists, its catalog admits external users when the policy does, and
//! every user, group and connected organization the policy names exists.

use crate::{App, ServiceResult, prop, target, within_readable_catalogs};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation};
use consulate_core::access_package::AccessPackage;
use consulate_core::audit::Category;
use consulate_core::catalog_roles::{CatalogAction, authorize_in_catalog};
use consulate_core::filter::PolicyField;
use consulate_core::policy::{self, AssignmentPolicy, PolicyDraft};
use consulate_store::WriteTx;
use consulate_store::list::{ListQuery, Page};
use uuid::Uuid;

fn missing(what: &str, id: Uuid) -> DomainError {
    DomainError::invalid(
        what,
        format!("the policy names {what} {id}, which does not exist"),
    )
}

/// Checks that everything the policy names exists (inside the writing transaction).
async fn check_references(tx: &mut WriteTx, p: &AssignmentPolicy) -> ServiceResult<()> {
    let r = p.referenced();
    for id in r.users {
        if tx.user(id).await.is_err() {
            return Err(missing("user", id).into());
        }
    }
    for id in r.groups {
        if tx.group(id).await.is_err() {
            return Err(missing("group", id).into());
        }
    }
    for id in r.connected_organizations {
        if tx.connected_organization_for_update(id).await.is_err() {
            return Err(missing("connectedOrganization", id).into());
        }
    }
    Ok(())
}

fn summary(p: &AssignmentPolicy) -> String {
    format!(
        "allowedTargetScope={}, stages={}, questions={}, version={}",
        p.allowed_target_scope.as_str(),
        p.approval_settings.stages.len(),
        p.questions.len(),
        p.version
    )
}

impl App {
    pub async fn list_policies(
        &self,
        caller: &Caller,
        q: &ListQuery<PolicyField>,
    ) -> ServiceResult<Page<AssignmentPolicy>> {
        let mut q = q.clone();
        q.filter = within_readable_catalogs(
            caller,
            Operation::ReadAccessPackages,
            PolicyField::CatalogId,
            q.filter,
        )?;
        Ok(self.store.list_policies(&q).await?)
    }

    pub async fn get_policy(&self, caller: &Caller, id: Uuid) -> ServiceResult<AssignmentPolicy> {
        let p = self.store.policy(id).await?;
        authorize_in_catalog(
            caller,
            Operation::ReadAccessPackages,
            CatalogAction::Read,
            p.catalog_id,
        )?;
        Ok(p)
    }

    /// The policies of some packages (for `$expand=assignmentPolicies`).
    pub async fn policies_of_packages(
        &self,
        caller: &Caller,
        packages: &[AccessPackage],
    ) -> ServiceResult<Vec<AssignmentPolicy>> {
        for p in packages {
            authorize_in_catalog(
                caller,
                Operation::ReadAccessPackages,
                CatalogAction::Read,
                p.catalog_id,
            )?;
        }
        let ids: Vec<Uuid> = packages.iter().map(|p| p.id).collect();
        Ok(self.store.policies_of_packages(&ids).await?)
    }

    /// Creates (`existing` is `None`) or replaces a policy.
    pub async fn save_policy(
        &self,
        caller: &Caller,
        existing: Option<Uuid>,
        draft: PolicyDraft,
    ) -> ServiceResult<AssignmentPolicy> {
        if let Some(id) = existing {
            let current = self.store.policy(id).await?;
            authorize_in_catalog(
                caller,
                Operation::WriteAccessPackages,
                CatalogAction::ManagePackages,
                current.catalog_id,
            )?;
        }
        match self.store.access_package(draft.access_package_id).await {
            Ok(p) => authorize_in_catalog(
                caller,
                Operation::WriteAccessPackages,
                CatalogAction::ManagePackages,
                p.catalog_id,
            )?,
            // A missing package is reported by the checks below, as a bad reference.
            Err(consulate_store::StoreError::Domain(DomainError::NotFound { .. })) => {
                consulate_core::access::authorize(caller, Operation::WriteAccessPackages)?
            }
            Err(e) => return Err(e.into()),
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let previous = match existing {
            Some(id) => Some(tx.policy_for_update(id).await?),
            None => None,
        };
        let package = tx
            .access_package_for_update(draft.access_package_id)
            .await
            .map_err(|e| match e {
                consulate_store::StoreError::Domain(DomainError::NotFound { id, .. }) => {
                    consulate_store::StoreError::Domain(DomainError::invalid(
                        "accessPackage",
                        format!("access package {id} does not exist"),
                    ))
                }
                other => other,
            })?;
        let catalog = tx.catalog_for_update(package.catalog_id).await?;
        let p = draft.into_policy(self.ids.new_id(), catalog.id, previous.as_ref(), now)?;
        policy::check_catalog_visibility(p.allowed_target_scope, catalog.is_externally_visible)?;
        check_references(&mut tx, &p).await?;
        let mut t = target("accessPackageAssignmentPolicy", p.id, Some(&p.display_name));
        t.modified_properties.push(prop(
            "policy",
            previous.as_ref().map(summary),
            Some(summary(&p)),
        ));
        t.modified_properties.push(prop(
            "accessPackage",
            None,
            Some(format!("{} ({})", package.display_name, package.id)),
        ));
        let (activity, operation) = match &previous {
            None => {
                tx.insert_policy(&p).await?;
                (
                    "Create access package assignment policy",
                    "assignmentPolicy.create",
                )
            }
            Some(_) => {
                tx.replace_policy(&p).await?;
                (
                    "Update access package assignment policy",
                    "assignmentPolicy.update",
                )
            }
        };
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            activity,
            operation,
            t,
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(p)
    }

    pub async fn delete_policy(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let current = self.store.policy(id).await?;
        authorize_in_catalog(
            caller,
            Operation::WriteAccessPackages,
            CatalogAction::ManagePackages,
            current.catalog_id,
        )?;
        let mut tx = self.store.begin().await?;
        let p = tx.policy_for_update(id).await?;
        tx.delete_policy(id).await?;
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Delete access package assignment policy",
            "assignmentPolicy.delete",
            target("accessPackageAssignmentPolicy", id, Some(&p.display_name)),
        );
        tx.commit(&[event]).await?;
        self.eligibility.invalidate();
        Ok(())
    }
}
