//! Catalog resources, their roles and scopes, and resource requests on the wire.

use crate::error::ApiError;
use consulate_app::resources::{NewResourceRequest, ResourceRef};
use consulate_core::resource::{
    AccessPackageResource, OriginSystem, ResourceRequest, ResourceRequestType, ResourceRole,
    ResourceScope,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

/// `accessPackageResource` (roles and scopes appear when expanded).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDto {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub origin_id: String,
    /// `AadGroup`, `AadApplication` or `DirectoryRole`.
    pub origin_system: String,
    pub created_date_time: String,
    pub modified_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ResourceRoleDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<ResourceScopeDto>>,
}

impl ResourceDto {
    pub fn new(r: &AccessPackageResource, roles: bool, scopes: bool) -> Self {
        ResourceDto {
            id: r.id.to_string(),
            display_name: r.display_name.clone(),
            description: r.description.clone(),
            origin_id: r.origin_id.clone(),
            origin_system: r.origin_system.as_str().to_owned(),
            created_date_time: super::timestamp(r.created_date_time),
            modified_date_time: super::timestamp(r.modified_date_time),
            roles: roles.then(|| {
                r.roles
                    .iter()
                    .map(|x| ResourceRoleDto::new(x, None))
                    .collect()
            }),
            scopes: scopes.then(|| r.scopes.iter().map(ResourceScopeDto::from).collect()),
        }
    }
}

pub const RESOURCE_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "originId",
    "originSystem",
    "createdDateTime",
    "modifiedDateTime",
    "roles",
    "scopes",
];

/// `accessPackageResourceRole`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRoleDto {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub origin_id: String,
    pub origin_system: String,
    /// `roleType`: active or application here.
    #[serde(rename = "type")]
    pub role_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub resource: Option<Value>,
}

impl ResourceRoleDto {
    pub fn new(r: &ResourceRole, resource: Option<&AccessPackageResource>) -> Self {
        ResourceRoleDto {
            id: r.id.to_string(),
            display_name: r.display_name.clone(),
            description: r.description.clone(),
            origin_id: r.origin_id.clone(),
            origin_system: r.origin_system.as_str().to_owned(),
            role_type: r.role_type.as_str().to_owned(),
            resource: resource.map(|res| {
                serde_json::to_value(ResourceDto::new(res, false, false)).expect("serialises")
            }),
        }
    }
}

pub const ROLE_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "originId",
    "originSystem",
    "type",
    "resource",
];

/// `accessPackageResourceScope`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceScopeDto {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub origin_id: String,
    pub origin_system: String,
    pub is_root_scope: bool,
}

impl From<&ResourceScope> for ResourceScopeDto {
    fn from(s: &ResourceScope) -> Self {
        ResourceScopeDto {
            id: s.id.to_string(),
            display_name: s.display_name.clone(),
            description: s.description.clone(),
            origin_id: s.origin_id.clone(),
            origin_system: s.origin_system.as_str().to_owned(),
            is_root_scope: s.is_root_scope,
        }
    }
}

/// `accessPackageResourceRequest` as returned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequestDto {
    pub id: String,
    pub request_type: String,
    /// Always `delivered`: resources of this directory are added and removed at once.
    pub state: String,
    pub created_date_time: String,
    #[schema(value_type = Object)]
    pub resource: Value,
    #[schema(value_type = Object)]
    pub catalog: Value,
}

impl From<&ResourceRequest> for ResourceRequestDto {
    fn from(q: &ResourceRequest) -> Self {
        ResourceRequestDto {
            id: q.id.to_string(),
            request_type: q.request_type.as_str().to_owned(),
            state: q.state.clone(),
            created_date_time: super::timestamp(q.created_date_time),
            resource: json!({
                "id": q.resource_id.to_string(),
                "displayName": q.display_name,
                "originId": q.origin_id,
                "originSystem": q.origin_system.as_str(),
            }),
            catalog: json!({ "id": q.catalog_id.to_string() }),
        }
    }
}

pub const REQUEST_PROPERTIES: &[&str] = &[
    "id",
    "requestType",
    "state",
    "createdDateTime",
    "resource",
    "catalog",
];

/// The resource named in a request body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceRefBody {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub origin_system: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `{"id": "…"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdRef {
    pub id: String,
}

/// The body of `POST /resourceRequests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateResourceRequest {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub request_type: String,
    pub resource: ResourceRefBody,
    pub catalog: IdRef,
}

impl CreateResourceRequest {
    pub fn into_new(self) -> Result<NewResourceRequest, ApiError> {
        let catalog_id = Uuid::parse_str(self.catalog.id.trim()).map_err(|_| {
            ApiError::not_found(format!(
                "accessPackageCatalog '{}' was not found",
                self.catalog.id.chars().take(64).collect::<String>()
            ))
        })?;
        let request_type = ResourceRequestType::parse(&self.request_type)?;
        let resource = match (
            self.resource.origin_id,
            self.resource.origin_system,
            self.resource.id,
        ) {
            (Some(origin), Some(system), _) => ResourceRef::Origin {
                system: OriginSystem::parse(&system)?,
                id: origin,
            },
            (None, None, Some(id)) if request_type == ResourceRequestType::AdminRemove => {
                ResourceRef::Resource(Uuid::parse_str(id.trim()).map_err(|_| {
                    ApiError::not_found(format!(
                        "accessPackageResource '{}' was not found",
                        id.chars().take(64).collect::<String>()
                    ))
                })?)
            }
            _ => {
                return Err(ApiError::bad_request(
                    "resource needs originId and originSystem (or, to remove, the resource's id)",
                )
                .with_target("resource"));
            }
        };
        Ok(NewResourceRequest {
            request_type,
            catalog_id,
            resource,
        })
    }
}
