//! Catalog resources (`accessPackageResource`) with the roles an access package can grant on
//! them and their scopes. Three kinds live in Consulate's own directory: groups (roles Member
//! and Owner), registered applications (their app roles) and directory roles (Active Member).
//! Each role maps to one [`Grant`], which the provisioning layer applies to a user.

use crate::access::DirectoryRole;
use crate::application::Application;
use crate::directory::Group;
use crate::{DomainError, DomainResult, Timestamp};
use uuid::Uuid;

/// Where a resource comes from (`originSystem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OriginSystem {
    AadGroup,
    AadApplication,
    DirectoryRole,
}

impl OriginSystem {
    pub const ALL: [OriginSystem; 3] = [
        OriginSystem::AadGroup,
        OriginSystem::AadApplication,
        OriginSystem::DirectoryRole,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AadGroup => "AadGroup",
            Self::AadApplication => "AadApplication",
            Self::DirectoryRole => "DirectoryRole",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "originSystem",
                    format!(
                        "'{s}' is not a supported originSystem; use AadGroup, AadApplication or DirectoryRole"
                    ),
                )
            })
    }
}

/// `roleType` of a resource role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleType {
    Active,
    Eligible,
    Application,
    Delegated,
}

impl RoleType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Eligible => "eligible",
            Self::Application => "application",
            Self::Delegated => "delegated",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "eligible" => Ok(Self::Eligible),
            "application" => Ok(Self::Application),
            "delegated" => Ok(Self::Delegated),
            _ => Err(DomainError::invalid(
                "type",
                format!("'{s}' is not a roleType"),
            )),
        }
    }
}

/// A role on a resource that an access package can grant (`accessPackageResourceRole`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRole {
    pub id: Uuid,
    pub resource_id: Uuid,
    pub display_name: String,
    pub description: String,
    /// `Member_<groupId>`, `Owner_<groupId>`, an app role's id, `ActiveMember_<templateId>`.
    pub origin_id: String,
    pub origin_system: OriginSystem,
    pub role_type: RoleType,
}

/// A scope of a resource (`accessPackageResourceScope`); every resource here has one root
/// scope covering all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceScope {
    pub id: Uuid,
    pub resource_id: Uuid,
    pub display_name: String,
    pub description: String,
    pub origin_id: String,
    pub origin_system: OriginSystem,
    pub is_root_scope: bool,
}

/// A resource in a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPackageResource {
    pub id: Uuid,
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: String,
    /// The group id, the application id or the directory role's template id.
    pub origin_id: String,
    pub origin_system: OriginSystem,
    pub roles: Vec<ResourceRole>,
    pub scopes: Vec<ResourceScope>,
    pub created_date_time: Timestamp,
    pub modified_date_time: Timestamp,
}

/// What a resource is, read from the directory before it is added to a catalog.
#[derive(Debug, Clone)]
pub enum ResourceOrigin {
    Group(Group),
    Application(Application),
    DirectoryRole(DirectoryRole),
}

/// The directory roles an access package may grant. Global Administrator is refused: whoever
/// could approve a request could otherwise make anyone the tenant's owner.
pub fn check_grantable_role(role: DirectoryRole) -> DomainResult<()> {
    if role == DirectoryRole::GlobalAdministrator {
        return Err(DomainError::invalid(
            "resource.originId",
            "Global Administrator cannot be granted through an access package",
        ));
    }
    Ok(())
}

/// The resource (with its roles and root scope) that adding `origin` to `catalog_id` creates.
/// `new_id` supplies fresh ids.
pub fn resource_for(
    origin: &ResourceOrigin,
    catalog_id: Uuid,
    now: Timestamp,
    mut new_id: impl FnMut() -> Uuid,
) -> DomainResult<AccessPackageResource> {
    let id = new_id();
    let (display_name, description, origin_id, system) = match origin {
        ResourceOrigin::Group(g) => (
            g.display_name.clone(),
            g.description.clone(),
            g.id.to_string(),
            OriginSystem::AadGroup,
        ),
        ResourceOrigin::Application(a) => (
            a.display_name.clone(),
            a.description.clone(),
            a.id.to_string(),
            OriginSystem::AadApplication,
        ),
        ResourceOrigin::DirectoryRole(r) => {
            check_grantable_role(*r)?;
            (
                r.display_name().to_owned(),
                format!("The {} directory role", r.display_name()),
                r.template_id().to_owned(),
                OriginSystem::DirectoryRole,
            )
        }
    };
    let role = |display_name: &str, description: String, origin_id: String, t: RoleType| {
        (display_name.to_owned(), description, origin_id, t)
    };
    let roles: Vec<(String, String, String, RoleType)> = match origin {
        ResourceOrigin::Group(g) => vec![
            role(
                "Member",
                "Member of the group".into(),
                format!("Member_{}", g.id),
                RoleType::Active,
            ),
            role(
                "Owner",
                "Owner of the group".into(),
                format!("Owner_{}", g.id),
                RoleType::Active,
            ),
        ],
        ResourceOrigin::Application(a) => a
            .app_roles
            .iter()
            .filter(|r| r.is_enabled)
            .map(|r| {
                role(
                    &r.display_name,
                    r.description.clone(),
                    r.id.to_string(),
                    RoleType::Application,
                )
            })
            .collect(),
        ResourceOrigin::DirectoryRole(r) => vec![role(
            "Active Member",
            format!("Active member of {}", r.display_name()),
            format!("ActiveMember_{}", r.template_id()),
            RoleType::Active,
        )],
    };
    let roles = roles
        .into_iter()
        .map(
            |(display_name, description, role_origin, role_type)| ResourceRole {
                id: new_id(),
                resource_id: id,
                display_name,
                description,
                origin_id: role_origin,
                origin_system: system,
                role_type,
            },
        )
        .collect();
    let scopes = vec![ResourceScope {
        id: new_id(),
        resource_id: id,
        display_name: "Root".into(),
        description: "Root scope".into(),
        origin_id: origin_id.clone(),
        origin_system: system,
        is_root_scope: true,
    }];
    Ok(AccessPackageResource {
        id,
        catalog_id,
        display_name,
        description,
        origin_id,
        origin_system: system,
        roles,
        scopes,
        created_date_time: now,
        modified_date_time: now,
    })
}

/// `requestType` of a resource request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceRequestType {
    AdminAdd,
    AdminRemove,
}

impl ResourceRequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdminAdd => "adminAdd",
            Self::AdminRemove => "adminRemove",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "adminadd" => Ok(Self::AdminAdd),
            "adminremove" => Ok(Self::AdminRemove),
            _ => Err(DomainError::invalid(
                "requestType",
                format!("'{s}' is not supported; use adminAdd or adminRemove"),
            )),
        }
    }
}

/// A request that added a resource to a catalog or removed it (`accessPackageResourceRequest`).
/// Resources of Consulate's own directory are added and removed at once, so a stored request
/// is always `delivered`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    pub id: Uuid,
    pub catalog_id: Uuid,
    pub resource_id: Uuid,
    pub request_type: ResourceRequestType,
    pub state: String,
    pub origin_id: String,
    pub origin_system: OriginSystem,
    /// The resource's name at the time of the request.
    pub display_name: String,
    pub created_date_time: Timestamp,
}

/// What granting a resource role to a user means in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grant {
    GroupMember { group: Uuid },
    GroupOwner { group: Uuid },
    AppRole { application: Uuid, app_role: Uuid },
    DirectoryRole(DirectoryRole),
}

impl Grant {
    /// A key naming the directory change: two roles with the same key grant the same thing.
    pub fn key(&self) -> String {
        match self {
            Grant::GroupMember { group } => format!("groupMember:{group}"),
            Grant::GroupOwner { group } => format!("groupOwner:{group}"),
            Grant::AppRole {
                application,
                app_role,
            } => format!("appRole:{application}:{app_role}"),
            Grant::DirectoryRole(r) => format!("directoryRole:{}", r.key()),
        }
    }

    /// The grant a key names.
    pub fn from_key(key: &str) -> DomainResult<Grant> {
        let bad = || DomainError::invalid("grant", format!("'{key}' is not a grant key"));
        let uuid = |s: &str| Uuid::parse_str(s).map_err(|_| bad());
        let (kind, rest) = key.split_once(':').ok_or_else(bad)?;
        Ok(match kind {
            "groupMember" => Grant::GroupMember { group: uuid(rest)? },
            "groupOwner" => Grant::GroupOwner { group: uuid(rest)? },
            "appRole" => {
                let (a, r) = rest.split_once(':').ok_or_else(bad)?;
                Grant::AppRole {
                    application: uuid(a)?,
                    app_role: uuid(r)?,
                }
            }
            "directoryRole" => Grant::DirectoryRole(DirectoryRole::parse(rest).map_err(|_| bad())?),
            _ => return Err(bad()),
        })
    }

    /// The grant behind a resource role, from its origin ids.
    pub fn for_role(resource: &AccessPackageResource, role: &ResourceRole) -> DomainResult<Grant> {
        Grant::from_origins(role.origin_system, &resource.origin_id, &role.origin_id)
    }

    /// The grant a resource role stands for, from its origin system and the origin ids of
    /// the role and of its resource.
    pub fn from_origins(
        system: OriginSystem,
        resource_origin: &str,
        role_origin: &str,
    ) -> DomainResult<Grant> {
        let bad = || {
            DomainError::invalid(
                "role",
                format!(
                    "resource role '{role_origin}' of {resource_origin} does not name a grantable role"
                ),
            )
        };
        let uuid = |s: &str| Uuid::parse_str(s).map_err(|_| bad());
        Ok(match system {
            OriginSystem::AadGroup => {
                let group = uuid(resource_origin)?;
                match role_origin.split_once('_') {
                    Some(("Member", g)) if uuid(g)? == group => Grant::GroupMember { group },
                    Some(("Owner", g)) if uuid(g)? == group => Grant::GroupOwner { group },
                    _ => return Err(bad()),
                }
            }
            OriginSystem::AadApplication => Grant::AppRole {
                application: uuid(resource_origin)?,
                app_role: uuid(role_origin)?,
            },
            OriginSystem::DirectoryRole => {
                let r = DirectoryRole::parse(resource_origin).map_err(|_| bad())?;
                check_grantable_role(r)?;
                Grant::DirectoryRole(r)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::AppRole;

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    fn group() -> Group {
        Group {
            id: Uuid::now_v7(),
            display_name: "Sales".into(),
            description: "Sales team".into(),
            mail_nickname: "sales".into(),
            security_enabled: true,
            mail_enabled: false,
            created_date_time: now(),
        }
    }

    #[test]
    fn groups_offer_member_and_owner() {
        let g = group();
        let r = resource_for(
            &ResourceOrigin::Group(g.clone()),
            Uuid::nil(),
            now(),
            Uuid::now_v7,
        )
        .unwrap();
        assert_eq!(r.origin_system, OriginSystem::AadGroup);
        assert_eq!(r.origin_id, g.id.to_string());
        let origins: Vec<&str> = r.roles.iter().map(|x| x.origin_id.as_str()).collect();
        assert_eq!(
            origins,
            vec![format!("Member_{}", g.id), format!("Owner_{}", g.id)]
        );
        assert_eq!(r.scopes.len(), 1);
        assert!(r.scopes[0].is_root_scope);
        assert_eq!(
            Grant::for_role(&r, &r.roles[0]).unwrap(),
            Grant::GroupMember { group: g.id }
        );
        assert_eq!(
            Grant::for_role(&r, &r.roles[1]).unwrap(),
            Grant::GroupOwner { group: g.id }
        );
        let mut forged = r.roles[0].clone();
        forged.origin_id = format!("Member_{}", Uuid::now_v7());
        assert!(Grant::for_role(&r, &forged).is_err());
    }

    #[test]
    fn grant_keys_round_trip() {
        for g in [
            Grant::GroupMember {
                group: Uuid::now_v7(),
            },
            Grant::GroupOwner {
                group: Uuid::now_v7(),
            },
            Grant::AppRole {
                application: Uuid::now_v7(),
                app_role: Uuid::now_v7(),
            },
            Grant::DirectoryRole(DirectoryRole::GlobalReader),
        ] {
            assert_eq!(Grant::from_key(&g.key()).unwrap(), g);
        }
        assert!(Grant::from_key("groupMember:x").is_err());
        assert!(Grant::from_key("nothing").is_err());
    }

    #[test]
    fn applications_offer_their_enabled_roles() {
        let app = Application {
            id: Uuid::now_v7(),
            app_id: Uuid::now_v7(),
            display_name: "Survey".into(),
            description: String::new(),
            app_roles: vec![
                AppRole {
                    id: Uuid::now_v7(),
                    display_name: "Reader".into(),
                    description: String::new(),
                    value: "Survey.Read".into(),
                    is_enabled: true,
                },
                AppRole {
                    id: Uuid::now_v7(),
                    display_name: "Old".into(),
                    description: String::new(),
                    value: "Survey.Old".into(),
                    is_enabled: false,
                },
            ],
            created_date_time: now(),
        };
        let r = resource_for(
            &ResourceOrigin::Application(app.clone()),
            Uuid::nil(),
            now(),
            Uuid::now_v7,
        )
        .unwrap();
        assert_eq!(r.roles.len(), 1);
        assert_eq!(r.roles[0].role_type, RoleType::Application);
        assert_eq!(
            Grant::for_role(&r, &r.roles[0]).unwrap(),
            Grant::AppRole {
                application: app.id,
                app_role: app.app_roles[0].id
            }
        );
    }

    #[test]
    fn directory_roles_but_not_global_administrator() {
        let r = resource_for(
            &ResourceOrigin::DirectoryRole(DirectoryRole::GlobalReader),
            Uuid::nil(),
            now(),
            Uuid::now_v7,
        )
        .unwrap();
        assert_eq!(r.origin_id, "f2ef992c-3afb-46b9-b7cf-a126ee74c451");
        assert_eq!(r.roles[0].display_name, "Active Member");
        assert_eq!(
            Grant::for_role(&r, &r.roles[0]).unwrap(),
            Grant::DirectoryRole(DirectoryRole::GlobalReader)
        );
        assert!(
            resource_for(
                &ResourceOrigin::DirectoryRole(DirectoryRole::GlobalAdministrator),
                Uuid::nil(),
                now(),
                Uuid::now_v7,
            )
            .is_err()
        );
    }
}
