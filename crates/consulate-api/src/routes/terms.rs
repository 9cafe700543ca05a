//! Terms of use for people from outside: administrators set them
//! (`/admin/v1/termsOfUse`); someone signed in reads and accepts them (`/auth/v1/terms`).

use crate::error::ApiResult;
use crate::extract::{Auth, GraphJson};
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// The terms text (empty removes them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsBody {
    pub text: String,
}

/// The version of the terms being accepted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    pub version: String,
}

/// The current terms of use (`text` empty when there are none).
#[utoipa::path(get, path = "/admin/v1/termsOfUse", tag = "admin", responses((status = 200), (status = 403)))]
pub async fn get_terms(
    State(state): State<ApiState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Value>> {
    consulate_core::access::authorize(
        &caller,
        consulate_core::access::Operation::ReadConnectedOrganizations,
    )?;
    Ok(Json(match state.app.terms_of_use().await? {
        Some(t) => json!({"text": t.text, "version": t.version}),
        None => json!({"text": "", "version": null}),
    }))
}

/// Sets the terms of use people from outside accept before requesting.
#[utoipa::path(put, path = "/admin/v1/termsOfUse", tag = "admin", request_body = TermsBody,
    responses((status = 200), (status = 400), (status = 403)))]
pub async fn set_terms(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<TermsBody>,
) -> ApiResult<Json<Value>> {
    let t = state.app.set_terms_of_use(&caller, &body.text).await?;
    Ok(Json(match t {
        Some(t) => json!({"text": t.text, "version": t.version}),
        None => json!({"text": "", "version": null}),
    }))
}

/// The terms for the signed-in person, and whether they still have to accept them.
#[utoipa::path(get, path = "/auth/v1/terms", tag = "sign-in", responses((status = 200), (status = 401)))]
pub async fn my_terms(State(state): State<ApiState>, Auth(caller): Auth) -> ApiResult<Json<Value>> {
    let current = state.app.terms_of_use().await?;
    let pending = state.app.terms_pending(&caller).await?;
    Ok(Json(match current {
        Some(t) => {
            json!({"text": t.text, "version": t.version, "acceptanceRequired": pending.is_some()})
        }
        None => json!({"text": "", "version": null, "acceptanceRequired": false}),
    }))
}

/// Accepts the current terms (people signed in from outside).
#[utoipa::path(post, path = "/auth/v1/terms/accept", tag = "sign-in", request_body = AcceptBody,
    responses((status = 204), (status = 400), (status = 401), (status = 409)))]
pub async fn accept(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<AcceptBody>,
) -> ApiResult<StatusCode> {
    state.app.accept_terms(&caller, &body.version).await?;
    Ok(StatusCode::NO_CONTENT)
}
