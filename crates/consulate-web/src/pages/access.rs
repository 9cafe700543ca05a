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
use consulate_core::policy::AllowedTargetScope;
use consulate_core::request::RequestType;
use consulate_store::list::ListQuery;
use serde::Deserialize;
use uuid::Uuid;

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
