//! Admin center: the access package form — resource roles, who may request (with a connected
//! organization added on the spot), approval, requestor information, expiration — checked on a
//! review page, then created with its policy.

use super::catalog_admin::catalog_page;
use super::{field, message, posted_form};
use crate::{Chrome, Session, explain, page, see_other};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_app::access_packages::{RoleSelector, ScopeSelector};
use consulate_app::connected_orgs::NewConnectedOrganization;
use consulate_core::access_package::NewAccessPackage;
use consulate_core::connected_org::IdentitySource;
use consulate_core::domain_name::DomainName;
use consulate_core::policy::{
    AllowedTargetScope, ApprovalSettings, ApprovalStage, Expiration, IsoDuration,
    MAX_ASSIGNMENT_DAYS, PolicyDraft, RequestorSettings, SubjectSet,
};
use uuid::Uuid;

/// The user an address (user principal name or mail) names, for an approver field.
pub(super) async fn user_named(state: &ApiState, address: &str) -> Result<Uuid, String> {
    match state.app.store.find_user(address).await {
        Ok(Some(u)) => Ok(u.id),
        Ok(None) => Err(format!(
            "No user has the address {address} (as user principal name or mail)."
        )),
        Err(e) => Err(explain(&e.into())),
    }
}

/// Assignments that end a number of days after they start: 1 to [`MAX_ASSIGNMENT_DAYS`].
pub(super) fn expiration_in_days(days: &str) -> Result<Expiration, String> {
    let out_of_range = || {
        format!(
            "Assignments can last 1 to {MAX_ASSIGNMENT_DAYS} days; give a whole number of days in that range."
        )
    };
    let days: i64 = days.trim().parse().map_err(|_| out_of_range())?;
    if !(1..=MAX_ASSIGNMENT_DAYS).contains(&days) {
        return Err(out_of_range());
    }
    IsoDuration::parse("expiration", &format!("P{days}D"))
        .map(Expiration::AfterDuration)
        .map_err(|x| x.to_string())
}

/// An approval stage with these primary approvers, and the defaults the admin center uses for
/// everything else.
pub(super) fn approval_stage(approvers: Vec<SubjectSet>) -> ApprovalStage {
    ApprovalStage {
        duration_before_automatic_denial: None,
        duration_before_escalation: None,
        is_approver_justification_required: false,
        is_escalation_enabled: false,
        primary_approvers: approvers,
        fallback_primary_approvers: vec![],
        escalation_approvers: vec![],
        fallback_escalation_approvers: vec![],
        approver_information_visibility: "default".into(),
    }
}

/// One user, as an approver.
pub(super) fn single_user(user_id: Uuid) -> SubjectSet {
    SubjectSet::SingleUser {
        user_id,
        description: String::new(),
    }
}

/// Creates the package with its roles and its policy (and the connected organization typed
/// in, if any), then shows it.
pub async fn create_package(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let (s, catalog) = match posted_form(
        &state,
        &headers,
        "/admin/catalogs",
        &id,
        &field(&fields, "csrf"),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if field(&fields, "action") == "review" {
        return review_package(&state, &s, catalog, &fields).await;
    }
    match build_package(&state, &s, catalog, &fields).await {
        Ok(pkg) => see_other(&format!("/admin/packages/{pkg}")),
        Err(e) => message(s.chrome(), StatusCode::BAD_REQUEST, "Not created", e),
    }
}

#[derive(Template)]
#[template(path = "admin_package_review.html")]
struct PackageReviewPage {
    chrome: Chrome,
    catalog: String,
    name: String,
    /// What was typed, carried to the create step.
    fields: Vec<(String, String)>,
    /// (what, chosen)
    summary: Vec<(String, String)>,
}

/// The review step of the package form: what will be created, in words, before anything is.
async fn review_package(
    state: &ApiState,
    s: &Session,
    catalog: Uuid,
    fields: &[(String, String)],
) -> Response {
    let page_data = match catalog_page(state, s, catalog).await {
        Ok(p) => p,
        Err(e) => return message(s.chrome(), StatusCode::NOT_FOUND, "Catalog", explain(&e)),
    };
    let name = field(fields, "name");
    if name.trim().is_empty() {
        return message(
            s.chrome(),
            StatusCode::BAD_REQUEST,
            "Not ready",
            "Give the access package a name.".into(),
        );
    }
    let or = |v: String, none: &str| {
        if v.trim().is_empty() {
            none.to_owned()
        } else {
            v
        }
    };
    let chosen_roles: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "role")
        .filter_map(|(_, v)| page_data.roles.iter().find(|(id, _)| id == v))
        .map(|(_, n)| n.clone())
        .collect();
    let organization = field(fields, "organization");
    let who = match field(fields, "who").as_str() {
        "organization" => {
            let new_name = field(fields, "new_org_name");
            if new_name.trim().is_empty() {
                let org = page_data
                    .organizations
                    .iter()
                    .find(|(id, _)| *id == organization)
                    .map_or("no organization chosen".to_owned(), |(_, n)| n.clone());
                format!("Users from the connected organization {org}")
            } else {
                format!(
                    "Users from a new connected organization, {new_name} ({}), added on creation",
                    field(fields, "new_org_domain")
                )
            }
        }
        "configured" => "Users from all configured connected organizations".into(),
        "anyone" => "Anyone (a proposed organization is made on approval)".into(),
        _ => "Users in your directory".into(),
    };
    let approval = if field(fields, "sponsors") == "on" {
        "The organization's internal sponsors".to_owned()
    } else {
        or(field(fields, "approver"), "No approval")
    };
    let second = field(fields, "approver2");
    let question = field(fields, "question");
    let days = field(fields, "days");
    let mut summary = vec![
        ("Name".to_owned(), name.clone()),
        (
            "Description".into(),
            or(field(fields, "description"), "none"),
        ),
        (
            "Resource roles".into(),
            if chosen_roles.is_empty() {
                "none".into()
            } else {
                chosen_roles.join("; ")
            },
        ),
        ("Who may request".into(), who),
        ("Approval".into(), approval),
    ];
    if !second.trim().is_empty() {
        summary.push(("Second approval stage".into(), second));
    }
    summary.push((
        "Justification".into(),
        if field(fields, "justification") == "on" {
            "required".into()
        } else {
            "optional".into()
        },
    ));
    if !question.trim().is_empty() {
        let choices = field(fields, "choices");
        summary.push((
            "Question".into(),
            if choices.trim().is_empty() {
                format!("{question} (a text answer)")
            } else {
                format!("{question} (one of: {choices})")
            },
        ));
    }
    summary.push((
        "Assignments end".into(),
        if days.trim().is_empty() {
            "never".into()
        } else {
            format!("after {} days", days.trim())
        },
    ));
    page(
        &PackageReviewPage {
            chrome: s.chrome(),
            catalog: catalog.to_string(),
            name,
            fields: fields
                .iter()
                .filter(|(k, _)| k != "csrf" && k != "action")
                .take(200)
                .cloned()
                .collect(),
            summary,
        },
        StatusCode::OK,
    )
}

async fn build_package(
    state: &ApiState,
    s: &Session,
    catalog: Uuid,
    fields: &[(String, String)],
) -> Result<Uuid, String> {
    let app = &state.app;
    let e = |e: consulate_app::ServiceError| explain(&e);
    // The roles are checked before anything is written.
    let roles: Vec<Uuid> = fields
        .iter()
        .filter(|(k, _)| k == "role")
        .take(50)
        .map(|(_, v)| Uuid::parse_str(v).map_err(|_| "an unknown role".to_owned()))
        .collect::<Result<_, _>>()?;
    // Who may request: decided (and an organization typed in created) before anything else.
    let who = field(fields, "who");
    let mut organization = Uuid::parse_str(&field(fields, "organization")).ok();
    let (new_name, new_domain) = (
        field(fields, "new_org_name"),
        field(fields, "new_org_domain"),
    );
    if who == "organization" && !new_name.is_empty() {
        let domain = DomainName::parse(&new_domain).map_err(|x| x.to_string())?;
        let org = app
            .create_connected_organization(
                &s.caller,
                NewConnectedOrganization {
                    display_name: new_name,
                    description: None,
                    identity_sources: vec![IdentitySource::DomainIdentitySource {
                        display_name: domain.to_string(),
                        domain_name: domain,
                    }],
                    state: None,
                },
            )
            .await
            .map_err(e)?;
        organization = Some(org.id);
    }
    let (scope, targets) = match who.as_str() {
        "organization" => {
            let org = organization.ok_or("Choose a connected organization, or add one.")?;
            (
                AllowedTargetScope::SpecificConnectedOrganizationUsers,
                vec![SubjectSet::ConnectedOrganizationMembers {
                    connected_organization_id: org,
                    description: String::new(),
                }],
            )
        }
        "configured" => (
            AllowedTargetScope::AllConfiguredConnectedOrganizationUsers,
            vec![],
        ),
        "anyone" => (AllowedTargetScope::AllExternalUsers, vec![]),
        _ => (AllowedTargetScope::AllMemberUsers, vec![]),
    };
    let approver = field(fields, "approver");
    let primary = if field(fields, "sponsors") == "on" {
        vec![SubjectSet::InternalSponsors]
    } else if approver.is_empty() {
        vec![]
    } else {
        vec![single_user(user_named(state, &approver).await?)]
    };
    let second = match field(fields, "approver2").as_str() {
        "" => None,
        a => Some(user_named(state, a).await?),
    };
    if second.is_some() && primary.is_empty() {
        return Err("A second stage needs a first one.".into());
    }
    let question = field(fields, "question");
    let questions = if question.is_empty() {
        vec![]
    } else {
        let choices: Vec<String> = field(fields, "choices")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        vec![consulate_core::policy::Question {
            id: app.ids.new_id(),
            text: question,
            sequence: 1,
            is_required: true,
            is_answer_editable: false,
            localizations: vec![],
            kind: if choices.is_empty() {
                consulate_core::policy::QuestionKind::Text {
                    is_single_line_question: true,
                    regex_pattern: None,
                }
            } else {
                consulate_core::policy::QuestionKind::MultipleChoice {
                    is_multiple_selection_allowed: false,
                    choices: choices
                        .into_iter()
                        .map(|c| consulate_core::policy::AnswerChoice {
                            actual_value: c.to_lowercase(),
                            text: c,
                            localizations: vec![],
                        })
                        .collect(),
                }
            },
        }]
    };
    let expiration = match field(fields, "days").as_str() {
        "" => Expiration::NoExpiration,
        d => expiration_in_days(d)?,
    };
    let package = app
        .create_access_package(
            &s.caller,
            NewAccessPackage {
                catalog_id: catalog,
                display_name: field(fields, "name"),
                description: Some(field(fields, "description")),
                is_hidden: None,
            },
        )
        .await
        .map_err(e)?;
    for role in roles {
        app.add_role_scope(
            &s.caller,
            package.id,
            RoleSelector::Id(role),
            ScopeSelector::Root,
        )
        .await
        .map_err(e)?;
    }
    let approval = !primary.is_empty();
    let draft = PolicyDraft {
        access_package_id: package.id,
        display_name: format!("{} request policy", package.display_name),
        description: String::new(),
        allowed_target_scope: scope,
        specific_allowed_targets: targets,
        expiration,
        requestor_settings: RequestorSettings {
            enable_targets_to_self_add_access: true,
            enable_targets_to_self_remove_access: true,
            ..RequestorSettings::default()
        },
        approval_settings: ApprovalSettings {
            is_approval_required_for_add: approval,
            is_approval_required_for_update: false,
            is_requestor_justification_required: field(fields, "justification") == "on",
            stages: [Some(primary), second.map(|u| vec![single_user(u)])]
                .into_iter()
                .flatten()
                .filter(|approvers| !approvers.is_empty())
                .map(approval_stage)
                .collect(),
        },
        review_settings: None,
        automatic_request_settings: None,
        is_assignment_notification_disabled: false,
        questions,
    };
    app.save_policy(&s.caller, None, draft).await.map_err(e)?;
    Ok(package.id)
}
