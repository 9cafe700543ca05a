//! Sign-in pages: the email step (home-realm discovery), the passcode, the password and
//! the second factor, and sign-out.

use super::{CsrfForm, checked, cross_site, message, url_encode};
use crate::{Chrome, explain, page, see_other, session};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use consulate_api::session::{flow_cookie, read_cookie, session_cookie, set_cookie};
use consulate_api::state::ApiState;
use consulate_app::identity_providers::DomainLookup;
use consulate_app::local_accounts::PasswordOutcome;
use consulate_app::sign_in::{NewSession, OtpOutcome, random_secret};
use consulate_core::access::Caller;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    return_to: String,
    email: String,
    step_up: bool,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    chrome: Chrome,
    return_to: String,
    email: String,
    step_up: bool,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    return_to: String,
    email: String,
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    chrome: Chrome,
    return_to: String,
    /// Passcode sign-ins have no recovery codes (an administrator resets a lost device).
    recovery: bool,
    /// The authenticator app to register, shown once: (secret, otpauth URI).
    enrollment: Option<(String, String)>,
}

pub async fn home(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    match session(&state, &headers).await {
        Some(_) => see_other("/my-access"),
        None => see_other("/sign-in"),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReturnTo {
    #[serde(default)]
    return_to: Option<String>,
    #[serde(default)]
    step_up: Option<String>,
}

fn flag(v: &str) -> bool {
    matches!(v, "1" | "true" | "on")
}

pub async fn sign_in_page(Query(q): Query<ReturnTo>) -> Response {
    page(
        &SignInPage {
            chrome: Chrome::default(),
            return_to: consulate_core::sign_in::safe_redirect(
                q.return_to.as_deref().unwrap_or("/my-access"),
            )
            .into(),
            email: String::new(),
            step_up: q.step_up.as_deref().is_some_and(flag),
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    email: String,
    #[serde(default)]
    return_to: String,
    #[serde(default)]
    step_up: String,
}

/// The email step: home-realm discovery decides where the person signs in.
pub async fn sign_in_submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<EmailForm>,
) -> Response {
    if let Err(e) = consulate_api::session::check_same_origin(&state, &headers) {
        return cross_site(e);
    }
    let return_to = consulate_core::sign_in::safe_redirect(&f.return_to).to_owned();
    let again = |error: String| {
        page(
            &SignInPage {
                chrome: Chrome {
                    error: Some(error),
                    ..Chrome::default()
                },
                return_to: return_to.clone(),
                email: f.email.clone(),
                step_up: flag(&f.step_up),
            },
            StatusCode::BAD_REQUEST,
        )
    };
    let email = match consulate_core::sign_in::email_identifier(&f.email) {
        Ok(e) => e,
        Err(e) => return again(e.to_string()),
    };
    let domain = email.rsplit('@').next().unwrap_or_default().to_owned();
    let lookup = match state.app.lookup_domain(&Caller::system(), &domain).await {
        Ok((_, l)) => l,
        Err(e) => return again(explain(&e)),
    };
    match lookup {
        DomainLookup::ThisTenant => page(
            &PasswordPage {
                chrome: Chrome::default(),
                return_to,
                email,
            },
            StatusCode::OK,
        ),
        DomainLookup::Tenant { .. }
        | DomainLookup::Federation { .. }
        | DomainLookup::Social { .. } => {
            match state.app.sign_in_provider_for(&domain).await {
                Ok(Some(p)) => see_other(&format!(
                    "/auth/v1/oidc/{p}/start?returnTo={}&loginHint={}",
                    url_encode(&return_to),
                    url_encode(&email)
                )),
                _ => again(
                    "Your organization signs in with its own identity provider, which is not set up here yet. Ask your contact."
                        .into(),
                ),
            }
        }
        DomainLookup::OneTimePasscode => {
            let existing = read_cookie(&headers, flow_cookie(&state)).filter(|f| f.len() <= 128);
            let flow = existing.clone().unwrap_or_else(|| random_secret("flow_"));
            if let Err(e) = state.app.start_email_otp(&flow, &email).await {
                return again(explain(&e));
            }
            let mut r = page(
                &CodePage {
                    chrome: Chrome::default(),
                    return_to,
                    email,
                    step_up: flag(&f.step_up),
                },
                StatusCode::OK,
            );
            if existing.is_none() {
                r.headers_mut().insert(
                    header::SET_COOKIE,
                    set_cookie(&state, flow_cookie(&state), &flow, 30 * 60),
                );
            }
            r
        }
    }
}

/// Starts the session and goes where the person was headed.
fn signed_in(state: &ApiState, s: &NewSession, to: &str) -> Response {
    let mut r = see_other(to);
    let max_age = s
        .expires_at
        .duration_since(jiff::Timestamp::now())
        .as_secs()
        .max(1);
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

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    return_to: String,
    #[serde(default)]
    step_up: String,
}

pub async fn code_submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    if let Err(e) = consulate_api::session::check_same_origin(&state, &headers) {
        return cross_site(e);
    }
    let return_to = consulate_core::sign_in::safe_redirect(&f.return_to).to_owned();
    let again = |error: String, status: StatusCode| {
        page(
            &CodePage {
                chrome: Chrome {
                    error: Some(error),
                    ..Chrome::default()
                },
                return_to: return_to.clone(),
                email: f.email.clone(),
                step_up: flag(&f.step_up),
            },
            status,
        )
    };
    let Some(flow) = read_cookie(&headers, flow_cookie(&state)) else {
        return again(
            "This sign-in has expired. Start again.".into(),
            StatusCode::BAD_REQUEST,
        );
    };
    match state
        .app
        .verify_email_otp(&flow, &f.code, flag(&f.step_up))
        .await
    {
        Ok(OtpOutcome::SignedIn(s)) => signed_in(&state, &s, &return_to),
        Ok(OtpOutcome::SecondFactor(enrollment)) => page(
            &SecondFactorPage {
                chrome: Chrome::default(),
                return_to: return_to.clone(),
                recovery: false,
                enrollment: enrollment.map(|e| (e.secret, e.uri)),
            },
            StatusCode::OK,
        ),
        Ok(OtpOutcome::Refused) => again(
            "The code is wrong, used or expired. Check it, or start again for a new one.".into(),
            StatusCode::BAD_REQUEST,
        ),
        Ok(OtpOutcome::Wait(d)) => again(
            format!(
                "Too many wrong codes. Try again in {} seconds.",
                d.as_secs().max(1)
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Ok(OtpOutcome::Locked) => again(
            "Too many wrong codes: sign-in with this address is locked for a day.".into(),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Ok(OtpOutcome::Blocked(reason)) => again(reason, StatusCode::FORBIDDEN),
        Err(e) => again(explain(&e), StatusCode::BAD_REQUEST),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    user_name: String,
    password: String,
    #[serde(default)]
    return_to: String,
}

fn password_outcome(
    state: &ApiState,
    o: PasswordOutcome,
    return_to: String,
    email: String,
    flow: Option<&str>,
) -> Response {
    let again = |error: &str, status: StatusCode| {
        page(
            &PasswordPage {
                chrome: Chrome {
                    error: Some(error.into()),
                    ..Chrome::default()
                },
                return_to: return_to.clone(),
                email: email.clone(),
            },
            status,
        )
    };
    match o {
        PasswordOutcome::SignedIn(s) => signed_in(state, &s, &return_to),
        PasswordOutcome::SecondFactor => {
            let mut r = page(
                &SecondFactorPage {
                    chrome: Chrome::default(),
                    return_to: return_to.clone(),
                    recovery: true,
                    enrollment: None,
                },
                StatusCode::OK,
            );
            if let Some(flow) = flow {
                r.headers_mut().insert(
                    header::SET_COOKIE,
                    set_cookie(state, flow_cookie(state), flow, 600),
                );
            }
            r
        }
        PasswordOutcome::Refused => again(
            "The user name, password or code is wrong.",
            StatusCode::BAD_REQUEST,
        ),
        PasswordOutcome::Wait(d) => again(
            &format!(
                "Too many failed attempts. Try again in {} seconds.",
                d.as_secs().max(1)
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        PasswordOutcome::Locked => again(
            "Too many failed attempts: sign-in is locked for a day.",
            StatusCode::TOO_MANY_REQUESTS,
        ),
    }
}

pub async fn password_submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<PasswordForm>,
) -> Response {
    if let Err(e) = consulate_api::session::check_same_origin(&state, &headers) {
        return cross_site(e);
    }
    let return_to = consulate_core::sign_in::safe_redirect(&f.return_to).to_owned();
    let existing = read_cookie(&headers, flow_cookie(&state)).filter(|f| f.len() <= 128);
    let flow = existing.clone().unwrap_or_else(|| random_secret("flow_"));
    match state
        .app
        .password_sign_in(&flow, &f.user_name, &f.password)
        .await
    {
        Ok(o) => password_outcome(
            &state,
            o,
            return_to,
            f.user_name.clone(),
            existing.is_none().then_some(flow.as_str()),
        ),
        Err(e) => message(
            Chrome::default(),
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            explain(&e),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct SecondFactorForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
    #[serde(default)]
    return_to: String,
    /// Whether the page offered recovery codes (members' sign-ins).
    #[serde(default)]
    recovery: String,
}

pub async fn second_factor_submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<SecondFactorForm>,
) -> Response {
    if let Err(e) = consulate_api::session::check_same_origin(&state, &headers) {
        return cross_site(e);
    }
    let return_to = consulate_core::sign_in::safe_redirect(&f.return_to).to_owned();
    let flow = read_cookie(&headers, flow_cookie(&state)).unwrap_or_default();
    let (code, recovery) = if f.code.trim().is_empty() {
        (None, Some(f.recovery_code.as_str()))
    } else {
        (Some(f.code.as_str()), None)
    };
    let outcome = if flow.is_empty() {
        Ok(PasswordOutcome::Refused)
    } else {
        state.app.second_factor(&flow, code, recovery).await
    };
    match outcome {
        Ok(PasswordOutcome::SignedIn(s)) => signed_in(&state, &s, &return_to),
        Ok(_) => page(
            &SecondFactorPage {
                chrome: Chrome {
                    error: Some("The code is wrong or was used already.".into()),
                    ..Chrome::default()
                },
                return_to,
                recovery: flag(&f.recovery),
                enrollment: None,
            },
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => message(
            Chrome::default(),
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            explain(&e),
        ),
    }
}

pub async fn sign_out(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return see_other("/sign-in");
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    let _ = state.app.sign_out(&s.secret).await;
    let mut r = see_other("/sign-in");
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie(&state), "", 0),
    );
    r
}
