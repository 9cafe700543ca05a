//! Access packages: bundles of resource roles from one catalog that users request together,
//! with the packages and groups they are incompatible with.

use crate::{DomainError, DomainResult, Timestamp, text};
use uuid::Uuid;

/// An access package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPackage {
    pub id: Uuid,
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: String,
    /// Hidden from requestors' lists; still requestable by its link.
    pub is_hidden: bool,
    pub created_date_time: Timestamp,
    pub modified_date_time: Timestamp,
}

/// A new access package as requested.
#[derive(Debug, Clone, Default)]
pub struct NewAccessPackage {
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub is_hidden: Option<bool>,
}

impl NewAccessPackage {
    pub fn into_package(self, id: Uuid, now: Timestamp) -> DomainResult<AccessPackage> {
        Ok(AccessPackage {
            id,
            catalog_id: self.catalog_id,
            display_name: text::display_name("displayName", &self.display_name)?,
            description: text::description(
                "description",
                self.description.as_deref().unwrap_or(""),
            )?,
            is_hidden: self.is_hidden.unwrap_or(false),
            created_date_time: now,
            modified_date_time: now,
        })
    }
}

/// A PATCH of an access package.
#[derive(Debug, Clone, Default)]
pub struct AccessPackagePatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub is_hidden: Option<bool>,
}

/// Applies a patch; returns the names of the properties that changed.
pub fn apply_patch(
    p: &mut AccessPackage,
    patch: AccessPackagePatch,
    now: Timestamp,
) -> DomainResult<Vec<&'static str>> {
    let mut changed = Vec::new();
    if let Some(n) = patch.display_name {
        let n = text::display_name("displayName", &n)?;
        if n != p.display_name {
            p.display_name = n;
            changed.push("displayName");
        }
    }
    if let Some(d) = patch.description {
        let d = text::description("description", &d)?;
        if d != p.description {
            p.description = d;
            changed.push("description");
        }
    }
    if let Some(h) = patch.is_hidden
        && h != p.is_hidden
    {
        p.is_hidden = h;
        changed.push("isHidden");
    }
    if !changed.is_empty() {
        p.modified_date_time = now;
    }
    Ok(changed)
}

/// A resource role granted by an access package, at a scope of its resource
/// (`accessPackageResourceRoleScope`). Its id is `{roleId}_{scopeId}`, as in Graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleScope {
    pub access_package_id: Uuid,
    pub role_id: Uuid,
    pub scope_id: Uuid,
    pub created_date_time: Timestamp,
}

impl RoleScope {
    pub fn id(&self) -> String {
        format!("{}_{}", self.role_id, self.scope_id)
    }

    /// Splits a `{roleId}_{scopeId}` id.
    pub fn parse_id(s: &str) -> Option<(Uuid, Uuid)> {
        let (r, sc) = s.split_once('_')?;
        Some((Uuid::parse_str(r).ok()?, Uuid::parse_str(sc).ok()?))
    }
}

/// Why an access package cannot be deleted: what still refers to it.
pub fn check_deletable(
    p: &AccessPackage,
    policies: u64,
    active_assignments: u64,
) -> DomainResult<()> {
    if active_assignments > 0 {
        return Err(DomainError::conflict(format!(
            "The access package '{}' has {active_assignments} assignment(s); remove them first",
            p.display_name
        )));
    }
    if policies > 0 {
        return Err(DomainError::conflict(format!(
            "The access package '{}' has {policies} assignment polic(ies); delete them first",
            p.display_name
        )));
    }
    Ok(())
}

/// A package cannot be incompatible with itself.
pub fn check_incompatible(p: Uuid, other: Uuid) -> DomainResult<()> {
    if p == other {
        return Err(DomainError::invalid(
            "@odata.id",
            "an access package cannot be incompatible with itself",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    #[test]
    fn packages_validate_and_patch() {
        let mut p = NewAccessPackage {
            catalog_id: Uuid::nil(),
            display_name: " Consulting ".into(),
            ..Default::default()
        }
        .into_package(Uuid::nil(), now())
        .unwrap();
        assert_eq!(p.display_name, "Consulting");
        assert!(!p.is_hidden);
        let changed = apply_patch(
            &mut p,
            AccessPackagePatch {
                is_hidden: Some(true),
                display_name: Some("Consulting".into()),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
        assert_eq!(changed, vec!["isHidden"]);
        assert!(
            NewAccessPackage::default()
                .into_package(Uuid::nil(), now())
                .is_err()
        );
    }

    #[test]
    fn role_scope_ids_round_trip() {
        let rs = RoleScope {
            access_package_id: Uuid::nil(),
            role_id: Uuid::now_v7(),
            scope_id: Uuid::now_v7(),
            created_date_time: now(),
        };
        assert_eq!(
            RoleScope::parse_id(&rs.id()),
            Some((rs.role_id, rs.scope_id))
        );
        assert_eq!(RoleScope::parse_id("x_y"), None);
    }

    #[test]
    fn deletion_names_what_blocks_it() {
        let p = NewAccessPackage {
            catalog_id: Uuid::nil(),
            display_name: "P".into(),
            ..Default::default()
        }
        .into_package(Uuid::nil(), now())
        .unwrap();
        assert!(check_deletable(&p, 0, 0).is_ok());
        assert!(
            check_deletable(&p, 1, 0)
                .unwrap_err()
                .to_string()
                .contains("polic")
        );
        assert!(
            check_deletable(&p, 1, 3)
                .unwrap_err()
                .to_string()
                .contains("3 assignment")
        );
        assert!(check_incompatible(p.id, p.id).is_err());
    }
}
