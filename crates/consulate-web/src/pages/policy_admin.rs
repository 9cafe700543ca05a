//! Admin center: editing an access package's assignment policy. The form shows the settings
//! admins change most (name, description, whether requests are accepted, approval and the
//! first stage's approver, justification, expiration); saving loads the current policy,
//! changes only those settings and sends the whole policy back through the same service as
//! Graph's `PUT …/assignmentPolicies/{id}`, so everything else (who may request, questions,
//! further stages, custom schedules, …) stays as it was, and a new version is kept.

use super::catalog_admin::status_of;
use super::package_form::{approval_stage, expiration_in_days, single_user, user_named};
use super::{checked, field, message, signed_in};
use crate::{Chrome, Session, explain, page, see_other};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consulate_api::state::ApiState;
use consulate_app::ServiceError;
use consulate_core::DomainError;
use consulate_core::access_package::AccessPackage;
use consulate_core::policy::{
    AllowedTargetScope, AssignmentPolicy, Expiration, MAX_ASSIGNMENT_DAYS, PolicyDraft, SubjectSet,
};
use uuid::Uuid;

/// What the form holds: the policy's settings, or what the admin typed.
#[derive(Debug, Clone, Default)]
struct PolicyForm {
    /// The policy version the form was filled from.
    version: i64,
    name: String,
    description: String,
    accept: bool,
    approval: bool,
    approver: String,
    justification: bool,
    /// `never`, `days` or `keep` (an end the form cannot show, kept as it is).
    expires: String,
    days: String,
}

impl PolicyForm {
    fn typed(fields: &[(String, String)]) -> Self {
        PolicyForm {
            version: field(fields, "version").parse().unwrap_or(-1),
            name: field(fields, "name"),
            description: field(fields, "description"),
            accept: field(fields, "accept") == "on",
            approval: field(fields, "approval") == "on",
            approver: field(fields, "approver"),
            justification: field(fields, "justification") == "on",
            expires: field(fields, "expires"),
            days: field(fields, "days"),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage {
    chrome: Chrome,
    package_id: String,
    package_name: String,
    policy_id: String,
    form: PolicyForm,
    /// The first stage's approvers, described, when they are not one user the form can show.
    approvers_now: String,
    /// The end of assignments, described, when it is neither "never" nor a number of days.
    expiration_now: String,
    /// Whether the policy names who may request (without that, it takes no requests).
    has_requestors: bool,
    /// Settings the form does not change, described.
    kept: Vec<String>,
    max_days: i64,
    /// Why the form was not saved.
    error: String,
    /// The id of the field the error is about ("" for none).
    invalid: &'static str,
}

/// A refusal to save: the message, and the field it is about.
struct Refusal {
    invalid: &'static str,
    text: String,
}

fn refuse(invalid: &'static str, text: impl Into<String>) -> Refusal {
    Refusal {
        invalid,
        text: text.into(),
    }
}

/// The package and its policy (which must be one of the package's).
async fn load(
    state: &ApiState,
    s: &Session,
    package: Uuid,
    policy: Uuid,
) -> Result<(AccessPackage, AssignmentPolicy), ServiceError> {
    let pkg = state.app.get_access_package(&s.caller, package).await?;
    let p = state.app.get_policy(&s.caller, policy).await?;
    if p.access_package_id != pkg.id {
        return Err(DomainError::not_found(
            consulate_core::error::ObjectKind::AssignmentPolicy,
            policy.to_string(),
        )
        .into());
    }
    Ok((pkg, p))
}

/// A user's address as the admin center shows it.
fn address(u: &consulate_core::directory::User) -> String {
    u.mail
        .clone()
        .unwrap_or_else(|| u.user_principal_name.clone())
}

/// The address of the first stage's approver, when that stage has exactly one primary
/// approver and it is a user who exists: the form shows it, and emptying it is a change.
async fn shown_approver(state: &ApiState, p: &AssignmentPolicy) -> Option<String> {
    match p
        .approval_settings
        .stages
        .first()?
        .primary_approvers
        .as_slice()
    {
        [SubjectSet::SingleUser { user_id, .. }] => state
            .app
            .store
            .users_by_ids(&[*user_id])
            .await
            .ok()?
            .first()
            .map(address),
        _ => None,
    }
}

/// The first stage's primary approvers in words ("" when there is no stage).
async fn describe_approvers(state: &ApiState, p: &AssignmentPolicy) -> String {
    let Some(stage) = p.approval_settings.stages.first() else {
        return String::new();
    };
    let mut out = Vec::new();
    for s in &stage.primary_approvers {
        out.push(match s {
            SubjectSet::SingleUser { user_id, .. } => {
                match state.app.store.users_by_ids(&[*user_id]).await {
                    Ok(users) if !users.is_empty() => address(&users[0]),
                    _ => "a user who no longer exists".into(),
                }
            }
            SubjectSet::GroupMembers { group_id, .. } => {
                match state.app.store.group(*group_id).await {
                    Ok(g) => format!("members of the group {}", g.display_name),
                    Err(_) => "members of a group that no longer exists".into(),
                }
            }
            SubjectSet::RequestorManager { .. } => "the requestor's manager".into(),
            SubjectSet::TargetManager { .. } => "the target user's manager".into(),
            SubjectSet::InternalSponsors => "the organization's internal sponsors".into(),
            SubjectSet::ExternalSponsors => "the organization's external sponsors".into(),
            SubjectSet::TargetUserSponsors => "the target user's sponsors".into(),
            other => other.type_name().into(),
        });
    }
    out.join(", ")
}

/// The end of assignments in words, when the form's choices cannot show it ("" otherwise).
fn describe_expiration(e: &Expiration) -> String {
    match e {
        Expiration::NoExpiration => String::new(),
        Expiration::AfterDuration(d) if whole_days(d.as_str()).is_some() => String::new(),
        Expiration::AfterDuration(d) => format!("after {}", d.as_str()),
        Expiration::AfterDateTime(t) => format!("on {}", t.strftime("%Y-%m-%d %H:%M UTC")),
        Expiration::NotSpecified => "not specified".into(),
    }
}

/// `P30D` → 30.
fn whole_days(iso: &str) -> Option<i64> {
    let n = iso.strip_prefix('P')?.strip_suffix('D')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// What the form does not show, so the admin knows it stays.
fn describe_kept(p: &AssignmentPolicy) -> Vec<String> {
    let who = match p.allowed_target_scope {
        AllowedTargetScope::NotSpecified => "nobody (direct assignments only)",
        AllowedTargetScope::SpecificDirectoryUsers => "specific users in your directory",
        AllowedTargetScope::SpecificConnectedOrganizationUsers => {
            "users from specific connected organizations"
        }
        AllowedTargetScope::AllMemberUsers => "members of your directory",
        AllowedTargetScope::AllDirectoryUsers => "all users in your directory, guests too",
        AllowedTargetScope::AllConfiguredConnectedOrganizationUsers => {
            "users from all configured connected organizations"
        }
        AllowedTargetScope::AllExternalUsers => "anyone",
    };
    let stages = p.approval_settings.stages.len();
    let mut kept = vec![
        format!("Who may request: {who}"),
        format!(
            "Questions for requestors: {}",
            match p.questions.len() {
                0 => "none".to_owned(),
                n => n.to_string(),
            }
        ),
        format!(
            "Approval stages: {}",
            match stages {
                0 => "none".to_owned(),
                n => n.to_string(),
            }
        ),
    ];
    if p.requestor_settings.allow_custom_assignment_schedule {
        kept.push("Requestors may choose their own schedule".into());
    }
    if p.approval_settings.is_approval_required_for_update {
        kept.push("Extensions need approval".into());
    }
    kept
}

/// The form filled from the policy.
async fn form_of(state: &ApiState, p: &AssignmentPolicy) -> PolicyForm {
    let (expires, days) = match &p.expiration {
        Expiration::NoExpiration => ("never", String::new()),
        Expiration::AfterDuration(d) => match whole_days(d.as_str()) {
            Some(n) => ("days", n.to_string()),
            None => ("keep", String::new()),
        },
        _ => ("keep", String::new()),
    };
    PolicyForm {
        version: p.version,
        name: p.display_name.clone(),
        description: p.description.clone(),
        accept: p.requestor_settings.enable_targets_to_self_add_access,
        approval: p.approval_settings.is_approval_required_for_add,
        approver: shown_approver(state, p).await.unwrap_or_default(),
        justification: p.approval_settings.is_requestor_justification_required,
        expires: expires.into(),
        days,
    }
}

/// The policy as it is now, as a draft to send back whole.
fn draft_of(p: &AssignmentPolicy) -> PolicyDraft {
    let p = p.clone();
    PolicyDraft {
        access_package_id: p.access_package_id,
        display_name: p.display_name,
        description: p.description,
        allowed_target_scope: p.allowed_target_scope,
        specific_allowed_targets: p.specific_allowed_targets,
        expiration: p.expiration,
        requestor_settings: p.requestor_settings,
        approval_settings: p.approval_settings,
        review_settings: p.review_settings,
        automatic_request_settings: p.automatic_request_settings,
        is_assignment_notification_disabled: p.is_assignment_notification_disabled,
        questions: p.questions,
    }
}

/// The current policy with the form's settings applied; nothing else changes.
async fn apply(
    state: &ApiState,
    current: &AssignmentPolicy,
    form: &PolicyForm,
) -> Result<PolicyDraft, Refusal> {
    if form.version != current.version {
        return Err(refuse(
            "",
            "Someone else changed this policy after you opened the form. Check the settings below and save again to apply them to the current version.",
        ));
    }
    let mut d = draft_of(current);
    if form.name.is_empty() {
        return Err(refuse("name", "Give the policy a name."));
    }
    // Text is compared trimmed, as the form sends it, so that an unchanged field stays
    // exactly as it was.
    if form.name != current.display_name.trim() {
        d.display_name = form.name.clone();
    }
    if form.description != current.description.trim() {
        d.description = form.description.clone();
    }
    if form.accept && current.allowed_target_scope == AllowedTargetScope::NotSpecified {
        return Err(refuse(
            "accept",
            "This policy does not say who may request (it is for direct assignments), so it cannot accept requests.",
        ));
    }
    d.requestor_settings.enable_targets_to_self_add_access = form.accept;
    d.approval_settings.is_requestor_justification_required = form.justification;
    d.expiration = match form.expires.as_str() {
        "never" => Expiration::NoExpiration,
        "days" if form.days.is_empty() => {
            return Err(refuse(
                "days",
                format!(
                    "Give the number of days assignments last (1 to {MAX_ASSIGNMENT_DAYS}), or choose that they never end."
                ),
            ));
        }
        "days" => expiration_in_days(&form.days).map_err(|t| refuse("days", t))?,
        "keep" => current.expiration.clone(),
        _ => return Err(refuse("expires-never", "Choose when assignments end.")),
    };
    let approver = match form.approver.as_str() {
        "" => None,
        a => Some(
            user_named(state, a)
                .await
                .map_err(|t| refuse("approver", t))?,
        ),
    };
    let ap = &mut d.approval_settings;
    ap.is_approval_required_for_add = form.approval;
    if !ap.is_approval_required_for_add && !ap.is_approval_required_for_update {
        // No approval at all: a policy without approval has no stages.
        ap.stages.clear();
        return Ok(d);
    }
    let shown = shown_approver(state, current).await.is_some();
    match (approver, ap.stages.first_mut()) {
        (Some(user), Some(stage)) => {
            let unchanged = matches!(
                stage.primary_approvers.as_slice(),
                [SubjectSet::SingleUser { user_id, .. }] if *user_id == user
            );
            if !unchanged {
                stage.primary_approvers = vec![single_user(user)];
            }
        }
        (Some(user), None) => ap.stages.push(approval_stage(vec![single_user(user)])),
        // Approvers the form cannot show (sponsors, a group, …) stay when the field is left
        // empty.
        (None, Some(_)) if !shown => {}
        (None, _) => {
            return Err(refuse(
                "approver",
                "Requests need approval, so name the approver (a user's address), or untick “Requests need approval”.",
            ));
        }
    }
    Ok(d)
}

/// The form page; with a refusal, the form shows what was typed and why it was not saved.
async fn render(
    state: &ApiState,
    s: &Session,
    pkg: &AccessPackage,
    current: &AssignmentPolicy,
    form: PolicyForm,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Response {
    let Refusal {
        invalid,
        text: error,
    } = refusal.unwrap_or_else(|| refuse("", ""));
    let approvers_now = if shown_approver(state, current).await.is_some() {
        String::new()
    } else {
        describe_approvers(state, current).await
    };
    page(
        &PolicyPage {
            chrome: s.chrome(),
            package_id: pkg.id.to_string(),
            package_name: pkg.display_name.clone(),
            policy_id: current.id.to_string(),
            form,
            approvers_now,
            expiration_now: describe_expiration(&current.expiration),
            has_requestors: current.allowed_target_scope != AllowedTargetScope::NotSpecified,
            kept: describe_kept(current),
            max_days: MAX_ASSIGNMENT_DAYS,
            error,
            invalid,
        },
        status,
    )
}

fn ids(package: &str, policy: &str) -> Option<(Uuid, Uuid)> {
    Some((
        Uuid::parse_str(package).ok()?,
        Uuid::parse_str(policy).ok()?,
    ))
}

/// The form, filled from the current policy.
pub async fn edit_policy(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((id, policy)): Path<(String, String)>,
) -> Response {
    let s = match signed_in(
        &state,
        &headers,
        &format!("/admin/packages/{id}/policies/{policy}"),
    )
    .await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some((package, policy)) = ids(&id, &policy) else {
        return see_other("/admin/catalogs");
    };
    match load(&state, &s, package, policy).await {
        Ok((pkg, p)) => {
            let form = form_of(&state, &p).await;
            render(&state, &s, &pkg, &p, form, None, StatusCode::OK).await
        }
        Err(e) => message(s.chrome(), status_of(&e), "Assignment policy", explain(&e)),
    }
}

/// Saves the form: the current policy with the edited settings, as its next version. Bad
/// input shows the form again with what was typed.
pub async fn save_policy(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((id, policy)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let s = match signed_in(
        &state,
        &headers,
        &format!("/admin/packages/{id}/policies/{policy}"),
    )
    .await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(refused) = checked(&state, &headers, &s, &field(&fields, "csrf")) {
        return refused;
    }
    let Some((package, policy)) = ids(&id, &policy) else {
        return see_other("/admin/catalogs");
    };
    let (pkg, current) = match load(&state, &s, package, policy).await {
        Ok(loaded) => loaded,
        Err(e) => return message(s.chrome(), status_of(&e), "Not saved", explain(&e)),
    };
    let mut form = PolicyForm::typed(&fields);
    let refusal = match apply(&state, &current, &form).await {
        Ok(draft) => match state
            .app
            .save_policy(&s.caller, Some(current.id), draft)
            .await
        {
            Ok(_) => return see_other(&format!("/admin/packages/{package}?done=policy")),
            Err(e) => (status_of(&e), refuse("", explain(&e))),
        },
        Err(r) => {
            let status = if form.version == current.version {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::CONFLICT
            };
            (status, r)
        }
    };
    // Saving again applies the typed settings to the version shown now.
    form.version = current.version;
    let (status, refusal) = refusal;
    render(&state, &s, &pkg, &current, form, Some(refusal), status).await
}
