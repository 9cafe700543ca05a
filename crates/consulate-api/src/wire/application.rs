//! `application` and `appRole` on the wire.

use crate::error::ApiError;
use consulate_app::applications::{ApplicationPatch, NewApplication};
use consulate_core::application::{AppRole, Application};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An app role, as Graph shapes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppRoleDto {
    /// A GUID; generated when absent on input.
    #[serde(default)]
    pub id: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub value: String,
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// `User` only: the roles are granted to users.
    #[serde(default)]
    pub allowed_member_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl AppRoleDto {
    fn from_domain(r: &AppRole) -> Self {
        AppRoleDto {
            id: Some(r.id.to_string()),
            display_name: r.display_name.clone(),
            description: Some(r.description.clone()),
            value: r.value.clone(),
            is_enabled: Some(r.is_enabled),
            allowed_member_types: Some(vec!["User".into()]),
            origin: Some("Application".into()),
        }
    }

    fn into_domain(self) -> Result<AppRole, ApiError> {
        if let Some(types) = &self.allowed_member_types
            && types.iter().any(|t| !t.eq_ignore_ascii_case("User"))
        {
            return Err(ApiError::bad_request(
                "appRoles.allowedMemberTypes: only User is supported; access packages grant roles to users",
            )
            .with_target("appRoles.allowedMemberTypes"));
        }
        let id = match self.id {
            Some(s) => Uuid::parse_str(&s).map_err(|_| {
                ApiError::bad_request(format!("appRoles.id '{s}' is not a GUID"))
                    .with_target("appRoles.id")
            })?,
            None => Uuid::now_v7(),
        };
        Ok(AppRole {
            id,
            display_name: self.display_name,
            description: self.description.unwrap_or_default(),
            value: self.value,
            is_enabled: self.is_enabled.unwrap_or(true),
        })
    }
}

/// An application as returned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationDto {
    pub id: String,
    pub app_id: String,
    pub display_name: String,
    pub description: String,
    pub app_roles: Vec<AppRoleDto>,
    pub created_date_time: String,
}

impl From<&Application> for ApplicationDto {
    fn from(a: &Application) -> Self {
        ApplicationDto {
            id: a.id.to_string(),
            app_id: a.app_id.to_string(),
            display_name: a.display_name.clone(),
            description: a.description.clone(),
            app_roles: a.app_roles.iter().map(AppRoleDto::from_domain).collect(),
            created_date_time: super::timestamp(a.created_date_time),
        }
    }
}

pub const PROPERTIES: &[&str] = &[
    "id",
    "appId",
    "displayName",
    "description",
    "appRoles",
    "createdDateTime",
];

/// The body of a create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApplication {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub app_roles: Vec<AppRoleDto>,
}

fn check_type(t: &Option<String>) -> Result<(), ApiError> {
    match t.as_deref().map(|s| s.trim_start_matches('#')) {
        None | Some("microsoft.graph.application") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "@odata.type '{other}' is not microsoft.graph.application"
        ))
        .with_target("@odata.type")),
    }
}

impl CreateApplication {
    pub fn into_new(self) -> Result<NewApplication, ApiError> {
        check_type(&self.odata_type)?;
        Ok(NewApplication {
            display_name: self.display_name,
            description: self.description,
            app_roles: self
                .app_roles
                .into_iter()
                .map(AppRoleDto::into_domain)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The body of a PATCH; `appRoles` replaces the whole set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateApplication {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub app_roles: Option<Vec<AppRoleDto>>,
}

impl UpdateApplication {
    pub fn into_patch(self) -> Result<ApplicationPatch, ApiError> {
        check_type(&self.odata_type)?;
        Ok(ApplicationPatch {
            display_name: self.display_name,
            description: self.description,
            app_roles: self
                .app_roles
                .map(|v| {
                    v.into_iter()
                        .map(AppRoleDto::into_domain)
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?,
        })
    }
}
