//! Local sign-in for members and administrators (`/auth/v1/password`, the second factor),
//! authenticator enrolment, and setting a user's password (`/admin/v1/users/{id}/password`).

use super::object_id;
use super::sign_in::{locked, no_referrer, signed_in, wait};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson};
use crate::session::{flow_cookie, read_cookie, set_cookie};
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consulate_app::local_accounts::PasswordOutcome;
use consulate_app::sign_in::random_secret;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// A user name (userPrincipalName or mail) and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordBody {
    pub user_name: String,
    pub password: String,
}

/// A TOTP code or a recovery code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecondFactorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// A new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasswordBody {
    pub password: String,
}

/// A code from the authenticator being set up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    pub code: String,
}

fn outcome(
    state: &ApiState,
    o: PasswordOutcome,
    flow: Option<(&str, bool)>,
) -> ApiResult<Response> {
    let mut r = match o {
        PasswordOutcome::SignedIn(s) => signed_in(state, &s),
        PasswordOutcome::SecondFactor => {
            let mut r = Json(json!({"secondFactorRequired": true})).into_response();
            if let Some((flow, true)) = flow {
                r.headers_mut().insert(
                    header::SET_COOKIE,
                    set_cookie(state, flow_cookie(state), flow, 600),
                );
            }
            r
        }
        PasswordOutcome::Refused => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalidCredentials",
                "The user name, password or code is wrong.",
            ));
        }
        PasswordOutcome::Wait(d) => wait(d),
        PasswordOutcome::Locked => locked(),
    };
    no_referrer(&mut r);
    Ok(r)
}

/// Signs in with a user name and password; answers `secondFactorRequired` when an
/// authenticator is registered.
#[utoipa::path(post, path = "/auth/v1/password", tag = "sign-in", request_body = PasswordBody,
    responses((status = 200), (status = 400), (status = 429)))]
pub async fn password(
    State(state): State<ApiState>,
    headers: HeaderMap,
    GraphJson(body): GraphJson<PasswordBody>,
) -> ApiResult<Response> {
    crate::session::check_same_origin(&state, &headers)?;
    let existing = read_cookie(&headers, flow_cookie(&state)).filter(|f| f.len() <= 128);
    let flow = existing.clone().unwrap_or_else(|| random_secret("flow_"));
    let o = state
        .app
        .password_sign_in(&flow, &body.user_name, &body.password)
        .await?;
    outcome(&state, o, Some((&flow, existing.is_none())))
}

/// The second step: a TOTP code or a recovery code.
#[utoipa::path(post, path = "/auth/v1/second-factor", tag = "sign-in", request_body = SecondFactorBody,
    responses((status = 200), (status = 400)))]
pub async fn second_factor(
    State(state): State<ApiState>,
    headers: HeaderMap,
    GraphJson(body): GraphJson<SecondFactorBody>,
) -> ApiResult<Response> {
    crate::session::check_same_origin(&state, &headers)?;
    let flow = read_cookie(&headers, flow_cookie(&state)).unwrap_or_default();
    if flow.is_empty() {
        return outcome(&state, PasswordOutcome::Refused, None);
    }
    let o = state
        .app
        .second_factor(&flow, body.code.as_deref(), body.recovery_code.as_deref())
        .await?;
    outcome(&state, o, None)
}

/// Starts registering an authenticator app for the signed-in user.
#[utoipa::path(post, path = "/auth/v1/authenticator", tag = "sign-in", responses((status = 200), (status = 401)))]
pub async fn enroll(State(state): State<ApiState>, Auth(caller): Auth) -> ApiResult<Response> {
    let e = state.app.enroll_totp(&caller).await?;
    let mut r = Json(json!({"secret": e.secret, "otpauthUri": e.uri})).into_response();
    no_referrer(&mut r);
    Ok(r)
}

/// Confirms the authenticator with a current code; returns recovery codes, once.
#[utoipa::path(post, path = "/auth/v1/authenticator/confirm", tag = "sign-in", request_body = ConfirmBody,
    responses((status = 200), (status = 400), (status = 409)))]
pub async fn confirm(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<ConfirmBody>,
) -> ApiResult<Response> {
    let codes = state.app.confirm_totp(&caller, &body.code).await?;
    let mut r = Json(json!({"recoveryCodes": codes})).into_response();
    no_referrer(&mut r);
    Ok(r)
}

/// Sets a user's password (user administrators).
#[utoipa::path(put, path = "/admin/v1/users/{id}/password", tag = "sign-in", params(("id" = String, Path)),
    request_body = NewPasswordBody, responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn set_password(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<NewPasswordBody>,
) -> ApiResult<StatusCode> {
    state
        .app
        .set_password(&caller, object_id(&id, "user")?, &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the authenticator app of someone who signs in with an email passcode (a lost
/// device); their next sign-in registers a new one (user administrators).
#[utoipa::path(delete, path = "/admin/v1/externalAuthenticators/{email}", tag = "sign-in", params(("email" = String, Path)),
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn reset_external_authenticator(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(email): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .reset_external_authenticator(&caller, &email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
