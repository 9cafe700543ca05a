//! `accessPackageCatalog` on the wire.

use crate::error::ApiError;
use consulate_core::catalog::{
    AccessPackageCatalog, CatalogPatch, CatalogState, CatalogType, NewCatalog,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A catalog as returned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogDto {
    pub id: String,
    pub display_name: String,
    pub description: String,
    /// `userManaged`, `serviceDefault` (the built-in General catalog) or `serviceManaged`.
    pub catalog_type: String,
    /// `published` or `unpublished`.
    pub state: String,
    /// Whether users outside the directory may request its access packages.
    pub is_externally_visible: bool,
    pub created_date_time: String,
    pub modified_date_time: String,
}

impl From<&AccessPackageCatalog> for CatalogDto {
    fn from(c: &AccessPackageCatalog) -> Self {
        CatalogDto {
            id: c.id.to_string(),
            display_name: c.display_name.clone(),
            description: c.description.clone(),
            catalog_type: c.catalog_type.as_str().to_owned(),
            state: c.state.as_str().to_owned(),
            is_externally_visible: c.is_externally_visible,
            created_date_time: super::timestamp(c.created_date_time),
            modified_date_time: super::timestamp(c.modified_date_time),
        }
    }
}

/// The properties `$select` may name.
pub const PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "catalogType",
    "state",
    "isExternallyVisible",
    "createdDateTime",
    "modifiedDateTime",
    "accessPackages",
];

fn check_type(t: &Option<String>) -> Result<(), ApiError> {
    match t.as_deref().map(|s| s.trim_start_matches('#')) {
        None | Some("microsoft.graph.accessPackageCatalog") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "@odata.type '{other}' is not microsoft.graph.accessPackageCatalog"
        ))
        .with_target("@odata.type")),
    }
}

/// The body of a create. `catalogType` is set by the service (`userManaged`); sending that
/// value is accepted, any other is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCatalog {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub catalog_type: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub is_externally_visible: Option<bool>,
}

impl CreateCatalog {
    pub fn into_new(self) -> Result<NewCatalog, ApiError> {
        check_type(&self.odata_type)?;
        if let Some(t) = self.catalog_type.as_deref()
            && CatalogType::parse(t)? != CatalogType::UserManaged
        {
            return Err(ApiError::bad_request(
                "catalogType is set by the service; new catalogs are userManaged",
            )
            .with_target("catalogType"));
        }
        Ok(NewCatalog {
            display_name: self.display_name,
            description: self.description,
            state: self.state.as_deref().map(CatalogState::parse).transpose()?,
            is_externally_visible: self.is_externally_visible,
        })
    }
}

/// The body of a PATCH; absent properties are left unchanged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCatalog {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub catalog_type: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub is_externally_visible: Option<bool>,
}

impl UpdateCatalog {
    pub fn into_patch(self) -> Result<CatalogPatch, ApiError> {
        check_type(&self.odata_type)?;
        let _ = self.id;
        Ok(CatalogPatch {
            display_name: self.display_name,
            description: self.description,
            catalog_type: self
                .catalog_type
                .as_deref()
                .map(CatalogType::parse)
                .transpose()?,
            state: self.state.as_deref().map(CatalogState::parse).transpose()?,
            is_externally_visible: self.is_externally_visible,
        })
    }
}
