//! `/auth/v1/tokens`: tokens a signed-in user makes for scripts; and Graph's
//! `POST /users/{id}/revokeSignInSessions`.

use super::object_id;
use crate::error::ApiResult;
use crate::extract::{Auth, GraphJson};
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consulate_core::access::Scope;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// A token as asked for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTokenBody {
    pub name: String,
    /// Graph permission names, e.g. `EntitlementManagement.ReadWrite.All`.
    pub scopes: Vec<String>,
    /// 1 to 90.
    pub expires_in_days: i64,
}

/// Makes a token acting for the signed-in user; the secret is shown once.
#[utoipa::path(post, path = "/auth/v1/tokens", tag = "sign-in", request_body = NewTokenBody,
    responses((status = 201), (status = 400), (status = 403)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<NewTokenBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let scopes = Scope::parse_list(&body.scopes.join(","))?;
    let t = state
        .app
        .create_personal_token(&caller, &body.name, scopes, body.expires_in_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": t.token.id.to_string(),
            "name": t.token.name,
            "token": t.secret,
            "expiresDateTime": t.token.expires_at.map(|e| e.to_string()),
        })),
    ))
}

/// The signed-in user's tokens (never their secrets).
#[utoipa::path(get, path = "/auth/v1/tokens", tag = "sign-in", responses((status = 200), (status = 403)))]
pub async fn list(State(state): State<ApiState>, Auth(caller): Auth) -> ApiResult<Json<Value>> {
    let tokens = state.app.personal_tokens(&caller).await?;
    Ok(Json(json!({"value": tokens.iter().map(|t| json!({
        "id": t.id.to_string(),
        "name": t.name,
        "scopes": t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "createdDateTime": t.created_at.to_string(),
        "expiresDateTime": t.expires_at.map(|e| e.to_string()),
        "revokedDateTime": t.revoked_at.map(|e| e.to_string()),
    })).collect::<Vec<_>>()})))
}

/// Revokes one of the signed-in user's tokens.
#[utoipa::path(delete, path = "/auth/v1/tokens/{id}", tag = "sign-in", params(("id" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn revoke(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .revoke_personal_token(&caller, object_id(&id, "token")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every sign-in session of a user (Graph answers `{"value": true}`).
#[utoipa::path(post, path = "/v1.0/users/{id}/revokeSignInSessions", tag = "users", params(("id" = String, Path)),
    responses((status = 200), (status = 403), (status = 404)))]
pub async fn revoke_sign_in_sessions(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state
        .app
        .revoke_sign_in_sessions(&caller, object_id(&id, "user")?)
        .await?;
    Ok(Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean",
        "value": true
    })))
}
