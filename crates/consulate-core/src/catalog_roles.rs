//! Entitlement-management roles (Graph's `roleManagement/entitlementManagement`): catalog
//! creator for the tenant, and catalog owner, catalog reader, access package manager and
//! access package assignment manager for one catalog. They let users who hold no directory
//! role manage what they are given, and nothing else.

use crate::access::{Caller, CallerIdentity, Operation, authorize};
use crate::{DomainError, DomainResult};
use uuid::Uuid;

/// An entitlement-management role definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CatalogRole {
    /// Creates catalogs (tenant-wide); becomes the owner of what they create.
    CatalogCreator,
    /// Manages everything in one catalog, including its roles.
    CatalogOwner,
    /// Reads one catalog, its packages, policies and assignments.
    CatalogReader,
    /// Manages the access packages and policies of one catalog.
    AccessPackageManager,
    /// Manages the assignments of one catalog's access packages.
    AccessPackageAssignmentManager,
}

impl CatalogRole {
    pub const ALL: [CatalogRole; 5] = [
        Self::CatalogCreator,
        Self::CatalogOwner,
        Self::CatalogReader,
        Self::AccessPackageManager,
        Self::AccessPackageAssignmentManager,
    ];

    /// The role definition id, the same in every Entra tenant.
    pub fn definition_id(self) -> &'static str {
        match self {
            Self::CatalogCreator => "ba92d953-d8e0-4e39-a797-0cbedb0a89e8",
            Self::CatalogOwner => "ae79f266-94d4-4dab-b730-feca7e132178",
            Self::CatalogReader => "44272f93-9762-48e8-af59-1b5351b1d6b3",
            Self::AccessPackageManager => "7f480852-ebdc-47d4-87de-0d8498384a83",
            Self::AccessPackageAssignmentManager => "e2182095-804a-4656-ae11-64734e9b7ae5",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Self::CatalogCreator => "Catalog creator",
            Self::CatalogOwner => "Catalog owner",
            Self::CatalogReader => "Catalog reader",
            Self::AccessPackageManager => "Access package manager",
            Self::AccessPackageAssignmentManager => "Access package assignment manager",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::CatalogCreator => {
                "Create and manage catalogs; the creator of a catalog becomes its first owner."
            }
            Self::CatalogOwner => {
                "Edit and manage an existing catalog, its resources, access packages, policies and roles."
            }
            Self::CatalogReader => "View the existing access packages of a catalog.",
            Self::AccessPackageManager => {
                "Edit and manage all existing access packages of a catalog."
            }
            Self::AccessPackageAssignmentManager => {
                "Edit and manage the assignments of a catalog's access packages."
            }
        }
    }

    pub fn parse_definition_id(s: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.definition_id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "roleDefinitionId",
                    format!("'{s}' is not an entitlement-management role definition"),
                )
            })
    }

    /// Whether the role is held for the tenant (`/`) rather than one catalog.
    pub fn is_tenant_wide(self) -> bool {
        self == Self::CatalogCreator
    }

    fn allows(self, action: CatalogAction) -> bool {
        use CatalogAction::*;
        match self {
            Self::CatalogOwner => true,
            Self::CatalogReader => action == Read,
            Self::AccessPackageManager => matches!(action, Read | ManagePackages),
            Self::AccessPackageAssignmentManager => matches!(action, Read | ManageAssignments),
            Self::CatalogCreator => false,
        }
    }
}

/// Where a role assignment applies (`appScopeId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleScope {
    Tenant,
    Catalog(Uuid),
}

impl RoleScope {
    /// `/` or `/AccessPackageCatalog/{id}`.
    pub fn app_scope_id(self) -> String {
        match self {
            Self::Tenant => "/".into(),
            Self::Catalog(id) => format!("/AccessPackageCatalog/{id}"),
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        let t = s.trim();
        if t == "/" || t.is_empty() {
            return Ok(Self::Tenant);
        }
        t.strip_prefix("/AccessPackageCatalog/")
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(Self::Catalog)
            .ok_or_else(|| {
                DomainError::invalid(
                    "appScopeId",
                    format!("'{t}' is not / or /AccessPackageCatalog/{{catalogId}}"),
                )
            })
    }
}

/// One role a user holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CatalogRoleGrant {
    pub role: CatalogRole,
    pub scope: RoleScope,
}

/// Checks that a role fits its scope (catalog roles need a catalog, the creator the tenant).
pub fn check_grant(g: CatalogRoleGrant) -> DomainResult<()> {
    match (g.role.is_tenant_wide(), g.scope) {
        (true, RoleScope::Tenant) | (false, RoleScope::Catalog(_)) => Ok(()),
        (true, _) => Err(DomainError::invalid(
            "appScopeId",
            "the catalog creator role applies to the tenant: use appScopeId /",
        )),
        (false, _) => Err(DomainError::invalid(
            "appScopeId",
            format!(
                "{} applies to one catalog: use /AccessPackageCatalog/{{catalogId}}",
                g.role.display_name()
            ),
        )),
    }
}

/// What a catalog-scoped call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogAction {
    Read,
    /// Change or delete the catalog, add or remove its resources, assign its roles.
    ManageCatalog,
    ManagePackages,
    ManageAssignments,
}

/// Authorizes `op` on one catalog: directory roles as [`authorize`] checks them, or, for a
/// signed-in user whose token carries the scope, a catalog role that allows `action` there.
pub fn authorize_in_catalog(
    caller: &Caller,
    op: Operation,
    action: CatalogAction,
    catalog: Uuid,
) -> DomainResult<()> {
    let refused = match authorize(caller, op) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if holds_catalog_role(caller, op, |g| {
        g.scope == RoleScope::Catalog(catalog) && g.role.allows(action)
    }) {
        return Ok(());
    }
    Err(refused)
}

/// Authorizes creating a catalog: directory roles, or the catalog creator role.
pub fn authorize_catalog_creation(caller: &Caller, op: Operation) -> DomainResult<()> {
    let refused = match authorize(caller, op) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if holds_catalog_role(caller, op, |g| g.role == CatalogRole::CatalogCreator) {
        return Ok(());
    }
    Err(refused)
}

fn holds_catalog_role(
    caller: &Caller,
    op: Operation,
    want: impl Fn(&CatalogRoleGrant) -> bool,
) -> bool {
    matches!(caller.identity, CallerIdentity::User { .. })
        && op.scopes().iter().any(|s| caller.scopes.contains(s))
        && caller.catalog_roles.iter().any(want)
}

/// Which catalogs a list may show: `None` when the caller sees every catalog, otherwise the
/// catalogs its catalog roles reach. Fails when the caller may read none at all.
pub fn readable_catalogs(caller: &Caller, op: Operation) -> DomainResult<Option<Vec<Uuid>>> {
    let refused = match authorize(caller, op) {
        Ok(()) => return Ok(None),
        Err(e) => e,
    };
    if !holds_catalog_role(caller, op, |_| true) {
        return Err(refused);
    }
    let mut ids: Vec<Uuid> = caller
        .catalog_roles
        .iter()
        .filter_map(|g| match g.scope {
            RoleScope::Catalog(id) if g.role.allows(CatalogAction::Read) => Some(id),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Scope;
    use std::collections::BTreeSet;

    fn user(grants: &[CatalogRoleGrant]) -> Caller {
        Caller {
            identity: CallerIdentity::User {
                user_id: Uuid::nil(),
                user_principal_name: "u@c.example".into(),
                token_id: None,
            },
            scopes: [Scope::EntitlementManagementReadWriteAll]
                .into_iter()
                .collect(),
            roles: BTreeSet::new(),
            catalog_roles: grants.iter().copied().collect(),
            sign_in: None,
        }
    }

    #[test]
    fn catalog_roles_reach_their_catalog_only() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let manager = user(&[CatalogRoleGrant {
            role: CatalogRole::AccessPackageManager,
            scope: RoleScope::Catalog(a),
        }]);
        use CatalogAction::*;
        assert!(
            authorize_in_catalog(&manager, Operation::WriteAccessPackages, ManagePackages, a)
                .is_ok()
        );
        assert!(
            authorize_in_catalog(&manager, Operation::WriteAccessPackages, ManagePackages, b)
                .is_err()
        );
        assert!(
            authorize_in_catalog(&manager, Operation::WriteCatalogs, ManageCatalog, a).is_err()
        );
        assert_eq!(
            readable_catalogs(&manager, Operation::ReadCatalogs).unwrap(),
            Some(vec![a])
        );
        let nobody = user(&[]);
        assert!(readable_catalogs(&nobody, Operation::ReadCatalogs).is_err());
        assert!(authorize_catalog_creation(&nobody, Operation::WriteCatalogs).is_err());
        let creator = user(&[CatalogRoleGrant {
            role: CatalogRole::CatalogCreator,
            scope: RoleScope::Tenant,
        }]);
        assert!(authorize_catalog_creation(&creator, Operation::WriteCatalogs).is_ok());
        // The token's scope still has to allow the operation.
        let mut read_only = manager.clone();
        read_only.scopes = [Scope::EntitlementManagementReadAll].into_iter().collect();
        assert!(
            authorize_in_catalog(
                &read_only,
                Operation::WriteAccessPackages,
                ManagePackages,
                a
            )
            .is_err()
        );
    }

    #[test]
    fn scopes_and_definitions_parse() {
        let id = Uuid::from_u128(7);
        assert_eq!(
            RoleScope::parse(&RoleScope::Catalog(id).app_scope_id()).unwrap(),
            RoleScope::Catalog(id)
        );
        assert_eq!(RoleScope::parse("/").unwrap(), RoleScope::Tenant);
        assert!(RoleScope::parse("/Catalog/x").is_err());
        for r in CatalogRole::ALL {
            assert_eq!(
                CatalogRole::parse_definition_id(r.definition_id()).unwrap(),
                r
            );
        }
        assert!(
            check_grant(CatalogRoleGrant {
                role: CatalogRole::CatalogOwner,
                scope: RoleScope::Tenant
            })
            .is_err()
        );
        assert!(
            check_grant(CatalogRoleGrant {
                role: CatalogRole::CatalogCreator,
                scope: RoleScope::Catalog(id)
            })
            .is_err()
        );
    }
}
