//! `subjects(objectId='…')`: entitlement management's view of a user, and bringing a guest
//! under the external-user lifecycle (`subjectLifecycle: governed`).

use super::EM;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson};
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consulate_app::external_users::SubjectView;
use consulate_core::subject::SubjectLifecycle;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

/// The object id in `subjects(objectId='…')`; anything else under the API root is not found.
fn object_id(segment: &str) -> ApiResult<Uuid> {
    let not_found = || {
        ApiError::not_found(format!(
            "Resource not found for the segment '{}'.",
            segment.chars().take(64).collect::<String>()
        ))
    };
    let args = segment
        .strip_prefix("subjects(")
        .and_then(|a| a.strip_suffix(')'))
        .ok_or_else(not_found)?;
    let value = args
        .strip_prefix("objectId=")
        .ok_or_else(|| {
            ApiError::bad_request("subjects takes objectId='…'").with_target("objectId")
        })?
        .trim_matches('\'');
    Uuid::parse_str(value)
        .map_err(|_| ApiError::bad_request("objectId is not an id").with_target("objectId"))
}

/// `accessPackageSubject` as returned.
fn subject_json(v: &SubjectView) -> Value {
    let u = &v.user;
    json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#identityGovernance/entitlementManagement/subjects/$entity"),
        "id": u.id.to_string(),
        "objectId": u.id.to_string(),
        "displayName": u.display_name,
        "email": u.mail,
        "principalName": u.user_principal_name,
        "onPremisesSecurityIdentifier": null,
        "subjectType": "user",
        "subjectLifecycle": v.lifecycle().as_str(),
        "connectedOrganization": v.subject.as_ref().and_then(|s| s.connected_organization_id).map(|o| json!({"id": o.to_string()})),
    })
}

/// A user as entitlement management sees it.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/subjects(objectId='{objectId}')", tag = "assignments",
    params(("objectId" = String, Path)), responses((status = 200), (status = 403), (status = 404)))]
pub async fn get_subject(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(segment): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = object_id(&segment)?;
    Ok(Json(subject_json(&state.app.subject(&caller, id).await?)))
}

/// A PATCH of a subject.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSubject {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub subject_lifecycle: String,
}

/// Brings a guest under the external-user lifecycle, or takes it out (204).
#[utoipa::path(patch, path = "/v1.0/identityGovernance/entitlementManagement/subjects(objectId='{objectId}')", tag = "assignments",
    params(("objectId" = String, Path)), request_body = UpdateSubject,
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn update_subject(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(segment): Path<String>,
    GraphJson(body): GraphJson<UpdateSubject>,
) -> ApiResult<StatusCode> {
    let id = object_id(&segment)?;
    let lifecycle = SubjectLifecycle::parse(&body.subject_lifecycle)?;
    state
        .app
        .set_subject_lifecycle(&caller, id, lifecycle)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The route the subject handlers sit on (one segment after the API root).
pub fn path() -> String {
    format!("{EM}/{{segment}}")
}
