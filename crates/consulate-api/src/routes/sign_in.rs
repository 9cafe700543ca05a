//! Sign-in for people from outside (`/auth/v1/…`): home-realm discovery, email one-time
//! passcodes, the current session, sign-out. Answers to "send me a code" never tell whether
//! the address is known or may sign in.

use crate::error::{ApiError, ApiResult};
use crate::extract::GraphJson;
use crate::session::{self, flow_cookie, read_cookie, session_cookie, set_cookie};
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consulate_app::identity_providers::DomainLookup;
use consulate_app::sign_in::{OtpOutcome, random_secret};
use consulate_core::access::{Caller, CallerIdentity};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// How long a sign-in flow (before a code is checked) may last.
const FLOW_SECONDS: i64 = 30 * 60;

/// An email address typed at sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    /// One address (a string; lists are refused).
    pub email: String,
}

/// A code typed at sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct CodeBody {
    pub code: String,
    /// Ask for the second factor even when no rule needs it at sign-in (a package's rule
    /// will at request time).
    #[serde(default)]
    pub step_up: bool,
}

/// Where an address signs in: at its home identity provider, with an email one-time
/// passcode, or (this tenant's own domains) as a member.
#[utoipa::path(post, path = "/auth/v1/discovery", tag = "sign-in", request_body = EmailBody,
    responses((status = 200), (status = 400)))]
pub async fn discovery(
    State(state): State<ApiState>,
    GraphJson(body): GraphJson<EmailBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let email = consulate_core::sign_in::email_identifier(&body.email)?;
    let domain = email.rsplit('@').next().unwrap_or_default();
    let (_, found) = state.app.lookup_domain(&Caller::system(), domain).await?;
    let provider = state.app.sign_in_provider_for(domain).await?;
    let mut answer = match found {
        DomainLookup::Tenant {
            tenant_id,
            display_name,
        } => json!({"method": "federated", "tenantId": tenant_id, "displayName": display_name}),
        DomainLookup::Federation {
            issuer_uri,
            display_name,
        } => json!({"method": "federated", "issuer": issuer_uri, "displayName": display_name}),
        DomainLookup::Social {
            issuer_uri,
            display_name,
        } => {
            json!({"method": "federated", "social": true, "issuer": issuer_uri, "displayName": display_name})
        }
        DomainLookup::OneTimePasscode => json!({"method": "emailOneTimePasscode"}),
        DomainLookup::ThisTenant => json!({"method": "member"}),
    };
    if let Some(p) = provider {
        answer["identityProviderId"] = json!(p.to_string());
        answer["startUrl"] = json!(format!("/auth/v1/oidc/{p}/start"));
    }
    Ok(Json(answer))
}

/// Sends a one-time passcode to an address, for this browser's sign-in flow (202 always).
#[utoipa::path(post, path = "/auth/v1/email-otp", tag = "sign-in", request_body = EmailBody,
    responses((status = 202), (status = 400)))]
pub async fn start_email_otp(
    State(state): State<ApiState>,
    headers: HeaderMap,
    GraphJson(body): GraphJson<EmailBody>,
) -> ApiResult<Response> {
    session::check_same_origin(&state, &headers)?;
    let existing = read_cookie(&headers, flow_cookie(&state)).filter(|f| f.len() <= 128);
    let flow = existing.clone().unwrap_or_else(|| random_secret("flow_"));
    state.app.start_email_otp(&flow, &body.email).await?;
    let mut r = (
        StatusCode::ACCEPTED,
        Json(json!({"message": "If this address may sign in here, a code is on its way. It works once, for a few minutes."})),
    )
        .into_response();
    if existing.is_none() {
        r.headers_mut().insert(
            header::SET_COOKIE,
            set_cookie(&state, flow_cookie(&state), &flow, FLOW_SECONDS),
        );
    }
    no_referrer(&mut r);
    Ok(r)
}

/// Checks the code sent to this browser's sign-in flow; on success a session begins.
#[utoipa::path(post, path = "/auth/v1/email-otp/verify", tag = "sign-in", request_body = CodeBody,
    responses((status = 200), (status = 400), (status = 429)))]
pub async fn verify_email_otp(
    State(state): State<ApiState>,
    headers: HeaderMap,
    GraphJson(body): GraphJson<CodeBody>,
) -> ApiResult<Response> {
    session::check_same_origin(&state, &headers)?;
    let refused = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalidCode",
            "The code is wrong, used or expired. Check it, or ask for a new one.",
        )
    };
    let flow = read_cookie(&headers, flow_cookie(&state)).ok_or_else(refused)?;
    let mut r = match state
        .app
        .verify_email_otp(&flow, &body.code, body.step_up)
        .await?
    {
        OtpOutcome::SignedIn(s) => signed_in(&state, &s),
        OtpOutcome::SecondFactor(enrollment) => Json(json!({
            "secondFactorRequired": true,
            "authenticatorToRegister": enrollment.map(|e| json!({"secret": e.secret, "otpauthUri": e.uri})),
        }))
        .into_response(),
        OtpOutcome::Refused => return Err(refused()),
        OtpOutcome::Wait(d) => wait(d),
        OtpOutcome::Locked => locked(),
        OtpOutcome::Blocked(reason) => {
            ApiError::new(StatusCode::FORBIDDEN, "signInBlocked", reason).into_response()
        }
    };
    no_referrer(&mut r);
    Ok(r)
}

/// The answer that starts a session: the cookie, and the CSRF token in the body.
pub fn signed_in(state: &ApiState, s: &consulate_app::sign_in::NewSession) -> Response {
    let max_age = s
        .expires_at
        .duration_since(jiff::Timestamp::now())
        .as_secs()
        .max(1);
    let mut r =
        Json(json!({"csrfToken": s.csrf_token, "expiresDateTime": s.expires_at.to_string()}))
            .into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, session_cookie(state), &s.secret, max_age),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, flow_cookie(state), "", 0),
    );
    r
}

/// Too many failures lately: 429 with `Retry-After`.
pub fn wait(d: std::time::Duration) -> Response {
    let secs = d.as_secs().max(1);
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "tooManyAttempts",
        format!("Too many failed attempts. Try again in {secs} seconds."),
    )
    .into_response();
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&secs.to_string()).expect("digits"),
    );
    r
}

/// Locked after too many failures.
pub fn locked() -> Response {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "locked",
        "Too many failed attempts: sign-in is locked for a day. Ask an administrator to reset it.",
    )
    .into_response()
}

/// Who is signed in, and the CSRF token for state-changing requests.
#[utoipa::path(get, path = "/auth/v1/session", tag = "sign-in", responses((status = 200), (status = 401)))]
pub async fn current(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let secret = read_cookie(&headers, session_cookie(&state)).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Not signed in.",
        )
    })?;
    let (caller, s) = state.app.session_caller(&secret).await?;
    let who = match caller.identity {
        CallerIdentity::User {
            user_id,
            user_principal_name,
            ..
        } => {
            json!({"kind": "user", "userId": user_id.to_string(), "userPrincipalName": user_principal_name})
        }
        CallerIdentity::External { email, .. } => json!({"kind": "external", "email": email}),
        _ => json!({"kind": "other"}),
    };
    Ok(Json(json!({
        "principal": who,
        "issuer": s.issuer,
        "method": s.method,
        "expiresDateTime": s.expires_at.to_string(),
        "csrfToken": consulate_app::sign_in::csrf_token_of(&secret),
    })))
}

/// Ends this browser's session (with the CSRF token, as every state change).
#[utoipa::path(post, path = "/auth/v1/sign-out", tag = "sign-in", responses((status = 204), (status = 401), (status = 403)))]
pub async fn sign_out(State(state): State<ApiState>, headers: HeaderMap) -> ApiResult<Response> {
    let secret = read_cookie(&headers, session_cookie(&state)).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Not signed in.",
        )
    })?;
    let (_, s) = state.app.session_caller(&secret).await?;
    session::check_csrf(&state, &Method::POST, &headers, &s)?;
    state.app.sign_out(&secret).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie(&state), "", 0),
    );
    Ok(r)
}

pub fn no_referrer(r: &mut Response) {
    r.headers_mut()
        .insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
