//! Access package catalogs: containers of resources and access packages, each with its own
//! administrators. One built-in catalog, **General**, exists in every tenant.

use crate::{DomainError, DomainResult, Timestamp, text};
use uuid::Uuid;

/// The name of the built-in catalog.
pub const GENERAL_CATALOG_NAME: &str = "General";

/// Who manages a catalog (`accessPackageCatalogType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogType {
    /// Created by an administrator.
    UserManaged,
    /// The built-in General catalog.
    ServiceDefault,
    /// Created and managed by the service itself.
    ServiceManaged,
}

impl CatalogType {
    pub const ALL: [CatalogType; 3] = [
        CatalogType::UserManaged,
        CatalogType::ServiceDefault,
        CatalogType::ServiceManaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserManaged => "userManaged",
            Self::ServiceDefault => "serviceDefault",
            Self::ServiceManaged => "serviceManaged",
        }
    }

    /// Parses the Graph enum member, case-insensitively.
    pub fn parse(s: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "catalogType",
                    format!(
                        "'{s}' is not an accessPackageCatalogType; use userManaged, serviceDefault or serviceManaged"
                    ),
                )
            })
    }
}

/// Whether a catalog's access packages are available (`accessPackageCatalogState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogState {
    Unpublished,
    Published,
}

impl CatalogState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unpublished => "unpublished",
            Self::Published => "published",
        }
    }

    /// Parses the Graph enum member, case-insensitively.
    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "published" => Ok(Self::Published),
            "unpublished" => Ok(Self::Unpublished),
            _ => Err(DomainError::invalid(
                "state",
                format!("'{s}' is not an accessPackageCatalogState; use published or unpublished"),
            )),
        }
    }
}

/// An access package catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPackageCatalog {
    pub id: Uuid,
    pub display_name: String,
    pub description: String,
    pub catalog_type: CatalogType,
    pub state: CatalogState,
    /// "Enabled for external users": its packages may be requested by users outside the
    /// directory.
    pub is_externally_visible: bool,
    pub created_date_time: Timestamp,
    pub modified_date_time: Timestamp,
}

impl AccessPackageCatalog {
    /// True when requests may be made for its access packages at all: it is published.
    pub fn is_enabled(&self) -> bool {
        self.state == CatalogState::Published
    }
}

/// A new catalog as requested. Absent properties take Graph's defaults: published, and (as
/// the portal does) enabled for external users.
#[derive(Debug, Clone, Default)]
pub struct NewCatalog {
    pub display_name: String,
    pub description: Option<String>,
    pub state: Option<CatalogState>,
    pub is_externally_visible: Option<bool>,
}

impl NewCatalog {
    /// Validates the request into a user-managed catalog.
    pub fn into_catalog(self, id: Uuid, now: Timestamp) -> DomainResult<AccessPackageCatalog> {
        Ok(AccessPackageCatalog {
            id,
            display_name: text::display_name("displayName", &self.display_name)?,
            description: text::description(
                "description",
                self.description.as_deref().unwrap_or(""),
            )?,
            catalog_type: CatalogType::UserManaged,
            state: self.state.unwrap_or(CatalogState::Published),
            is_externally_visible: self.is_externally_visible.unwrap_or(true),
            created_date_time: now,
            modified_date_time: now,
        })
    }
}

/// The built-in General catalog.
pub fn general_catalog(id: Uuid, now: Timestamp) -> AccessPackageCatalog {
    AccessPackageCatalog {
        id,
        display_name: GENERAL_CATALOG_NAME.into(),
        description: "Built-in catalog.".into(),
        catalog_type: CatalogType::ServiceDefault,
        state: CatalogState::Published,
        is_externally_visible: true,
        created_date_time: now,
        modified_date_time: now,
    }
}

/// A PATCH: absent properties stay as they are.
#[derive(Debug, Clone, Default)]
pub struct CatalogPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub catalog_type: Option<CatalogType>,
    pub state: Option<CatalogState>,
    pub is_externally_visible: Option<bool>,
}

/// Applies a patch; returns the names of the properties that changed.
pub fn apply_patch(
    catalog: &mut AccessPackageCatalog,
    patch: CatalogPatch,
    now: Timestamp,
) -> DomainResult<Vec<&'static str>> {
    let mut changed = Vec::new();
    if let Some(t) = patch.catalog_type
        && t != catalog.catalog_type
    {
        return Err(DomainError::invalid(
            "catalogType",
            format!(
                "catalogType is set by the service; this catalog is {}",
                catalog.catalog_type.as_str()
            ),
        ));
    }
    if let Some(name) = patch.display_name {
        let name = text::display_name("displayName", &name)?;
        if name != catalog.display_name {
            if catalog.catalog_type == CatalogType::ServiceDefault {
                return Err(DomainError::invalid(
                    "displayName",
                    "the built-in General catalog cannot be renamed",
                ));
            }
            catalog.display_name = name;
            changed.push("displayName");
        }
    }
    if let Some(d) = patch.description {
        let d = text::description("description", &d)?;
        if d != catalog.description {
            catalog.description = d;
            changed.push("description");
        }
    }
    if let Some(state) = patch.state
        && state != catalog.state
    {
        catalog.state = state;
        changed.push("state");
    }
    if let Some(v) = patch.is_externally_visible
        && v != catalog.is_externally_visible
    {
        catalog.is_externally_visible = v;
        changed.push("isExternallyVisible");
    }
    if !changed.is_empty() {
        catalog.modified_date_time = now;
    }
    Ok(changed)
}

/// Whether a catalog may be deleted, given how many access packages it holds.
pub fn check_deletable(catalog: &AccessPackageCatalog, access_packages: u64) -> DomainResult<()> {
    if catalog.catalog_type == CatalogType::ServiceDefault {
        return Err(DomainError::conflict(
            "The built-in General catalog cannot be deleted",
        ));
    }
    if access_packages > 0 {
        return Err(DomainError::conflict(format!(
            "The catalog '{}' holds {access_packages} access package(s); delete or move them first",
            catalog.display_name
        )));
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
    fn new_catalogs_take_graph_defaults() {
        let c = NewCatalog {
            display_name: "  Sales  ".into(),
            ..Default::default()
        }
        .into_catalog(Uuid::nil(), now())
        .unwrap();
        assert_eq!(c.display_name, "Sales");
        assert_eq!(c.catalog_type, CatalogType::UserManaged);
        assert_eq!(c.state, CatalogState::Published);
        assert!(c.is_externally_visible);
        assert!(
            NewCatalog::default()
                .into_catalog(Uuid::nil(), now())
                .is_err()
        );
    }

    #[test]
    fn patches_report_what_changed() {
        let mut c = NewCatalog {
            display_name: "Sales".into(),
            ..Default::default()
        }
        .into_catalog(Uuid::nil(), now())
        .unwrap();
        let later = Timestamp::from_second(1_700_000_100).unwrap();
        let changed = apply_patch(
            &mut c,
            CatalogPatch {
                display_name: Some("Sales".into()),
                state: Some(CatalogState::Unpublished),
                is_externally_visible: Some(false),
                ..Default::default()
            },
            later,
        )
        .unwrap();
        assert_eq!(changed, vec!["state", "isExternallyVisible"]);
        assert_eq!(c.modified_date_time, later);
        let err = apply_patch(
            &mut c,
            CatalogPatch {
                catalog_type: Some(CatalogType::ServiceDefault),
                ..Default::default()
            },
            later,
        );
        assert!(matches!(err, Err(DomainError::Invalid { .. })));
        // Same type: accepted, nothing changes.
        let same = apply_patch(
            &mut c,
            CatalogPatch {
                catalog_type: Some(CatalogType::UserManaged),
                ..Default::default()
            },
            later,
        )
        .unwrap();
        assert!(same.is_empty());
    }

    #[test]
    fn general_is_kept_and_non_empty_catalogs_are_not_deleted() {
        let mut g = general_catalog(Uuid::nil(), now());
        assert!(matches!(
            check_deletable(&g, 0),
            Err(DomainError::Conflict { .. })
        ));
        assert!(
            apply_patch(
                &mut g,
                CatalogPatch {
                    display_name: Some("Other".into()),
                    ..Default::default()
                },
                now()
            )
            .is_err()
        );
        let c = NewCatalog {
            display_name: "Sales".into(),
            ..Default::default()
        }
        .into_catalog(Uuid::nil(), now())
        .unwrap();
        assert!(check_deletable(&c, 0).is_ok());
        let e = check_deletable(&c, 2).unwrap_err().to_string();
        assert!(e.contains("Sales") && e.contains('2'), "{e}");
    }

    #[test]
    fn enums_parse_case_insensitively() {
        assert_eq!(
            CatalogType::parse("USERMANAGED").unwrap(),
            CatalogType::UserManaged
        );
        assert!(CatalogType::parse("x").is_err());
        assert_eq!(
            CatalogState::parse("Unpublished").unwrap(),
            CatalogState::Unpublished
        );
        assert!(CatalogState::parse("draft").is_err());
    }
}
