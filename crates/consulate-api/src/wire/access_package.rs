//! `accessPackage` and `accessPackageResourceRoleScope` on the wire.

use super::resource::{ResourceDto, ResourceRoleDto, ResourceScopeDto};
use crate::error::ApiError;
use consulate_app::access_packages::{
    ResourceSelector, RoleScopeDetail, RoleSelector, ScopeSelector,
};
use consulate_core::access_package::{AccessPackage, AccessPackagePatch, NewAccessPackage};
use consulate_core::resource::OriginSystem;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

/// An access package as returned (navigation properties appear when expanded).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessPackageDto {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub is_hidden: bool,
    pub created_date_time: String,
    pub modified_date_time: String,
}

impl From<&AccessPackage> for AccessPackageDto {
    fn from(p: &AccessPackage) -> Self {
        AccessPackageDto {
            id: p.id.to_string(),
            display_name: p.display_name.clone(),
            description: p.description.clone(),
            is_hidden: p.is_hidden,
            created_date_time: super::timestamp(p.created_date_time),
            modified_date_time: super::timestamp(p.modified_date_time),
        }
    }
}

pub const PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "isHidden",
    "createdDateTime",
    "modifiedDateTime",
    "catalog",
    "assignmentPolicies",
    "resourceRoleScopes",
];

/// A role scope as returned; `role` and `scope` when expanded.
pub fn role_scope_json(d: &RoleScopeDetail, role: bool, scope: bool) -> Value {
    let mut v = json!({
        "id": d.role_scope.id(),
        "createdDateTime": super::timestamp(d.role_scope.created_date_time),
    });
    if role {
        let mut r = serde_json::to_value(ResourceRoleDto::new(&d.role, Some(&d.resource)))
            .expect("serialises");
        // The resource inside the role also carries its scopes, as Graph's examples show.
        r["resource"] =
            serde_json::to_value(ResourceDto::new(&d.resource, false, false)).expect("serialises");
        v["role"] = r;
    }
    if scope {
        v["scope"] = serde_json::to_value(ResourceScopeDto::from(&d.scope)).expect("serialises");
    }
    v
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CatalogRef {
    pub id: String,
}

/// The body of a create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAccessPackage {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_hidden: Option<bool>,
    /// Required: `{"id": "<catalog id>"}`.
    pub catalog: CatalogRef,
}

fn check_type(t: &Option<String>) -> Result<(), ApiError> {
    match t.as_deref().map(|s| s.trim_start_matches('#')) {
        None | Some("microsoft.graph.accessPackage") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "@odata.type '{other}' is not microsoft.graph.accessPackage"
        ))
        .with_target("@odata.type")),
    }
}

impl CreateAccessPackage {
    pub fn into_new(self) -> Result<NewAccessPackage, ApiError> {
        check_type(&self.odata_type)?;
        let catalog_id = Uuid::parse_str(self.catalog.id.trim()).map_err(|_| {
            ApiError::bad_request(format!(
                "catalog '{}' is not a catalog id",
                self.catalog.id.chars().take(64).collect::<String>()
            ))
            .with_target("catalog.id")
        })?;
        Ok(NewAccessPackage {
            catalog_id,
            display_name: self.display_name,
            description: self.description,
            is_hidden: self.is_hidden,
        })
    }
}

/// The body of a PATCH.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAccessPackage {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_hidden: Option<bool>,
}

impl UpdateAccessPackage {
    pub fn into_patch(self) -> Result<AccessPackagePatch, ApiError> {
        check_type(&self.odata_type)?;
        Ok(AccessPackagePatch {
            display_name: self.display_name,
            description: self.description,
            is_hidden: self.is_hidden,
        })
    }
}

/// The resource named inside a role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleResourceBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub origin_system: Option<String>,
}

/// The role of a role-scope request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub origin_system: Option<String>,
    #[serde(default)]
    pub resource: Option<RoleResourceBody>,
}

/// The scope of a role-scope request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub origin_id: Option<String>,
}

/// `POST /accessPackages/{id}/resourceRoleScopes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoleScope {
    pub role: RoleBody,
    #[serde(default)]
    pub scope: Option<ScopeBody>,
}

fn id_of(target: &str, s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s.trim()).map_err(|_| {
        ApiError::bad_request(format!(
            "{target} '{}' is not a GUID",
            s.chars().take(64).collect::<String>()
        ))
        .with_target(target.to_owned())
    })
}

impl CreateRoleScope {
    pub fn into_selectors(self) -> Result<(RoleSelector, ScopeSelector), ApiError> {
        let role = match (self.role.id, self.role.origin_id, self.role.resource) {
            (Some(id), _, _) => RoleSelector::Id(id_of("role.id", &id)?),
            (None, Some(origin_id), Some(res)) => {
                let resource = match (res.id, res.origin_id) {
                    (Some(id), _) => ResourceSelector::Id(id_of("role.resource.id", &id)?),
                    (None, Some(origin)) => ResourceSelector::Origin {
                        system: OriginSystem::parse(
                            res.origin_system
                                .as_deref()
                                .or(self.role.origin_system.as_deref())
                                .unwrap_or(""),
                        )?,
                        id: origin,
                    },
                    (None, None) => {
                        return Err(ApiError::bad_request(
                            "role.resource needs its id, or originId and originSystem",
                        )
                        .with_target("role.resource"));
                    }
                };
                RoleSelector::Origin {
                    resource,
                    origin_id,
                }
            }
            _ => {
                return Err(ApiError::bad_request(
                    "role needs its id, or originId with the resource it belongs to",
                )
                .with_target("role"));
            }
        };
        let scope = match self.scope {
            None => ScopeSelector::Root,
            Some(ScopeBody { id: Some(id), .. }) => ScopeSelector::Id(id_of("scope.id", &id)?),
            Some(ScopeBody {
                origin_id: Some(o), ..
            }) => ScopeSelector::Origin(o),
            Some(_) => ScopeSelector::Root,
        };
        Ok((role, scope))
    }
}
