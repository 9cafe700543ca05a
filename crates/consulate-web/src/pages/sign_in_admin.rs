//! Admin center: identity providers partners sign in at, sign-in rules, and the domains that
//! may collaborate.

use super::{checked, field, message, signed_in};
use crate::{Chrome, Session, explain, page, see_other};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_core::domain_name::DomainName;
use consulate_core::identity_provider::ProviderKind;
use consulate_core::sign_in_rules::{CollaborationDomains, RuleTarget, SignInMethod, SignInRule};
use consulate_store::oidc::ProviderClient;
use serde::Deserialize;
use std::collections::BTreeSet;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin_sign_in.html")]
struct SignInAdminPage {
    chrome: Chrome,
    /// (name, issuer or tenant, domains, sign-in set up)
    providers: Vec<(String, String, String, String)>,
    /// (id, name, for, requires)
    rules: Vec<(String, String, String, String)>,
    mode: String,
    domains: String,
}

pub async fn overview(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let s = match signed_in(&state, &headers, "/admin/sign-in").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let app = &state.app;
    let shown = async {
        let providers = app.list_identity_providers(&s.caller).await?;
        let rules = app.sign_in_rules(&s.caller).await?;
        let domains = app.collaboration_domains(&s.caller).await?;
        Ok::<_, consulate_app::ServiceError>((providers, rules, domains))
    }
    .await;
    let (providers, rules, domains) = match shown {
        Ok(x) => x,
        Err(e) => return message(s.chrome(), StatusCode::FORBIDDEN, "Sign-in", explain(&e)),
    };
    let mut rows = Vec::new();
    for p in providers {
        let configured = app
            .store
            .provider_client(p.id)
            .await
            .ok()
            .flatten()
            .is_some();
        rows.push((
            if p.social {
                format!("{} (social)", p.display_name)
            } else {
                p.display_name
            },
            match p.kind {
                ProviderKind::Federation { issuer_uri } => issuer_uri,
                ProviderKind::Tenant { tenant_id } => format!("tenant {tenant_id}"),
            },
            p.domains
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if configured { "set up" } else { "not set up" }.to_owned(),
        ));
    }
    let (mode, list) = match &domains {
        CollaborationDomains::Any => ("any", String::new()),
        CollaborationDomains::AllowOnly(d) => ("allowOnly", join(d)),
        CollaborationDomains::Deny(d) => ("deny", join(d)),
    };
    page(
        &SignInAdminPage {
            chrome: s.chrome(),
            providers: rows,
            rules: rules
                .iter()
                .map(|r| {
                    let mut needs = Vec::new();
                    if r.require_mfa {
                        needs.push("multi-factor authentication".to_owned());
                    }
                    if !r.allowed_methods.is_empty() {
                        needs.push(format!(
                            "sign-in by {}",
                            r.allowed_methods
                                .iter()
                                .map(|m| m.as_str())
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ));
                    }
                    if let Some(m) = r.max_session {
                        needs.push(format!("sessions of at most {} minutes", m.as_secs() / 60));
                    }
                    let target = match &r.target {
                        RuleTarget::AllExternalUsers => "all external users".to_owned(),
                        RuleTarget::ConnectedOrganizations(o) => {
                            format!("{} connected organizations", o.len())
                        }
                        RuleTarget::AccessPackages(p) => format!("{} access packages", p.len()),
                    };
                    (
                        r.id.to_string(),
                        r.display_name.clone(),
                        target,
                        needs.join(", "),
                    )
                })
                .collect(),
            mode: mode.into(),
            domains: list,
        },
        StatusCode::OK,
    )
}

fn join(d: &BTreeSet<DomainName>) -> String {
    d.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
}

async fn checked_session(
    state: &ApiState,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Result<Session, Response> {
    let s = signed_in(state, headers, "/admin/sign-in").await?;
    match checked(state, headers, &s, &field(fields, "csrf")) {
        Some(refused) => Err(refused),
        None => Ok(s),
    }
}

pub async fn add_provider(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let s = match checked_session(&state, &headers, &fields).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let domains: Vec<String> = field(&fields, "domains")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect();
    let added = state
        .app
        .add_identity_provider(
            &s.caller,
            &field(&fields, "name"),
            ProviderKind::Federation {
                issuer_uri: field(&fields, "issuer"),
            },
            &domains,
            field(&fields, "social") == "on",
        )
        .await;
    let result = match added {
        Ok(p) => {
            state
                .app
                .configure_provider_sign_in(
                    &s.caller,
                    p.id,
                    ProviderClient {
                        client_id: field(&fields, "client_id"),
                        client_secret: field(&fields, "client_secret"),
                        allowed_tenants: vec![],
                    },
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => see_other("/admin/sign-in"),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not registered",
            explain(&e),
        ),
    }
}

pub async fn add_rule(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let s = match checked_session(&state, &headers, &fields).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let minutes = field(&fields, "minutes");
    let max_session = if minutes.is_empty() {
        None
    } else {
        match minutes.parse::<u64>() {
            Ok(m) => Some(std::time::Duration::from_secs(m.saturating_mul(60))),
            Err(_) => {
                return message(
                    s.chrome(),
                    StatusCode::BAD_REQUEST,
                    "Not added",
                    "Minutes are a whole number.".into(),
                );
            }
        }
    };
    let rule = SignInRule {
        id: Uuid::nil(),
        display_name: field(&fields, "name"),
        target: RuleTarget::AllExternalUsers,
        require_mfa: field(&fields, "mfa") == "on",
        allowed_methods: if field(&fields, "federated_only") == "on" {
            [SignInMethod::IdentityProvider].into()
        } else {
            BTreeSet::new()
        },
        max_session,
    };
    match state.app.create_sign_in_rule(&s.caller, rule).await {
        Ok(_) => see_other("/admin/sign-in"),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not added",
            explain(&e),
        ),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn delete_rule(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let fields = vec![("csrf".to_owned(), f.csrf)];
    let s = match checked_session(&state, &headers, &fields).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return see_other("/admin/sign-in");
    };
    match state.app.delete_sign_in_rule(&s.caller, id).await {
        Ok(()) => see_other("/admin/sign-in"),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not deleted",
            explain(&e),
        ),
    }
}

pub async fn set_domains(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let s = match checked_session(&state, &headers, &fields).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let parsed: Result<BTreeSet<DomainName>, _> = field(&fields, "domains")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(DomainName::parse)
        .collect();
    let list = match (field(&fields, "mode").as_str(), parsed) {
        (_, Err(e)) => {
            return message(
                s.chrome(),
                StatusCode::BAD_REQUEST,
                "Not saved",
                e.to_string(),
            );
        }
        ("allowOnly", Ok(d)) => CollaborationDomains::AllowOnly(d),
        ("deny", Ok(d)) => CollaborationDomains::Deny(d),
        _ => CollaborationDomains::Any,
    };
    match state.app.set_collaboration_domains(&s.caller, list).await {
        Ok(()) => see_other("/admin/sign-in"),
        Err(e) => message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not saved",
            explain(&e),
        ),
    }
}
