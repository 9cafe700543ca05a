//! Admin center: the audit log with filters, and the external-user lifecycle settings.

use super::{checked, message, sign_in_redirect};
use crate::{Chrome, explain, page, see_other, session};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_core::filter::{AuditField, Compare, Filter, TextMatch, Value};
use consulate_core::lifecycle::ExternalUserLifecycleAction;
use consulate_core::policy::IsoDuration;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    chrome: Chrome,
    activity: String,
    target: String,
    since: String,
    /// (when, activity, by, about, details)
    events: Vec<(String, String, String, String, String)>,
    more: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    action: String,
    days: String,
    /// The terms of use people from outside accept (empty: none).
    terms: String,
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    activity: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    before: Option<i64>,
}

pub async fn audit(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/admin/audit");
    };
    let activity: String = q.activity.trim().chars().take(100).collect();
    let target: String = q.target.trim().chars().take(64).collect();
    let since: String = q.since.trim().chars().take(10).collect();
    let mut parts = Vec::new();
    if !activity.is_empty() {
        parts.push(Filter::Text {
            field: AuditField::ActivityDisplayName,
            op: TextMatch::Contains,
            value: activity.clone(),
        });
    }
    if !target.is_empty() {
        parts.push(Filter::Any {
            collection: AuditField::TargetResources,
            filter: Box::new(Filter::Compare {
                field: AuditField::TargetResourceId,
                op: Compare::Eq,
                value: Value::String(target.clone()),
            }),
        });
    }
    if !since.is_empty() {
        match format!("{since}T00:00:00Z").parse::<jiff::Timestamp>() {
            Ok(t) => parts.push(Filter::Compare {
                field: AuditField::ActivityDateTime,
                op: Compare::Ge,
                value: Value::Timestamp(t),
            }),
            Err(_) => {
                let mut chrome = s.chrome();
                chrome.error = Some("Since is a date like 2026-12-01.".into());
                return page(
                    &AuditPage {
                        chrome,
                        activity,
                        target,
                        since,
                        events: vec![],
                        more: None,
                    },
                    StatusCode::BAD_REQUEST,
                );
            }
        }
    }
    let filter = parts
        .into_iter()
        .reduce(|a, b| Filter::And(Box::new(a), Box::new(b)));
    match state
        .app
        .list_audit_events(&s.caller, filter.as_ref(), 100, q.before)
        .await
    {
        Ok(p) => page(
            &AuditPage {
                chrome: s.chrome(),
                events: p
                    .events
                    .into_iter()
                    .map(|(_, e)| {
                        let about = e
                            .target_resources
                            .iter()
                            .map(|t| {
                                format!(
                                    "{} {}",
                                    t.kind,
                                    t.display_name.clone().unwrap_or_else(|| t.id.clone())
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ");
                        let details = e
                            .target_resources
                            .iter()
                            .flat_map(|t| t.modified_properties.iter())
                            .map(|p| {
                                format!(
                                    "{}: {}",
                                    p.display_name,
                                    p.new_value.clone().unwrap_or_default()
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ");
                        (
                            e.activity_date_time
                                .strftime("%Y-%m-%d %H:%M:%S")
                                .to_string(),
                            e.activity_display_name,
                            e.initiated_by.display_name,
                            about,
                            details,
                        )
                    })
                    .collect(),
                more: p.next_before,
                activity,
                target,
                since,
            },
            StatusCode::OK,
        ),
        Err(e) => message(s.chrome(), StatusCode::FORBIDDEN, "Audit log", explain(&e)),
    }
}

pub async fn settings(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/admin/settings");
    };
    let terms = match state.app.terms_of_use().await {
        Ok(t) => t.map(|t| t.text).unwrap_or_default(),
        Err(e) => {
            return message(
                s.chrome(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "Settings",
                explain(&e),
            );
        }
    };
    match state.app.settings(&s.caller).await {
        Ok(v) => page(
            &SettingsPage {
                chrome: s.chrome(),
                terms,
                action: v.external_user_lifecycle_action.as_str().into(),
                days: (v
                    .duration_until_external_user_deleted_after_blocked
                    .seconds()
                    / 86_400)
                    .to_string(),
            },
            StatusCode::OK,
        ),
        Err(e) => message(s.chrome(), StatusCode::FORBIDDEN, "Settings", explain(&e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    days: String,
}

pub async fn save_settings(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<SettingsForm>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/admin/settings");
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    let parsed = ExternalUserLifecycleAction::parse(&f.action).and_then(|a| {
        let days: u32 =
            f.days.trim().parse().map_err(|_| {
                consulate_core::DomainError::invalid("days", "days are a whole number")
            })?;
        Ok((a, IsoDuration::parse("days", &format!("P{days}D"))?))
    });
    let result = match parsed {
        Ok((a, d)) => state.app.update_settings(&s.caller, Some(a), Some(d)).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => see_other("/admin/settings"),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not saved",
            explain(&e),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct TermsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// Saves the terms of use (an empty text removes them).
pub async fn save_terms(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<TermsForm>,
) -> Response {
    let Some(s) = session(&state, &headers).await else {
        return sign_in_redirect("/admin/settings");
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    match state.app.set_terms_of_use(&s.caller, &f.text).await {
        Ok(_) => see_other("/admin/settings"),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Terms not saved",
            explain(&e),
        ),
    }
}
