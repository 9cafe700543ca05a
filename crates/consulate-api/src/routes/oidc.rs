//! Sign-in through a partner's identity provider (`/auth/v1/oidc/…`), and registering
//! Consulate as a client of a provider (`/admin/v1/identityProviders/{id}/signIn`).

use super::object_id;
use super::sign_in::{no_referrer, signed_in};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson};
use crate::session::{flow_cookie, read_cookie, set_cookie};
use crate::state::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consulate_app::sign_in::random_secret;
use consulate_store::oidc::ProviderClient;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// How Consulate is registered at the provider.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInBody {
    pub client_id: String,
    pub client_secret: String,
    /// For a multi-tenant issuer: the tenants whose users may sign in.
    #[serde(default)]
    pub allowed_tenant_ids: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct StartQuery {
    /// A local path to come back to.
    #[serde(default)]
    pub return_to: Option<String>,
    /// The address the person typed (passed on to the provider).
    #[serde(default)]
    pub login_hint: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

fn callback_url(state: &ApiState) -> String {
    format!("{}/auth/v1/oidc/callback", state.public_url)
}

/// Registers Consulate at an identity provider so its users can sign in there.
#[utoipa::path(put, path = "/admin/v1/identityProviders/{id}/signIn", tag = "sign-in", params(("id" = String, Path)),
    request_body = SignInBody, responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn configure(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<SignInBody>,
) -> ApiResult<StatusCode> {
    state
        .app
        .configure_provider_sign_in(
            &caller,
            object_id(&id, "identityProvider")?,
            ProviderClient {
                client_id: body.client_id,
                client_secret: body.client_secret,
                allowed_tenants: body.allowed_tenant_ids,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the browser to the provider to sign in.
#[utoipa::path(get, path = "/auth/v1/oidc/{id}/start", tag = "sign-in", params(("id" = String, Path), StartQuery),
    responses((status = 303), (status = 401), (status = 404)))]
pub async fn start(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> ApiResult<Response> {
    let provider = object_id(&id, "identityProvider")?;
    let existing = read_cookie(&headers, flow_cookie(&state)).filter(|f| f.len() <= 128);
    let flow = existing.clone().unwrap_or_else(|| random_secret("flow_"));
    let url = state
        .app
        .oidc_start(
            &flow,
            provider,
            &callback_url(&state),
            q.return_to.as_deref().unwrap_or("/"),
            q.login_hint.as_deref(),
        )
        .await?;
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&url)
            .map_err(|_| ApiError::bad_request("the provider's address is not usable"))?,
    );
    if existing.is_none() {
        r.headers_mut().insert(
            header::SET_COOKIE,
            set_cookie(&state, flow_cookie(&state), &flow, 30 * 60),
        );
    }
    no_referrer(&mut r);
    Ok(r)
}

/// Where the provider sends the browser back: the session starts, and the browser goes on
/// to the local path it started from.
#[utoipa::path(get, path = "/auth/v1/oidc/callback", tag = "sign-in", params(CallbackQuery),
    responses((status = 303), (status = 401)))]
pub async fn callback(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let refuse = |m: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            format!("Sign-in through your organization failed: {m}"),
        )
    };
    if let Some(e) = &q.error {
        return Err(refuse(&format!(
            "the provider answered '{}'",
            e.chars().take(64).collect::<String>()
        )));
    }
    let flow = read_cookie(&headers, flow_cookie(&state))
        .ok_or_else(|| refuse("this browser did not start the sign-in; start again"))?;
    let (session, return_to) = state
        .app
        .oidc_callback(
            &flow,
            &callback_url(&state),
            q.state.as_deref().unwrap_or(""),
            q.code.as_deref().unwrap_or(""),
            q.iss.as_deref(),
        )
        .await?;
    let mut r = signed_in(&state, &session);
    *r.status_mut() = StatusCode::SEE_OTHER;
    let target = consulate_core::sign_in::safe_redirect(&return_to);
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(target).unwrap_or(HeaderValue::from_static("/")),
    );
    no_referrer(&mut r);
    Ok(r)
}
