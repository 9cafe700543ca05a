//! One connected organization in the admin center: its sign-in and state, its name and
//! description, its internal and external sponsors, and its deletion. A refused change shows
//! the page again with the reason next to the form it is about; nothing is changed then.

use super::catalog_admin::status_of;
use super::{CsrfForm, Done, message, posted_form, signed_in};
use crate::{Chrome, Session, explain, page, see_other};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_app::ServiceError;
use consulate_app::connected_orgs::{RefKind, Sponsor};
use consulate_core::DomainError;
use consulate_core::connected_org::{
    ConnectedOrganizationPatch, ConnectedOrganizationState, SponsorKind,
};
use consulate_core::directory::UserType;
use consulate_core::filter::PolicyField;
use consulate_core::policy::{AssignmentPolicy, SubjectSet};
use consulate_core::text::{MAX_DESCRIPTION, MAX_DISPLAY_NAME};
use consulate_store::list::{ListQuery, MAX_PAGE_SIZE};
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

/// One sponsor as listed.
struct SponsorRow {
    id: String,
    name: String,
    /// The user principal name of a user; "group" for a group.
    address: String,
}

/// The sponsors of one kind, with the form that adds one.
struct SponsorSection {
    /// `internal` or `external`: the path segment, the ids of the form's fields.
    key: &'static str,
    heading: &'static str,
    hint: &'static str,
    label: &'static str,
    rows: Vec<SponsorRow>,
    /// The address typed in the add form.
    typed: String,
}

/// An assignment policy that names the organization (and so keeps it from being deleted).
struct Blocker {
    href: String,
    policy: String,
    package: String,
}

#[derive(Template)]
#[template(path = "admin_org.html")]
struct OrgPage {
    chrome: Chrome,
    id: String,
    name: String,
    description: String,
    state: String,
    sources: String,
    /// The name and description in the edit form (what was typed, after a refusal).
    form_name: String,
    form_description: String,
    max_name: usize,
    max_description: usize,
    sponsors: Vec<SponsorSection>,
    /// Why the last change was refused ("" for none).
    error: String,
    /// What the error is about: `name`, `description`, `internal`, `external`, `state`,
    /// `delete` ("" for none).
    invalid: &'static str,
    /// The policies to change before the organization can be deleted.
    blockers: Vec<Blocker>,
}

fn kind_of(segment: &str) -> Option<SponsorKind> {
    match segment {
        "internal" => Some(SponsorKind::Internal),
        "external" => Some(SponsorKind::External),
        _ => None,
    }
}

/// Every sponsor of one kind (page after page).
async fn all_sponsors(
    state: &ApiState,
    s: &Session,
    org: Uuid,
    kind: SponsorKind,
) -> Result<Vec<Sponsor>, ServiceError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..20 {
        let (mut sponsors, next) = state
            .app
            .list_sponsors(&s.caller, org, kind, MAX_PAGE_SIZE, after.as_deref())
            .await?;
        all.append(&mut sponsors);
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok(all)
}

fn section(kind: SponsorKind, sponsors: &[Sponsor]) -> SponsorSection {
    let rows = sponsors
        .iter()
        .map(|s| match s {
            Sponsor::User(u) => SponsorRow {
                id: u.id.to_string(),
                name: u.display_name.clone(),
                address: u.user_principal_name.clone(),
            },
            Sponsor::Group(g) => SponsorRow {
                id: g.id.to_string(),
                name: g.display_name.clone(),
                address: "group".into(),
            },
        })
        .collect();
    match kind {
        SponsorKind::Internal => SponsorSection {
            key: "internal",
            heading: "Internal sponsors",
            hint: "Members of your directory who vouch for the organization; policies can ask them to approve its users' requests.",
            label: "Address of a member here (user principal name or mail)",
            rows,
            typed: String::new(),
        },
        SponsorKind::External => SponsorSection {
            key: "external",
            heading: "External sponsors",
            hint: "Guest users from the partner, already in your directory, who vouch for their colleagues; policies can ask them to approve requests.",
            label: "Address of the partner's guest here (user principal name or mail)",
            rows,
            typed: String::new(),
        },
    }
}

/// The page of one organization as it is stored.
async fn load(state: &ApiState, s: &Session, id: Uuid) -> Result<OrgPage, ServiceError> {
    let o = state.app.get_connected_organization(&s.caller, id).await?;
    let internal = all_sponsors(state, s, id, SponsorKind::Internal).await?;
    let external = all_sponsors(state, s, id, SponsorKind::External).await?;
    Ok(OrgPage {
        chrome: s.chrome(),
        id: o.id.to_string(),
        sources: consulate_app::connected_orgs::describe_sources(&o.identity_sources),
        form_name: o.display_name.clone(),
        form_description: o.description.clone(),
        name: o.display_name,
        description: o.description,
        state: o.state.as_str().into(),
        max_name: MAX_DISPLAY_NAME,
        max_description: MAX_DESCRIPTION,
        sponsors: vec![
            section(SponsorKind::Internal, &internal),
            section(SponsorKind::External, &external),
        ],
        error: String::new(),
        invalid: "",
        blockers: Vec::new(),
    })
}

impl OrgPage {
    fn section_mut(&mut self, kind: SponsorKind) -> &mut SponsorSection {
        let key = kind.as_str();
        self.sponsors
            .iter_mut()
            .find(|s| s.key == key)
            .expect("both kinds are shown")
    }

    /// The page again, saying why nothing was done.
    fn refused(mut self, status: StatusCode, invalid: &'static str, error: String) -> Response {
        self.invalid = invalid;
        self.error = error;
        page(&self, status)
    }
}

/// The page, or (when the organization cannot be read) a message saying why.
async fn load_or_message(
    state: &ApiState,
    s: &Session,
    id: Uuid,
) -> Result<OrgPage, Box<Response>> {
    load(state, s, id).await.map_err(|e| {
        Box::new(message(
            s.chrome(),
            status_of(&e),
            "Connected organization",
            explain(&e),
        ))
    })
}

fn done_notice(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "saved" => "The name and description were saved.",
            "state" => "The state was changed.",
            "internal-added" => "The internal sponsor was added.",
            "internal-removed" => "The internal sponsor was removed.",
            "external-added" => "The external sponsor was added.",
            "external-removed" => "The external sponsor was removed.",
            _ => return None,
        }
        .into(),
    )
}

fn org_path(org: Uuid, done: &str) -> String {
    format!("/admin/organizations/{org}?done={done}")
}

/// One connected organization: its sign-in, name, sponsors, state, and deletion.
pub async fn organization(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    let s = match signed_in(&state, &headers, &format!("/admin/organizations/{id}")).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return see_other("/admin/organizations");
    };
    match load_or_message(&state, &s, id).await {
        Ok(mut p) => {
            p.chrome.notice = done_notice(d.done.as_deref());
            page(&p, StatusCode::OK)
        }
        Err(r) => *r,
    }
}

#[derive(Debug, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

/// Saves the name and description (as `PATCH …/connectedOrganizations/{id}` does).
pub async fn edit_organization(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    let (s, org) = match posted_form(&state, &headers, "/admin/organizations", &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let name = f.name.trim().to_owned();
    let description = f.description.trim().to_owned();
    let (name_length, description_length) = (name.chars().count(), description.chars().count());
    let refusal = if name.is_empty() {
        Some(("name", "Give the organization a name.".to_owned()))
    } else if name_length > MAX_DISPLAY_NAME {
        Some((
            "name",
            format!(
                "The name is {name_length} characters long; at most {MAX_DISPLAY_NAME} are allowed."
            ),
        ))
    } else if description_length > MAX_DESCRIPTION {
        Some((
            "description",
            format!(
                "The description is {description_length} characters long; at most {MAX_DESCRIPTION} are allowed."
            ),
        ))
    } else {
        None
    };
    let refusal = match refusal {
        Some((field, text)) => (StatusCode::BAD_REQUEST, field, text),
        None => {
            let patch = ConnectedOrganizationPatch {
                display_name: Some(name.clone()),
                description: Some(description.clone()),
                ..ConnectedOrganizationPatch::default()
            };
            match state
                .app
                .update_connected_organization(&s.caller, org, patch)
                .await
            {
                Ok(_) => return see_other(&org_path(org, "saved")),
                Err(e) => {
                    let field = match &e {
                        ServiceError::Domain(DomainError::Invalid {
                            target: Some(t), ..
                        }) if t == "description" => "description",
                        _ => "name",
                    };
                    (status_of(&e), field, explain(&e))
                }
            }
        }
    };
    match load_or_message(&state, &s, org).await {
        Ok(mut p) => {
            p.form_name = name;
            p.form_description = description;
            let (status, field, text) = refusal;
            p.refused(status, field, text)
        }
        Err(r) => *r,
    }
}

#[derive(Debug, Deserialize)]
pub struct SponsorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

/// Why the user at `address` cannot be added as a sponsor of this kind, or the user's id.
/// Internal sponsors are members of this directory, external ones the partner's guests
/// here; each is a sponsor once.
async fn sponsor_to_add(
    state: &ApiState,
    p: &OrgPage,
    kind: SponsorKind,
    address: &str,
) -> Result<Uuid, String> {
    if address.is_empty() {
        return Err(match kind {
            SponsorKind::Internal => {
                "Type the user principal name or mail of the member to add as internal sponsor."
            }
            SponsorKind::External => {
                "Type the user principal name or mail of the partner's guest to add as external sponsor."
            }
        }
        .into());
    }
    let user = match state.app.store.find_user(address).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return Err(format!(
                "No user has the address {address} (as user principal name or mail)."
            ));
        }
        Err(e) => return Err(explain(&e.into())),
    };
    let who = format!("{} ({})", user.display_name, user.user_principal_name);
    match (kind, user.user_type) {
        (SponsorKind::Internal, UserType::Guest) => {
            return Err(format!(
                "{who} is a guest; internal sponsors must be members of this directory. Add guests from the partner as external sponsors."
            ));
        }
        (SponsorKind::External, UserType::Member) => {
            return Err(format!(
                "{who} is a member; external sponsors must be guest users from the partner. Add members of this directory as internal sponsors."
            ));
        }
        _ => {}
    }
    let id = user.id.to_string();
    if p.sponsors
        .iter()
        .any(|s| s.key == kind.as_str() && s.rows.iter().any(|r| r.id == id))
    {
        return Err(format!(
            "{who} is already an {} sponsor of {}.",
            kind.as_str(),
            p.name
        ));
    }
    Ok(user.id)
}

/// Adds an internal or external sponsor named by address (as `POST …/{sponsors}/$ref`).
pub async fn add_sponsor(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((id, kind)): Path<(String, String)>,
    Form(f): Form<SponsorForm>,
) -> Response {
    let (s, org) = match posted_form(&state, &headers, "/admin/organizations", &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Some(kind) = kind_of(&kind) else {
        return see_other(&format!("/admin/organizations/{org}"));
    };
    let mut p = match load_or_message(&state, &s, org).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let address = f.address.trim().chars().take(1024).collect::<String>();
    let (status, why) = match sponsor_to_add(&state, &p, kind, &address).await {
        Ok(user) => match state
            .app
            .add_sponsor(&s.caller, org, kind, RefKind::User, user)
            .await
        {
            Ok(()) => return see_other(&org_path(org, &format!("{}-added", kind.as_str()))),
            Err(e) => (status_of(&e), explain(&e)),
        },
        Err(why) => (StatusCode::BAD_REQUEST, why),
    };
    p.section_mut(kind).typed = address;
    p.refused(status, kind.as_str(), why)
}

/// Removes an internal or external sponsor (as `DELETE …/{sponsors}/{id}/$ref`).
pub async fn remove_sponsor(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((id, kind, sponsor)): Path<(String, String, String)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let (s, org) = match posted_form(&state, &headers, "/admin/organizations", &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let (Some(kind), Ok(sponsor)) = (kind_of(&kind), Uuid::parse_str(&sponsor)) else {
        return see_other(&format!("/admin/organizations/{org}"));
    };
    let Err(e) = state
        .app
        .remove_sponsor(&s.caller, org, kind, sponsor)
        .await
    else {
        return see_other(&org_path(org, &format!("{}-removed", kind.as_str())));
    };
    let p = match load_or_message(&state, &s, org).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let why = match &e {
        ServiceError::Domain(DomainError::NotFound { .. }) => format!(
            "That user or group is not an {} sponsor of {}; nothing was removed.",
            kind.as_str(),
            p.name
        ),
        _ => explain(&e),
    };
    p.refused(status_of(&e), kind.as_str(), why)
}

#[derive(Debug, Deserialize)]
pub struct StateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
}

pub async fn organization_state(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<StateForm>,
) -> Response {
    let (s, org) = match posted_form(&state, &headers, "/admin/organizations", &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let patch = ConnectedOrganizationPatch {
        state: ConnectedOrganizationState::parse(&f.state).ok(),
        ..ConnectedOrganizationPatch::default()
    };
    match state
        .app
        .update_connected_organization(&s.caller, org, patch)
        .await
    {
        Ok(_) => see_other(&org_path(org, "state")),
        Err(e) => match load(&state, &s, org).await {
            Ok(p) => p.refused(status_of(&e), "state", explain(&e)),
            Err(_) => message(s.chrome(), status_of(&e), "Not changed", explain(&e)),
        },
    }
}

/// Deletes an organization; when assignment policies still name it, the page says which
/// (with links to them) and the organization stays.
pub async fn delete_organization(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let (s, org) = match posted_form(&state, &headers, "/admin/organizations", &id, &f.csrf).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Err(e) = state
        .app
        .delete_connected_organization(&s.caller, org)
        .await
    else {
        return see_other("/admin/organizations");
    };
    let mut p = match load(&state, &s, org).await {
        Ok(p) => p,
        Err(_) => return message(s.chrome(), status_of(&e), "Not deleted", explain(&e)),
    };
    let why = match &e {
        ServiceError::Domain(DomainError::Conflict { .. }) => {
            let naming = naming_policies(&state, &s, org).await;
            let why = still_named(&p.name, &naming);
            p.blockers = naming.into_iter().map(|(b, _)| b).collect();
            why.unwrap_or_else(|| explain(&e))
        }
        _ => explain(&e),
    };
    p.refused(status_of(&e), "delete", why)
}

/// How a policy names the organization: who its users may be there.
fn roles_in(p: &AssignmentPolicy, org: Uuid) -> Vec<&'static str> {
    let names = |sets: &[SubjectSet]| {
        sets.iter().any(|s| {
            matches!(s, SubjectSet::ConnectedOrganizationMembers {
                connected_organization_id, ..
            } if *connected_organization_id == org)
        })
    };
    let mut roles = Vec::new();
    if names(&p.specific_allowed_targets) {
        roles.push("its users may request access");
    }
    if names(&p.requestor_settings.on_behalf_requestors) {
        roles.push("its users may request for others");
    }
    if p.approval_settings.stages.iter().any(|st| {
        names(&st.primary_approvers)
            || names(&st.fallback_primary_approvers)
            || names(&st.escalation_approvers)
            || names(&st.fallback_escalation_approvers)
    }) {
        roles.push("its users approve requests");
    }
    roles
}

/// The assignment policies that name the organization, each with how it names it.
async fn naming_policies(
    state: &ApiState,
    s: &Session,
    org: Uuid,
) -> Vec<(Blocker, Vec<&'static str>)> {
    let app = &state.app;
    let mut naming = Vec::new();
    let mut query = ListQuery::<PolicyField> {
        top: MAX_PAGE_SIZE,
        ..ListQuery::default()
    };
    for _ in 0..20 {
        let Ok(listed) = app.list_policies(&s.caller, &query).await else {
            break;
        };
        naming.extend(listed.items.into_iter().filter_map(|p| {
            let roles = roles_in(&p, org);
            (!roles.is_empty()).then_some((p, roles))
        }));
        match listed.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    let mut packages: HashMap<Uuid, String> = HashMap::new();
    let mut blockers = Vec::new();
    for (p, roles) in naming {
        let package = match packages.get(&p.access_package_id) {
            Some(name) => name.clone(),
            None => {
                let name = app
                    .get_access_package(&s.caller, p.access_package_id)
                    .await
                    .map(|a| a.display_name)
                    .unwrap_or_else(|_| "an access package".into());
                packages.insert(p.access_package_id, name.clone());
                name
            }
        };
        blockers.push((
            Blocker {
                href: format!("/admin/packages/{}/policies/{}", p.access_package_id, p.id),
                package,
                policy: p.display_name,
            },
            roles,
        ));
    }
    blockers
}

/// Why the organization cannot be deleted, in plain words; `None` when no policy names it
/// (any more).
fn still_named(name: &str, naming: &[(Blocker, Vec<&'static str>)]) -> Option<String> {
    let named = naming
        .iter()
        .map(|(b, roles)| {
            format!(
                "“{}” of the access package “{}” ({})",
                b.policy,
                b.package,
                roles.join(" and ")
            )
        })
        .collect::<Vec<_>>();
    let (policies, verb, those) = match named.len() {
        0 => return None,
        1 => (
            "the assignment policy",
            "names",
            "that policy so that it no longer names",
        ),
        _ => (
            "the assignment policies",
            "name",
            "those policies so that they no longer name",
        ),
    };
    Some(format!(
        "“{name}” was not deleted, because {policies} {} still {verb} it. Change {those} the \
         organization, then delete the organization.",
        named.join("; ")
    ))
}
