//! The admin center (first pages): connected organizations with their numbers, the add
//! wizard (basics → domain with a live lookup of how its users sign in → sponsors → review),
//! and the reports.

use super::{CsrfForm, checked, message, signed_in};
use crate::{Chrome, Session, explain, page, see_other};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_app::connected_orgs::{NewConnectedOrganization, RefKind};
use consulate_app::identity_providers::DomainLookup;
use consulate_core::connected_org::{IdentitySource, SponsorKind};
use consulate_core::domain_name::DomainName;
use consulate_core::filter::OrganizationField;
use consulate_store::list::ListQuery;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin_home.html")]
struct HomePage {
    chrome: Chrome,
}

struct OrgRow {
    id: String,
    name: String,
    state: String,
    sources: String,
    users: i64,
    assignments: i64,
}

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct OrgsPage {
    chrome: Chrome,
    search: String,
    orgs: Vec<OrgRow>,
}

#[derive(Template)]
#[template(path = "admin_org_new.html")]
struct NewOrgPage {
    chrome: Chrome,
    step: u8,
    name: String,
    description: String,
    domain: String,
    detected: String,
    internal: String,
    external: String,
}

#[derive(Template)]
#[template(path = "admin_reports.html")]
struct ReportsPage {
    chrome: Chrome,
    /// (organization, user, package, approved by, ends)
    rows: Vec<(String, String, String, String, String)>,
}

pub async fn home(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, "/admin").await {
        Ok(s) => page(&HomePage { chrome: s.chrome() }, StatusCode::OK),
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
pub struct Search {
    #[serde(default)]
    search: String,
}

pub async fn organizations(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Search>,
) -> Response {
    let s = match signed_in(&state, &headers, "/admin/organizations").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let search: String = q.search.trim().chars().take(100).collect();
    let query = ListQuery::<OrganizationField> {
        search: (!search.is_empty()).then(|| search.clone()),
        top: 500,
        ..ListQuery::default()
    };
    let listed = state
        .app
        .list_connected_organizations(&s.caller, &query)
        .await;
    let counts = state.app.organization_counts(&s.caller).await;
    match (listed, counts) {
        (Ok(page_of), Ok(counts)) => page(
            &OrgsPage {
                chrome: s.chrome(),
                search,
                orgs: page_of
                    .items
                    .iter()
                    .map(|o| {
                        let (users, assignments) = counts.get(&o.id).copied().unwrap_or((0, 0));
                        OrgRow {
                            id: o.id.to_string(),
                            name: o.display_name.clone(),
                            state: o.state.as_str().into(),
                            sources: consulate_app::connected_orgs::describe_sources(
                                &o.identity_sources,
                            ),
                            users,
                            assignments,
                        }
                    })
                    .collect(),
            },
            StatusCode::OK,
        ),
        (Err(e), _) | (_, Err(e)) => message(
            s.chrome(),
            StatusCode::FORBIDDEN,
            "Connected organizations",
            explain(&e),
        ),
    }
}

pub async fn new_organization(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let s = match signed_in(&state, &headers, "/admin/organizations/new").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    page(
        &NewOrgPage {
            chrome: s.chrome(),
            step: 1,
            name: String::new(),
            description: String::new(),
            domain: String::new(),
            detected: String::new(),
            internal: String::new(),
            external: String::new(),
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct WizardForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: u8,
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    internal: String,
    #[serde(default)]
    external: String,
}

fn describe(lookup: &DomainLookup) -> String {
    match lookup {
        DomainLookup::Tenant { display_name, .. } => {
            format!("users sign in at their own directory ({display_name})")
        }
        DomainLookup::Federation { display_name, .. } => {
            format!("users sign in at their identity provider ({display_name})")
        }
        DomainLookup::Social { display_name, .. } => format!(
            "people sign in at the social provider {display_name} as individuals; no organization can be defined by this domain"
        ),
        DomainLookup::OneTimePasscode => {
            "users sign in with a one-time passcode sent by email".into()
        }
        DomainLookup::ThisTenant => "this is one of your own domains".into(),
    }
}

/// One step of the wizard: checks what the step asked for, then shows the next one.
pub async fn new_organization_step(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Form(f): Form<WizardForm>,
) -> Response {
    let s = match signed_in(&state, &headers, "/admin/organizations/new").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    let mut view = NewOrgPage {
        chrome: s.chrome(),
        step: f.step.clamp(1, 4),
        name: f.name.trim().chars().take(256).collect(),
        description: f.description.trim().chars().take(1024).collect(),
        domain: f.domain.trim().to_lowercase(),
        detected: String::new(),
        internal: f.internal.trim().chars().take(4096).collect(),
        external: f.external.trim().chars().take(4096).collect(),
    };
    let lookup = if view.domain.is_empty() {
        None
    } else {
        match state.app.lookup_domain(&s.caller, &view.domain).await {
            Ok((_, l)) => Some(l),
            Err(e) => {
                view.chrome.error = Some(explain(&e));
                view.step = 2;
                return page(&view, StatusCode::BAD_REQUEST);
            }
        }
    };
    view.detected = lookup.as_ref().map(describe).unwrap_or_default();
    let again = |mut view: NewOrgPage, error: String| {
        view.chrome.error = Some(error);
        page(&view, StatusCode::BAD_REQUEST)
    };
    match (view.step, f.action.as_str()) {
        (1, _) if view.name.is_empty() => again(view, "Give the organization a name.".into()),
        (2, "lookup") => page(&view, StatusCode::OK),
        (2, _) if lookup == Some(DomainLookup::ThisTenant) => again(
            view,
            "That is one of your own domains; partners have their own.".into(),
        ),
        (2, _) if matches!(lookup, Some(DomainLookup::Social { .. })) => again(
            view,
            "That domain belongs to a social provider: its people are individuals, not an organization.".into(),
        ),
        (2, _) if lookup.is_none() => {
            again(view, "Type the domain of the organization's users.".into())
        }
        (4, "create") => create(&state, &s, view).await,
        (step, _) => {
            view.step = (step + 1).min(4);
            page(&view, StatusCode::OK)
        }
    }
}

async fn create(state: &ApiState, s: &Session, view: NewOrgPage) -> Response {
    let domain = match DomainName::parse(&view.domain) {
        Ok(d) => d,
        Err(e) => {
            let mut view = view;
            view.chrome.error = Some(e.to_string());
            view.step = 2;
            return page(&view, StatusCode::BAD_REQUEST);
        }
    };
    let new = NewConnectedOrganization {
        display_name: view.name.clone(),
        description: Some(view.description.clone()),
        identity_sources: vec![IdentitySource::DomainIdentitySource {
            display_name: domain.to_string(),
            domain_name: domain,
        }],
        state: None,
    };
    let org = match state
        .app
        .create_connected_organization(&s.caller, new)
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let mut view = view;
            view.chrome.error = Some(explain(&e));
            return page(&view, StatusCode::BAD_REQUEST);
        }
    };
    let mut problems = Vec::new();
    let sponsors = [
        (SponsorKind::Internal, view.internal.as_str()),
        (SponsorKind::External, view.external.as_str()),
    ];
    let mut wanted: Vec<(SponsorKind, String)> = Vec::new();
    for (kind, list) in sponsors {
        for a in list.split(['\n', ',', ';']) {
            if !a.trim().is_empty() {
                wanted.push((kind, a.trim().to_owned()));
            }
        }
    }
    for (kind, address) in wanted {
        let found = state.app.store.find_user(&address).await.ok().flatten();
        let result = match found {
            Some(u) => {
                state
                    .app
                    .add_sponsor(&s.caller, org.id, kind, RefKind::User, u.id)
                    .await
            }
            None => {
                problems.push(format!("{address}: no such user"));
                continue;
            }
        };
        if let Err(e) = result {
            problems.push(format!("{address}: {}", explain(&e)));
        }
    }
    if problems.is_empty() {
        see_other("/admin/organizations")
    } else {
        message(
            s.chrome(),
            StatusCode::OK,
            "Created, with sponsors left out",
            format!(
                "{} was created. These sponsors were not added: {}",
                org.display_name,
                problems.join("; ")
            ),
        )
    }
}

pub async fn reports(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let s = match signed_in(&state, &headers, "/admin/reports").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match state.app.partner_access_report(&s.caller).await {
        Ok(rows) => page(
            &ReportsPage {
                chrome: s.chrome(),
                rows: rows
                    .into_iter()
                    .take(200)
                    .map(|r| {
                        let ends = r.end.get(..10).unwrap_or("never").to_owned();
                        (
                            r.organization,
                            r.mail,
                            r.access_package,
                            r.approved_by,
                            ends,
                        )
                    })
                    .collect(),
            },
            StatusCode::OK,
        ),
        Err(e) => message(s.chrome(), StatusCode::FORBIDDEN, "Reports", explain(&e)),
    }
}

#[derive(Template)]
#[template(path = "admin_directory.html")]
struct DirectoryPage {
    chrome: Chrome,
    search: String,
    /// (id, name, user principal name, type, sign-in)
    users: Vec<(String, String, String, String, String)>,
    groups: Vec<String>,
}

/// Users (searched by name) and groups.
pub async fn directory(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<Search>,
) -> Response {
    let s = match signed_in(&state, &headers, "/admin/directory").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let search: String = q.search.trim().chars().take(100).collect();
    let users = state
        .app
        .list_users(
            &s.caller,
            &ListQuery {
                search: (!search.is_empty()).then(|| search.clone()),
                top: 200,
                ..ListQuery::default()
            },
        )
        .await;
    let groups = state
        .app
        .list_groups(
            &s.caller,
            &ListQuery {
                top: 200,
                ..ListQuery::default()
            },
        )
        .await;
    match (users, groups) {
        (Ok(u), Ok(g)) => page(
            &DirectoryPage {
                chrome: s.chrome(),
                users: u
                    .items
                    .into_iter()
                    .map(|u| {
                        (
                            u.id.to_string(),
                            u.display_name,
                            u.user_principal_name,
                            u.user_type.as_str().to_owned(),
                            if u.account_enabled {
                                "allowed"
                            } else {
                                "blocked"
                            }
                            .to_owned(),
                        )
                    })
                    .collect(),
                groups: g.items.into_iter().map(|g| g.display_name).collect(),
                search,
            },
            StatusCode::OK,
        ),
        (Err(e), _) | (_, Err(e)) => message(
            s.chrome(),
            StatusCode::FORBIDDEN,
            "Users and groups",
            explain(&e),
        ),
    }
}

/// Ends every session of a user (and the tokens acting for it).
pub async fn revoke_user_sessions(
    State(state): State<ApiState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let s = match signed_in(&state, &headers, "/admin/directory").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(refused) = checked(&state, &headers, &s, &f.csrf) {
        return refused;
    }
    let Ok(user) = uuid::Uuid::parse_str(&id) else {
        return see_other("/admin/directory");
    };
    match state.app.revoke_sign_in_sessions(&s.caller, user).await {
        Ok(_) => see_other("/admin/directory"),
        Err(e) => message(s.chrome(), StatusCode::FORBIDDEN, "Not done", explain(&e)),
    }
}
