//! `/admin/v1/signInRules` and `/admin/v1/collaborationDomains`: the rules for people from
//! outside, and the domains that may (or may not) collaborate at all.

use super::object_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson};
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consulate_core::domain_name::DomainName;
use consulate_core::sign_in_rules::{CollaborationDomains, RuleTarget, SignInMethod, SignInRule};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use uuid::Uuid;

/// A sign-in rule as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRule {
    pub display_name: String,
    /// `allExternalUsers`, `connectedOrganizations` or `accessPackages`.
    pub target: String,
    /// The organizations or packages (for those targets).
    #[serde(default)]
    pub target_ids: Vec<String>,
    #[serde(default)]
    pub require_mfa: bool,
    /// `emailOneTimePasscode`, `identityProvider`; empty: any.
    #[serde(default)]
    pub allowed_methods: Vec<String>,
    #[serde(default)]
    pub max_session_minutes: Option<u64>,
}

/// The collaboration domain list as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainsBody {
    /// `any`, `allowOnly` or `deny`.
    pub mode: String,
    #[serde(default)]
    pub domains: Vec<String>,
}

fn rule_json(r: &SignInRule) -> Value {
    let (target, ids): (&str, Vec<String>) = match &r.target {
        RuleTarget::AllExternalUsers => ("allExternalUsers", vec![]),
        RuleTarget::ConnectedOrganizations(s) => (
            "connectedOrganizations",
            s.iter().map(Uuid::to_string).collect(),
        ),
        RuleTarget::AccessPackages(s) => {
            ("accessPackages", s.iter().map(Uuid::to_string).collect())
        }
    };
    json!({
        "id": r.id.to_string(),
        "displayName": r.display_name,
        "target": target,
        "targetIds": ids,
        "requireMfa": r.require_mfa,
        "allowedMethods": r.allowed_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        "maxSessionMinutes": r.max_session.map(|d| d.as_secs() / 60),
    })
}

/// The sign-in rules.
#[utoipa::path(get, path = "/admin/v1/signInRules", tag = "sign-in", responses((status = 200), (status = 403)))]
pub async fn list(State(state): State<ApiState>, Auth(caller): Auth) -> ApiResult<Json<Value>> {
    let rules = state.app.sign_in_rules(&caller).await?;
    Ok(Json(
        json!({"value": rules.iter().map(rule_json).collect::<Vec<_>>()}),
    ))
}

/// Adds a sign-in rule.
#[utoipa::path(post, path = "/admin/v1/signInRules", tag = "sign-in", request_body = NewRule,
    responses((status = 201), (status = 400), (status = 403)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<NewRule>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let ids = body
        .target_ids
        .iter()
        .map(|i| {
            Uuid::parse_str(i).map_err(|_| {
                ApiError::bad_request(format!("'{i}' is not an id")).with_target("targetIds")
            })
        })
        .collect::<Result<BTreeSet<Uuid>, _>>()?;
    let target = match body.target.as_str() {
        "allExternalUsers" => RuleTarget::AllExternalUsers,
        "connectedOrganizations" => RuleTarget::ConnectedOrganizations(ids),
        "accessPackages" => RuleTarget::AccessPackages(ids),
        _ => {
            return Err(ApiError::bad_request(
                "target is allExternalUsers, connectedOrganizations or accessPackages",
            )
            .with_target("target"));
        }
    };
    let allowed_methods = body
        .allowed_methods
        .iter()
        .map(|m| SignInMethod::parse(m))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let rule = SignInRule {
        id: Uuid::nil(),
        display_name: body.display_name,
        target,
        require_mfa: body.require_mfa,
        allowed_methods,
        max_session: body
            .max_session_minutes
            .map(|m| std::time::Duration::from_secs(m.saturating_mul(60))),
    };
    let r = state.app.create_sign_in_rule(&caller, rule).await?;
    Ok((StatusCode::CREATED, Json(rule_json(&r))))
}

/// Deletes a sign-in rule.
#[utoipa::path(delete, path = "/admin/v1/signInRules/{id}", tag = "sign-in", params(("id" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .delete_sign_in_rule(&caller, object_id(&id, "signInRule")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The domains that may collaborate.
#[utoipa::path(get, path = "/admin/v1/collaborationDomains", tag = "sign-in", responses((status = 200)))]
pub async fn get_domains(
    State(state): State<ApiState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Value>> {
    let d = state.app.collaboration_domains(&caller).await?;
    let (mode, list) = match &d {
        CollaborationDomains::Any => ("any", vec![]),
        CollaborationDomains::AllowOnly(s) => {
            ("allowOnly", s.iter().map(|d| d.to_string()).collect())
        }
        CollaborationDomains::Deny(s) => ("deny", s.iter().map(|d| d.to_string()).collect()),
    };
    Ok(Json(json!({"mode": mode, "domains": list})))
}

/// Sets the domains that may (`allowOnly`) or may not (`deny`) collaborate; `any` clears.
#[utoipa::path(put, path = "/admin/v1/collaborationDomains", tag = "sign-in", request_body = DomainsBody,
    responses((status = 204), (status = 400)))]
pub async fn set_domains(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<DomainsBody>,
) -> ApiResult<StatusCode> {
    let set = body
        .domains
        .iter()
        .map(|d| DomainName::parse(d))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let d = match body.mode.as_str() {
        "any" => CollaborationDomains::Any,
        "allowOnly" => CollaborationDomains::AllowOnly(set),
        "deny" => CollaborationDomains::Deny(set),
        _ => {
            return Err(ApiError::bad_request("mode is any, allowOnly or deny").with_target("mode"));
        }
    };
    state.app.set_collaboration_domains(&caller, d).await?;
    Ok(StatusCode::NO_CONTENT)
}
