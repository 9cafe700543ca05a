//! The portal's pages and form handlers.

use crate::{Chrome, Session, explain, page, see_other, session};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use consulate_api::session::{
    check_origin_and_token, flow_cookie, read_cookie, session_cookie, set_cookie,
};
use consulate_api::state::ApiState;
use consulate_app::identity_providers::DomainLookup;
use consulate_app::lifecycle::NewRequest;
use consulate_app::local_accounts::PasswordOutcome;
use consulate_app::sign_in::{NewSession, OtpOutcome, random_secret};
use consulate_core::access::Caller;
use consulate_core::policy::AllowedTargetScope;
use consulate_core::request::RequestType;
use consulate_store::list::ListQuery;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    return_to: String,
    email: String,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    chrome: Chrome,
    return_to: String,
    email: String,
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
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: String,
    text: String,
}

struct PolicyChoice {
    id: String,
    name: String,
    description: String,
    justification_required: bool,
    approval: bool,
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage {
    chrome: Chrome,
    id: String,
    name: String,
    description: String,
    held: bool,
    policies: Vec<PolicyChoice>,
    refusals: Vec<String>,
}

struct AssignmentRow {
    package: String,
    state: String,
    ends: String,
}

struct RequestRow {
    id: String,
    package: String,
    kind: String,
    state: String,
    created: String,
    cancellable: bool,
}

#[derive(Template)]
#[template(path = "my_access.html")]
struct MyAccessPage {
    chrome: Chrome,
    assignments: Vec<AssignmentRow>,
    requests: Vec<RequestRow>,
}

struct PendingStage {
    request: String,
    stage: String,
    package: String,
    requestor: String,
    organization: String,
    created: String,
    justification: String,
    answers: Vec<String>,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    chrome: Chrome,
    pending: Vec<PendingStage>,
}

fn day(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

fn sign_in_redirect(path: &str) -> Response {
    see_other(&format!(
        "/sign-in?return_to={}",
        consulate_api_encode(path)
    ))
}

fn consulate_api_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A sign-in step posted from another site.
fn cross_site(_: consulate_api::error::ApiError) -> Response {
    message(
        Chrome::default(),
        StatusCode::FORBIDDEN,
        "Not sent from this site",
        "Sign-in forms work only from this site's own pages.".into(),
    )
}

/// A message page (not found, not allowed, …).
fn message(chrome: Chrome, status: StatusCode, heading: &str, text: String) -> Response {
    page(
        &MessagePage {
            chrome,
            heading: heading.into(),
            text,
        },
        status,
    )
}

/// Refuses a form that did not come from this origin with the session's token.
fn checked(state: &ApiState, headers: &HeaderMap, s: &Session, token: &str) -> Option<Response> {
    check_origin_and_token(state, headers, &s.record, token)
        .err()
        .map(|_| {
            message(
                s.chrome(),
                StatusCode::FORBIDDEN,
                "Not sent from this page",
                "The form was not sent from this site's own page, so nothing was done. Reload the page and try again."
                    .into(),
            )
        })
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
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    email: String,
    #[serde(default)]
    return_to: String,
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
        DomainLookup::Tenant { .. } | DomainLookup::Federation { .. } => {
            match state.app.sign_in_provider_for(&domain).await {
                Ok(Some(p)) => see_other(&format!(
                    "/auth/v1/oidc/{p}/start?returnTo={}&loginHint={}",
                    consulate_api_encode(&return_to),
                    consulate_api_encode(&email)
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
    match state.app.verify_email_otp(&flow, &f.code).await {
        Ok(OtpOutcome::SignedIn(s)) => signed_in(&state, &s, &return_to),
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

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
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

async fn render_package(
    state: &ApiState,
    s: &Session,
    id: Uuid,
    error: Option<String>,
) -> Response {
    let mut chrome = s.chrome();
    chrome.error = error;
    match state.app.package_for_requestor(&s.caller, id).await {
        Ok(p) => page(
            &PackagePage {
                chrome,
                id: id.to_string(),
                name: p.package.display_name,
                description: p.package.description,
                held: p.held,
                policies: p
                    .allowed
                    .iter()
                    .map(|pol| PolicyChoice {
                        id: pol.id.to_string(),
                        name: pol.display_name.clone(),
                        description: pol.description.clone(),
                        justification_required: pol
                            .approval_settings
                            .is_requestor_justification_required,
                        approval: pol.approval_settings.is_approval_required_for_add
                            && pol.allowed_target_scope != AllowedTargetScope::NotSpecified,
                    })
                    .collect(),
                refusals: p.refusals,
            },
            StatusCode::OK,
        ),
        Err(e) => message(
            s.chrome(),
            StatusCode::NOT_FOUND,
            "This access package cannot be shown",
            explain(&e),
        ),
    }
}

/// The link admins send to partners: signed out, it leads through sign-in and back here.
pub async fn package_page(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect(&format!("/access-packages/{id}"));
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return message(
            s.chrome(),
            StatusCode::NOT_FOUND,
            "No such access package",
            "The link is not complete; ask for it again.".into(),
        );
    };
    render_package(&state, &s, id, None).await
}

#[derive(Debug, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    csrf: String,
    policy: String,
    #[serde(default)]
    justification: String,
}

pub async fn request_submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RequestForm>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect(&format!("/access-packages/{id}"));
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    let (Ok(package), Ok(policy)) = (Uuid::parse_str(&id), Uuid::parse_str(&f.policy)) else {
        return see_other("/my-access");
    };
    let new = NewRequest {
        request_type: RequestType::UserAdd,
        access_package_id: Some(package),
        policy_id: Some(policy),
        target_id: None,
        assignment_id: None,
        justification: Some(f.justification),
        answers: Vec::new(),
        schedule: None,
    };
    match state.app.submit_request(&s.caller, new, None).await {
        Ok(_) => see_other("/my-access?done=requested"),
        Err(e) => render_package(&state, &s, package, Some(explain(&e))).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<String> {
    match done? {
        "requested" => Some("Your request was sent. You can follow it here.".into()),
        "canceled" => Some("The request was canceled.".into()),
        "decided" => Some("Your decision was recorded.".into()),
        _ => None,
    }
}

pub async fn my_access(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/my-access");
    };
    let mut chrome = s.chrome();
    chrome.notice = notice(q.done.as_deref());
    let assignments = state
        .app
        .list_assignments(&s.caller, true, &ListQuery::default())
        .await;
    let requests = state
        .app
        .list_requests(&s.caller, Some("target"), &ListQuery::default())
        .await;
    let (assignments, requests) = match (assignments, requests) {
        (Ok(a), Ok(r)) => (a.items, r.items),
        (Err(e), _) | (_, Err(e)) => {
            return message(chrome, StatusCode::FORBIDDEN, "My access", explain(&e));
        }
    };
    let mut ids: Vec<Uuid> = assignments
        .iter()
        .map(|a| a.access_package_id)
        .chain(requests.iter().map(|r| r.access_package_id))
        .collect();
    ids.sort();
    ids.dedup();
    let names = state
        .app
        .store
        .access_packages_by_ids(&ids)
        .await
        .unwrap_or_default();
    let name = |id: Uuid| {
        names
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.display_name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    page(
        &MyAccessPage {
            chrome,
            assignments: assignments
                .iter()
                .rev()
                .map(|a| AssignmentRow {
                    package: name(a.access_package_id),
                    state: a.state.as_str().into(),
                    ends: a.schedule.end.map(day).unwrap_or_else(|| "never".into()),
                })
                .collect(),
            requests: requests
                .iter()
                .rev()
                .map(|r| RequestRow {
                    id: r.id.to_string(),
                    package: name(r.access_package_id),
                    kind: r.request_type.as_str().into(),
                    state: r.state.as_str().into(),
                    created: day(r.created_date_time),
                    cancellable: r.state.is_cancellable(),
                })
                .collect(),
        },
        StatusCode::OK,
    )
}

pub async fn cancel_request(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/my-access");
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return see_other("/my-access");
    };
    match state.app.cancel_request(&s.caller, id).await {
        Ok(()) => see_other("/my-access?done=canceled"),
        Err(e) => message(
            s.chrome(),
            StatusCode::CONFLICT,
            "Not canceled",
            explain(&e),
        ),
    }
}

pub async fn approvals(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Done>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/approvals");
    };
    let mut chrome = s.chrome();
    chrome.notice = notice(q.done.as_deref());
    let requests = match state.app.my_approvals(&s.caller).await {
        Ok(r) => r,
        Err(e) => return message(chrome, StatusCode::FORBIDDEN, "Approvals", explain(&e)),
    };
    let mut pending = Vec::new();
    for r in requests {
        let Ok(stages) = state.app.approval_stages(&s.caller, r.id).await else {
            continue;
        };
        let Some(open) = stages
            .iter()
            .find(|v| v.assigned_to_me && v.stage.status == "inProgress")
        else {
            continue;
        };
        let users = state
            .app
            .store
            .users_by_ids(&[r.target_id])
            .await
            .unwrap_or_default();
        let requestor = users
            .first()
            .map(|u| {
                format!(
                    "{} ({})",
                    u.display_name,
                    u.mail
                        .clone()
                        .unwrap_or_else(|| u.user_principal_name.clone())
                )
            })
            .unwrap_or_default();
        let organization = match state.app.store.subject(r.target_id).await {
            Ok(Some(sub)) => match sub.connected_organization_id {
                Some(o) => state
                    .app
                    .store
                    .connected_organization(o)
                    .await
                    .map(|o| o.display_name)
                    .unwrap_or_default(),
                None => String::new(),
            },
            _ => String::new(),
        };
        let package = state
            .app
            .store
            .access_packages_by_ids(&[r.access_package_id])
            .await
            .ok()
            .and_then(|p| p.into_iter().next())
            .map(|p| p.display_name)
            .unwrap_or_default();
        pending.push(PendingStage {
            request: r.id.to_string(),
            stage: open.stage.id.to_string(),
            package,
            requestor,
            organization,
            created: day(r.created_date_time),
            justification: r.justification.clone(),
            answers: r.answers.iter().map(|a| a.display_value.clone()).collect(),
        });
    }
    page(&ApprovalsPage { chrome, pending }, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    justification: String,
}

pub async fn decide(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((request, stage)): Path<(String, String)>,
    Form(f): Form<DecideForm>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/approvals");
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    let (Ok(request), Ok(stage)) = (Uuid::parse_str(&request), Uuid::parse_str(&stage)) else {
        return see_other("/approvals");
    };
    let approve = f.decision == "Approve";
    match state
        .app
        .decide_stage(&s.caller, request, stage, approve, Some(f.justification))
        .await
    {
        Ok(()) => see_other("/approvals?done=decided"),
        Err(e) => message(
            s.chrome(),
            StatusCode::CONFLICT,
            "Not recorded",
            explain(&e),
        ),
    }
}
