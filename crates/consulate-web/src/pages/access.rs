//! The access package link, requesting, and "My access".

use super::{CsrfForm, Done, checked, day, message, notice, sign_in_redirect};
use crate::{Chrome, Session, explain, page, see_other, session};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_app::lifecycle::NewRequest;
use consulate_core::lifecycle::AssignmentState;
use consulate_core::policy::AllowedTargetScope;
use consulate_core::request::RequestType;
use consulate_store::list::ListQuery;
use serde::Deserialize;
use uuid::Uuid;

struct QuestionView {
    id: String,
    text: String,
    required: bool,
    single_line: bool,
    multiple: bool,
    /// (value, text) of each choice; empty for a text question.
    choices: Vec<(String, String)>,
}

struct PolicyChoice {
    id: String,
    name: String,
    description: String,
    justification_required: bool,
    approval: bool,
    questions: Vec<QuestionView>,
    /// The policy lets requestors choose when their access starts and ends.
    custom_schedule: bool,
}

fn question_view(q: &consulate_core::policy::Question) -> QuestionView {
    use consulate_core::policy::QuestionKind;
    let (single_line, multiple, choices) = match &q.kind {
        QuestionKind::Text {
            is_single_line_question,
            ..
        } => (*is_single_line_question, false, Vec::new()),
        QuestionKind::MultipleChoice {
            is_multiple_selection_allowed,
            choices,
        } => (
            true,
            *is_multiple_selection_allowed,
            choices
                .iter()
                .map(|c| (c.actual_value.clone(), c.text.clone()))
                .collect(),
        ),
    };
    QuestionView {
        id: q.id.to_string(),
        text: q.text.clone(),
        required: q.is_required,
        single_line,
        multiple,
        choices,
    }
}

#[derive(Template)]
#[template(path = "packages.html")]
struct PackagesPage {
    chrome: Chrome,
    search: String,
    /// (id, name, description)
    packages: Vec<(String, String, String)>,
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
    /// A rule needs a second factor this sign-in did not give: offer to sign in again.
    step_up: bool,
    /// Terms of use still to accept: (text, version).
    terms: Option<(String, String)>,
}

/// Whether a refusal asks for the authenticator app (a passcode sign-in can step up).
fn asks_for_authenticator(why: &str) -> bool {
    why.contains("authenticator app")
}

struct AssignmentRow {
    id: String,
    package: String,
    state: String,
    ends: String,
    extendable: bool,
    removable: bool,
    /// Still granting access (delivering, delivered, scheduled); ended ones are listed apart.
    active: bool,
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
    has_active: bool,
    has_ended: bool,
}

async fn render_package(
    state: &ApiState,
    s: &Session,
    id: Uuid,
    error: Option<String>,
) -> Response {
    let mut chrome = s.chrome();
    let error_asks = error.as_deref().is_some_and(asks_for_authenticator);
    chrome.error = error;
    let terms = match state.app.terms_pending(&s.caller).await {
        Ok(t) => t.map(|t| (t.text, t.version)),
        Err(e) => {
            return message(
                s.chrome(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "My access",
                explain(&e),
            );
        }
    };
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
                        custom_schedule: pol.requestor_settings.allow_custom_assignment_schedule,
                        questions: {
                            let mut qs = pol.questions.clone();
                            qs.sort_by_key(|q| q.sequence);
                            qs.iter().map(question_view).collect()
                        },
                    })
                    .collect(),
                step_up: error_asks || p.refusals.iter().any(|r| asks_for_authenticator(r)),
                refusals: p.refusals,
                terms,
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

pub async fn request_submit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect(&format!("/access-packages/{id}"));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Some(refused) = checked(&state, &headers, &s, &field("csrf")) {
        return refused;
    }
    let (Ok(package), Ok(policy)) = (Uuid::parse_str(&id), Uuid::parse_str(&field("policy")))
    else {
        return see_other("/my-access");
    };
    // One answer per `answer:<question id>` field (several for a multiple choice).
    let answers = fields
        .iter()
        .filter_map(|(k, v)| {
            let q = Uuid::parse_str(k.strip_prefix("answer:")?).ok()?;
            (!v.trim().is_empty()).then(|| consulate_core::request::Answer {
                question_id: q,
                value: v.clone(),
                display_value: String::new(),
            })
        })
        .take(100)
        .collect();
    // A chosen schedule: dates at the start of the day (UTC).
    let date = |name: &str| -> Result<Option<jiff::Timestamp>, String> {
        match field(name).trim() {
            "" => Ok(None),
            d => format!("{d}T00:00:00Z")
                .parse::<jiff::Timestamp>()
                .map(Some)
                .map_err(|_| format!("{d} is not a date like 2026-12-01")),
        }
    };
    let schedule = match (date("start"), date("end")) {
        (Ok(None), Ok(None)) => None,
        (Ok(start), Ok(end)) => Some(consulate_core::request::RequestedSchedule {
            start,
            expiration: end.map(consulate_core::policy::Expiration::AfterDateTime),
        }),
        (Err(e), _) | (_, Err(e)) => {
            return render_package(&state, &s, package, Some(e)).await;
        }
    };
    let new = NewRequest {
        request_type: RequestType::UserAdd,
        access_package_id: Some(package),
        policy_id: Some(policy),
        target_id: None,
        assignment_id: None,
        justification: Some(field("justification")),
        answers,
        schedule,
    };
    let accepted = field("accept_terms");
    if !accepted.is_empty()
        && let Err(e) = state.app.accept_terms(&s.caller, &accepted).await
    {
        return render_package(&state, &s, package, Some(explain(&e))).await;
    }
    match state.app.submit_request(&s.caller, new, None).await {
        Ok(_) => see_other("/my-access?done=requested"),
        Err(e) => render_package(&state, &s, package, Some(explain(&e))).await,
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
    let mut policies = std::collections::HashMap::new();
    for a in &assignments {
        if let std::collections::hash_map::Entry::Vacant(e) = policies.entry(a.policy_id)
            && let Ok(p) = state.app.store.policy(a.policy_id).await
        {
            e.insert(p);
        }
    }
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
            has_active: assignments.iter().any(|a| a.state.is_active()),
            has_ended: assignments.iter().any(|a| !a.state.is_active()),
            assignments: assignments
                .iter()
                .rev()
                .map(|a| {
                    let settings = policies.get(&a.policy_id).map(|p| &p.requestor_settings);
                    let delivered = a.state == AssignmentState::Delivered;
                    AssignmentRow {
                        id: a.id.to_string(),
                        package: name(a.access_package_id),
                        state: a.state.as_str().into(),
                        ends: if a.state.is_active() {
                            a.schedule.end
                        } else {
                            a.expired_date_time.or(a.schedule.end)
                        }
                        .map(day)
                        .unwrap_or_else(|| "never".into()),
                        extendable: delivered
                            && a.schedule.end.is_some()
                            && settings.is_some_and(|r| r.enable_targets_to_self_update_access),
                        removable: a.state.is_active()
                            && settings.is_some_and(|r| r.enable_targets_to_self_remove_access),
                        active: a.state.is_active(),
                    }
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

/// Extends or removes one of the signed-in person's assignments (`userUpdate`, `userRemove`).
async fn change_assignment(
    state: &ApiState,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
    request_type: RequestType,
) -> Response {
    let Some(s) = session(state, headers).await else {
        return sign_in_redirect("/my-access");
    };
    if let Some(refused) = checked(state, headers, &s, csrf) {
        return refused;
    }
    let Ok(id) = Uuid::parse_str(id) else {
        return see_other("/my-access");
    };
    let new = NewRequest {
        request_type,
        access_package_id: None,
        policy_id: None,
        target_id: None,
        assignment_id: Some(id),
        justification: None,
        answers: Vec::new(),
        schedule: None,
    };
    match state.app.submit_request(&s.caller, new, None).await {
        Ok(_) if request_type == RequestType::UserRemove => see_other("/my-access?done=removed"),
        Ok(_) => see_other("/my-access?done=extended"),
        Err(e) => message(s.chrome(), StatusCode::CONFLICT, "Not done", explain(&e)),
    }
}

pub async fn extend_assignment(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    change_assignment(&state, &headers, &id, &f.csrf, RequestType::UserUpdate).await
}

pub async fn remove_assignment(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    change_assignment(&state, &headers, &id, &f.csrf, RequestType::UserRemove).await
}

#[derive(Debug, Deserialize)]
pub struct Search {
    #[serde(default)]
    search: String,
}

/// The packages the signed-in person may request (hidden ones are reached by their link).
pub async fn packages(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Search>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/access-packages");
    };
    let search: String = q.search.trim().chars().take(100).collect();
    let needle = search.to_lowercase();
    match state.app.requestable_packages(&s.caller, None, 500).await {
        Ok(p) => page(
            &PackagesPage {
                chrome: s.chrome(),
                packages: p
                    .packages
                    .into_iter()
                    .filter(|p| {
                        needle.is_empty() || p.display_name.to_lowercase().contains(&needle)
                    })
                    .map(|p| (p.id.to_string(), p.display_name, p.description))
                    .collect(),
                search,
            },
            StatusCode::OK,
        ),
        Err(e) => message(
            s.chrome(),
            StatusCode::FORBIDDEN,
            "Request access",
            explain(&e),
        ),
    }
}
