//! Who may call what. A caller holds Graph permissions (scopes) from its token; a delegated
//! caller (a signed-in user acting through a token) also needs a directory role, as in Graph:
//! the effective right is the intersection of the token's scopes and the user's roles.

use crate::{DomainError, DomainResult};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The Graph permissions Consulate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    EntitlementManagementReadAll,
    EntitlementManagementReadWriteAll,
    UserReadWriteAll,
    GroupReadWriteAll,
    AuditLogReadAll,
    DirectoryReadAll,
    ApplicationReadWriteAll,
    RoleManagementReadWriteDirectory,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::EntitlementManagementReadAll,
        Scope::EntitlementManagementReadWriteAll,
        Scope::UserReadWriteAll,
        Scope::GroupReadWriteAll,
        Scope::AuditLogReadAll,
        Scope::DirectoryReadAll,
        Scope::ApplicationReadWriteAll,
        Scope::RoleManagementReadWriteDirectory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EntitlementManagementReadAll => "EntitlementManagement.Read.All",
            Scope::EntitlementManagementReadWriteAll => "EntitlementManagement.ReadWrite.All",
            Scope::UserReadWriteAll => "User.ReadWrite.All",
            Scope::GroupReadWriteAll => "Group.ReadWrite.All",
            Scope::AuditLogReadAll => "AuditLog.Read.All",
            Scope::DirectoryReadAll => "Directory.Read.All",
            Scope::ApplicationReadWriteAll => "Application.ReadWrite.All",
            Scope::RoleManagementReadWriteDirectory => "RoleManagement.ReadWrite.Directory",
        }
    }

    /// Parses a permission name, case-insensitively.
    pub fn parse(s: &str) -> DomainResult<Scope> {
        Scope::ALL
            .into_iter()
            .find(|sc| sc.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                DomainError::invalid(
                    "scopes",
                    format!(
                        "'{}' is not a known permission; known: {}",
                        s.trim(),
                        known.join(", ")
                    ),
                )
            })
    }

    /// Parses a comma- or space-separated list; at least one.
    pub fn parse_list(s: &str) -> DomainResult<BTreeSet<Scope>> {
        let set: BTreeSet<Scope> = s
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
            .map(Scope::parse)
            .collect::<DomainResult<_>>()?;
        if set.is_empty() {
            return Err(DomainError::invalid(
                "scopes",
                "at least one permission is required",
            ));
        }
        Ok(set)
    }
}

/// Directory roles the permission model knows (Graph §1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DirectoryRole {
    GlobalAdministrator,
    IdentityGovernanceAdministrator,
    UserAdministrator,
    GroupsAdministrator,
    GlobalReader,
    SecurityReader,
    SecurityAdministrator,
    ComplianceAdministrator,
}

impl DirectoryRole {
    pub const ALL: [DirectoryRole; 8] = [
        DirectoryRole::GlobalAdministrator,
        DirectoryRole::IdentityGovernanceAdministrator,
        DirectoryRole::UserAdministrator,
        DirectoryRole::GroupsAdministrator,
        DirectoryRole::GlobalReader,
        DirectoryRole::SecurityReader,
        DirectoryRole::SecurityAdministrator,
        DirectoryRole::ComplianceAdministrator,
    ];

    pub fn display_name(self) -> &'static str {
        match self {
            DirectoryRole::GlobalAdministrator => "Global Administrator",
            DirectoryRole::IdentityGovernanceAdministrator => "Identity Governance Administrator",
            DirectoryRole::UserAdministrator => "User Administrator",
            DirectoryRole::GroupsAdministrator => "Groups Administrator",
            DirectoryRole::GlobalReader => "Global Reader",
            DirectoryRole::SecurityReader => "Security Reader",
            DirectoryRole::SecurityAdministrator => "Security Administrator",
            DirectoryRole::ComplianceAdministrator => "Compliance Administrator",
        }
    }

    /// The role's well-known template id (the same in every Entra tenant).
    pub fn template_id(self) -> &'static str {
        match self {
            DirectoryRole::GlobalAdministrator => "62e90394-69f5-4237-9190-012177145e10",
            DirectoryRole::IdentityGovernanceAdministrator => {
                "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
            }
            DirectoryRole::UserAdministrator => "fe930be7-5e62-47db-91af-98c3a49a38b1",
            DirectoryRole::GroupsAdministrator => "fdd7a751-b60b-444a-984c-02652fe8fa1c",
            DirectoryRole::GlobalReader => "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
            DirectoryRole::SecurityReader => "5d6b6bb7-de71-4623-b4af-96380a352509",
            DirectoryRole::SecurityAdministrator => "194ae4cb-b126-40b2-bd5b-6091b380977d",
            DirectoryRole::ComplianceAdministrator => "17315797-102d-40b4-93e0-432062caca18",
        }
    }

    /// A stable key for storage.
    pub fn key(self) -> &'static str {
        match self {
            DirectoryRole::GlobalAdministrator => "globalAdministrator",
            DirectoryRole::IdentityGovernanceAdministrator => "identityGovernanceAdministrator",
            DirectoryRole::UserAdministrator => "userAdministrator",
            DirectoryRole::GroupsAdministrator => "groupsAdministrator",
            DirectoryRole::GlobalReader => "globalReader",
            DirectoryRole::SecurityReader => "securityReader",
            DirectoryRole::SecurityAdministrator => "securityAdministrator",
            DirectoryRole::ComplianceAdministrator => "complianceAdministrator",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        let t = s.trim();
        DirectoryRole::ALL
            .into_iter()
            .find(|r| {
                r.key().eq_ignore_ascii_case(t)
                    || r.display_name().eq_ignore_ascii_case(t)
                    || r.template_id().eq_ignore_ascii_case(t)
            })
            .ok_or_else(|| {
                DomainError::invalid("role", format!("'{t}' is not a known directory role"))
            })
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerIdentity {
    /// An application with an API token (application permissions).
    Application { token_id: Uuid, name: String },
    /// A signed-in user, directly or through a delegated token.
    User {
        user_id: Uuid,
        user_principal_name: String,
        token_id: Option<Uuid>,
    },
    /// Someone signed in from outside (by email one-time passcode or a home identity
    /// provider) who has no user in the directory yet: the key is (issuer, subject), never
    /// the email. May only read and request their own access.
    External {
        issuer: String,
        subject: String,
        email: Option<String>,
    },
    /// Consulate itself (start-up, sweeps, CLI maintenance).
    System,
}

/// An authenticated caller and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub identity: CallerIdentity,
    pub scopes: BTreeSet<Scope>,
    pub roles: BTreeSet<DirectoryRole>,
    /// Entitlement-management roles of a signed-in user (catalog owner, reader, …).
    pub catalog_roles: BTreeSet<crate::catalog_roles::CatalogRoleGrant>,
    /// How someone from outside signed in, for a session (sign-in rules apply again when
    /// they request); `None` for tokens and members.
    pub sign_in: Option<SignInContext>,
}

/// How a session from outside was signed in, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInContext {
    pub method: crate::sign_in_rules::SignInMethod,
    pub mfa: bool,
    pub issuer: String,
    pub subject: String,
}

impl Caller {
    pub fn system() -> Self {
        Caller {
            identity: CallerIdentity::System,
            scopes: Scope::ALL.into_iter().collect(),
            roles: BTreeSet::new(),
            catalog_roles: BTreeSet::new(),
            sign_in: None,
        }
    }
}

/// The operations the API authorizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ReadConnectedOrganizations,
    WriteConnectedOrganizations,
    ReadUsers,
    WriteUsers,
    ReadGroups,
    WriteGroups,
    ReadAuditLogs,
    ReadCatalogs,
    /// Create, change or delete catalogs, and add or remove their resources.
    WriteCatalogs,
    ReadAccessPackages,
    /// Create, change or delete access packages and what they grant.
    WriteAccessPackages,
    /// A signed-in user asking what they may request (no directory role needed).
    ReadOwnAccess,
    /// A signed-in user requesting access for themselves (the policy decides the rest).
    RequestOwnAccess,
    ReadAssignments,
    /// Assign, extend or remove access for others.
    WriteAssignments,
    ReadApplications,
    WriteApplications,
    /// Grant directory roles (adding one to a catalog makes it grantable).
    WriteDirectoryRoles,
}

impl Operation {
    /// Any one of these scopes allows the operation.
    pub(crate) fn scopes(self) -> &'static [Scope] {
        use Scope::*;
        match self {
            Operation::ReadConnectedOrganizations
            | Operation::ReadCatalogs
            | Operation::ReadAccessPackages
            | Operation::ReadOwnAccess
            | Operation::ReadAssignments => &[
                EntitlementManagementReadAll,
                EntitlementManagementReadWriteAll,
            ],
            Operation::WriteConnectedOrganizations
            | Operation::WriteCatalogs
            | Operation::WriteAccessPackages
            | Operation::WriteAssignments
            | Operation::RequestOwnAccess => &[EntitlementManagementReadWriteAll],
            Operation::ReadUsers => &[UserReadWriteAll, DirectoryReadAll],
            Operation::WriteUsers => &[UserReadWriteAll],
            Operation::ReadGroups => &[GroupReadWriteAll, DirectoryReadAll],
            Operation::WriteGroups => &[GroupReadWriteAll],
            Operation::ReadAuditLogs => &[AuditLogReadAll],
            Operation::ReadApplications => &[ApplicationReadWriteAll, DirectoryReadAll],
            Operation::WriteApplications => &[ApplicationReadWriteAll],
            Operation::WriteDirectoryRoles => &[RoleManagementReadWriteDirectory],
        }
    }

    /// For delegated callers, any one of these roles allows the operation.
    fn roles(self) -> &'static [DirectoryRole] {
        use DirectoryRole::*;
        match self {
            Operation::ReadConnectedOrganizations
            | Operation::ReadCatalogs
            | Operation::ReadAccessPackages
            | Operation::ReadAssignments => &[
                GlobalAdministrator,
                IdentityGovernanceAdministrator,
                GlobalReader,
                SecurityReader,
                SecurityAdministrator,
                ComplianceAdministrator,
            ],
            Operation::WriteConnectedOrganizations
            | Operation::WriteCatalogs
            | Operation::WriteAccessPackages
            | Operation::WriteAssignments => {
                &[GlobalAdministrator, IdentityGovernanceAdministrator]
            }
            Operation::ReadUsers | Operation::ReadGroups | Operation::ReadApplications => &[
                GlobalAdministrator,
                IdentityGovernanceAdministrator,
                UserAdministrator,
                GroupsAdministrator,
                GlobalReader,
                SecurityReader,
                SecurityAdministrator,
                ComplianceAdministrator,
            ],
            Operation::WriteUsers => &[GlobalAdministrator, UserAdministrator],
            Operation::WriteApplications | Operation::WriteDirectoryRoles => &[GlobalAdministrator],
            Operation::ReadOwnAccess | Operation::RequestOwnAccess => &[],
            Operation::WriteGroups => {
                &[GlobalAdministrator, UserAdministrator, GroupsAdministrator]
            }
            Operation::ReadAuditLogs => &[
                GlobalAdministrator,
                GlobalReader,
                SecurityReader,
                SecurityAdministrator,
                ComplianceAdministrator,
            ],
        }
    }
}

/// Decides whether `caller` may perform `op`.
pub fn authorize(caller: &Caller, op: Operation) -> DomainResult<()> {
    let needed = op.scopes();
    if !needed.iter().any(|s| caller.scopes.contains(s)) {
        let names: Vec<&str> = needed.iter().map(|s| s.as_str()).collect();
        return Err(DomainError::forbidden(format!(
            "Insufficient privileges to complete the operation: one of the permissions {} is required",
            names.join(", ")
        )));
    }
    if let CallerIdentity::External { .. } = caller.identity
        && !matches!(op, Operation::ReadOwnAccess | Operation::RequestOwnAccess)
    {
        return Err(DomainError::forbidden(
            "Insufficient privileges to complete the operation: sign in as a user of this directory",
        ));
    }
    if let CallerIdentity::User { .. } = caller.identity {
        let roles = op.roles();
        if !roles.is_empty() && !roles.iter().any(|r| caller.roles.contains(r)) {
            let names: Vec<&str> = roles.iter().map(|r| r.display_name()).collect();
            return Err(DomainError::forbidden(format!(
                "Insufficient privileges to complete the operation: one of the roles {} is required",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(scopes: &[Scope]) -> Caller {
        Caller {
            identity: CallerIdentity::Application {
                token_id: Uuid::nil(),
                name: "a".into(),
            },
            scopes: scopes.iter().copied().collect(),
            roles: BTreeSet::new(),
            catalog_roles: BTreeSet::new(),
            sign_in: None,
        }
    }

    #[test]
    fn application_permissions() {
        use Operation::*;
        use Scope::*;
        assert!(
            authorize(
                &app(&[EntitlementManagementReadAll]),
                ReadConnectedOrganizations
            )
            .is_ok()
        );
        assert!(
            authorize(
                &app(&[EntitlementManagementReadAll]),
                WriteConnectedOrganizations
            )
            .is_err()
        );
        assert!(
            authorize(
                &app(&[EntitlementManagementReadWriteAll]),
                WriteConnectedOrganizations
            )
            .is_ok()
        );
        assert!(authorize(&app(&[EntitlementManagementReadWriteAll]), ReadUsers).is_err());
        assert!(authorize(&app(&[DirectoryReadAll]), ReadGroups).is_ok());
        assert!(authorize(&app(&[DirectoryReadAll]), WriteGroups).is_err());
        assert!(authorize(&app(&[UserReadWriteAll]), ReadAuditLogs).is_err());
        assert!(authorize(&app(&[AuditLogReadAll]), ReadAuditLogs).is_ok());
    }

    #[test]
    fn delegated_callers_need_scope_and_role() {
        let mut c = Caller {
            identity: CallerIdentity::User {
                user_id: Uuid::nil(),
                user_principal_name: "u@c.com".into(),
                token_id: None,
            },
            scopes: [Scope::EntitlementManagementReadWriteAll]
                .into_iter()
                .collect(),
            roles: BTreeSet::new(),
            catalog_roles: BTreeSet::new(),
            sign_in: None,
        };
        assert!(authorize(&c, Operation::WriteConnectedOrganizations).is_err());
        c.roles.insert(DirectoryRole::GlobalReader);
        assert!(authorize(&c, Operation::ReadConnectedOrganizations).is_ok());
        assert!(authorize(&c, Operation::WriteConnectedOrganizations).is_err());
        c.roles
            .insert(DirectoryRole::IdentityGovernanceAdministrator);
        assert!(authorize(&c, Operation::WriteConnectedOrganizations).is_ok());
    }

    #[test]
    fn scope_lists_parse() {
        let s = Scope::parse_list("EntitlementManagement.Read.All, user.readwrite.all").unwrap();
        assert_eq!(s.len(), 2);
        assert!(Scope::parse_list("Mail.Send").is_err());
        assert!(Scope::parse_list(" , ").is_err());
        assert_eq!(
            DirectoryRole::parse("Identity Governance Administrator").unwrap(),
            DirectoryRole::IdentityGovernanceAdministrator
        );
    }
}
