//! The approvals inbox: pending stages assigned to the signed-in person, and the decision.

use super::{Done, checked, day, message, notice, sign_in_redirect};
use crate::{Chrome, explain, page, see_other, session};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use serde::Deserialize;
use uuid::Uuid;

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
    /// (when, package, requester, decision, reason) of this person's decisions, newest first.
    decided: Vec<(String, String, String, String, String)>,
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
                let address = u
                    .mail
                    .clone()
                    .unwrap_or_else(|| u.user_principal_name.clone());
                if u.display_name == address {
                    address
                } else {
                    format!("{} ({address})", u.display_name)
                }
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
    let decided = decisions(&state, &s).await;
    page(
        &ApprovalsPage {
            chrome,
            pending,
            decided,
        },
        StatusCode::OK,
    )
}

/// The decisions this person made (up to the last 100 requests they could decide).
async fn decisions(
    state: &ApiState,
    s: &crate::Session,
) -> Vec<(String, String, String, String, String)> {
    let consulate_core::access::CallerIdentity::User { user_id, .. } = s.caller.identity else {
        return Vec::new();
    };
    let q = consulate_store::list::ListQuery {
        top: 100,
        ..consulate_store::list::ListQuery::default()
    };
    let Ok(page_of) = state
        .app
        .list_requests(&s.caller, Some("approver"), &q)
        .await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in page_of.items.iter().rev() {
        let Ok(stages) = state.app.approval_stages(&s.caller, r.id).await else {
            continue;
        };
        for v in stages
            .iter()
            .filter(|v| v.stage.reviewed_by == Some(user_id))
        {
            let package = state
                .app
                .store
                .access_packages_by_ids(&[r.access_package_id])
                .await
                .ok()
                .and_then(|p| p.into_iter().next())
                .map(|p| p.display_name)
                .unwrap_or_default();
            let who = state
                .app
                .store
                .users_by_ids(&[r.target_id])
                .await
                .ok()
                .and_then(|u| u.into_iter().next())
                .map(|u| u.mail.unwrap_or(u.user_principal_name))
                .unwrap_or_default();
            out.push((
                v.stage
                    .reviewed_at
                    .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                package,
                who,
                v.stage.review_result.clone(),
                v.stage.justification.clone(),
            ));
        }
    }
    out
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
