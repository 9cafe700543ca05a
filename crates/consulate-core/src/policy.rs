//! Assignment policies (`accessPackageAssignmentPolicy`): who may request an access package,
//! who approves, what they are asked, and how long access lasts. The types here are the
//! domain's; the API maps Graph's JSON onto them, and the store keeps them as a document.

use crate::{DomainError, DomainResult, Timestamp, text};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most approval stages a policy may have.
pub const MAX_STAGES: usize = 3;
/// Most questions a policy may ask.
pub const MAX_QUESTIONS: usize = 20;
/// Most choices one multiple-choice question may offer.
pub const MAX_CHOICES: usize = 50;
/// Most subject sets in one list (allowed targets, approvers, …).
pub const MAX_SUBJECT_SETS: usize = 50;
/// Longest an assignment may last when the policy sets a duration.
pub const MAX_ASSIGNMENT_DAYS: i64 = 3650;
/// Longest a request may wait for a stage's decision before it is denied.
pub const MAX_DECISION_DAYS: i64 = 14;

/// An ISO-8601 duration (`P14D`, `PT12H`, `P1Y`), kept as written (normalised) with its
/// length in seconds measured from 2000-01-01 (months and years vary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IsoDuration {
    text: String,
    seconds: i64,
}

impl IsoDuration {
    /// Parses and checks that the duration is not negative.
    pub fn parse(target: &str, s: &str) -> DomainResult<Self> {
        let bad = |why: String| DomainError::invalid(target, why);
        let s = s.trim();
        if s.is_empty() || s.len() > 64 {
            return Err(bad(format!(
                "'{s}' is not an ISO-8601 duration like P14D or PT12H"
            )));
        }
        static ISO: jiff::fmt::temporal::SpanParser = jiff::fmt::temporal::SpanParser::new();
        let span: jiff::Span = ISO.parse_span(s).map_err(|_| {
            bad(format!(
                "'{s}' is not an ISO-8601 duration like P14D or PT12H"
            ))
        })?;
        if span.is_negative() {
            return Err(bad(format!("{target} must not be negative")));
        }
        let seconds = span
            .total((jiff::Unit::Second, jiff::civil::date(2000, 1, 1)))
            .map_err(|e| bad(format!("'{s}' cannot be measured: {e}")))?;
        Ok(IsoDuration {
            text: span.to_string(),
            seconds: seconds as i64,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn seconds(&self) -> i64 {
        self.seconds
    }

    /// The span, for calendar arithmetic (e.g. an assignment's end).
    pub fn span(&self) -> jiff::Span {
        jiff::fmt::temporal::SpanParser::new()
            .parse_span(&self.text)
            .expect("validated on parse")
    }

    fn check_max(&self, target: &str, max_days: i64) -> DomainResult<()> {
        if self.seconds > max_days * 86_400 {
            return Err(DomainError::invalid(
                target,
                format!("{target} is longer than the maximum of {max_days} days"),
            ));
        }
        Ok(())
    }
}

impl TryFrom<String> for IsoDuration {
    type Error = DomainError;
    fn try_from(s: String) -> DomainResult<Self> {
        IsoDuration::parse("duration", &s)
    }
}

impl From<IsoDuration> for String {
    fn from(d: IsoDuration) -> String {
        d.text
    }
}

/// Who may be assigned through a policy (`allowedTargetScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AllowedTargetScope {
    /// No one may request; administrators assign directly.
    NotSpecified,
    SpecificDirectoryUsers,
    SpecificConnectedOrganizationUsers,
    AllMemberUsers,
    AllDirectoryUsers,
    AllConfiguredConnectedOrganizationUsers,
    AllExternalUsers,
}

impl AllowedTargetScope {
    pub const ALL: [AllowedTargetScope; 7] = [
        Self::NotSpecified,
        Self::SpecificDirectoryUsers,
        Self::SpecificConnectedOrganizationUsers,
        Self::AllMemberUsers,
        Self::AllDirectoryUsers,
        Self::AllConfiguredConnectedOrganizationUsers,
        Self::AllExternalUsers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotSpecified => "notSpecified",
            Self::SpecificDirectoryUsers => "specificDirectoryUsers",
            Self::SpecificConnectedOrganizationUsers => "specificConnectedOrganizationUsers",
            Self::AllMemberUsers => "allMemberUsers",
            Self::AllDirectoryUsers => "allDirectoryUsers",
            Self::AllConfiguredConnectedOrganizationUsers => {
                "allConfiguredConnectedOrganizationUsers"
            }
            Self::AllExternalUsers => "allExternalUsers",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        let t = s.trim();
        if let Some(found) = Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(t))
        {
            return Ok(found);
        }
        let unsupported = [
            "specificDirectoryServicePrincipals",
            "allDirectoryServicePrincipals",
            "allDirectoryAgentIdentities",
        ];
        Err(DomainError::invalid(
            "allowedTargetScope",
            if unsupported.iter().any(|u| u.eq_ignore_ascii_case(t)) {
                format!("'{t}' is not supported: access packages here are assigned to users")
            } else {
                format!(
                    "'{t}' is not an allowedTargetScope; use one of {}",
                    Self::ALL.map(|v| v.as_str()).join(", ")
                )
            },
        ))
    }

    /// True for scopes that reach users outside the directory.
    pub fn is_external(self) -> bool {
        matches!(
            self,
            Self::SpecificConnectedOrganizationUsers
                | Self::AllConfiguredConnectedOrganizationUsers
                | Self::AllExternalUsers
        )
    }

    /// True for scopes that list their targets in `specificAllowedTargets`.
    pub fn is_specific(self) -> bool {
        matches!(
            self,
            Self::SpecificDirectoryUsers | Self::SpecificConnectedOrganizationUsers
        )
    }
}

/// A set of users named by a policy (`subjectSet` and its subtypes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubjectSet {
    SingleUser {
        user_id: Uuid,
        description: String,
    },
    GroupMembers {
        group_id: Uuid,
        description: String,
    },
    ConnectedOrganizationMembers {
        connected_organization_id: Uuid,
        description: String,
    },
    /// The requestor's manager (level 1 = direct manager).
    RequestorManager {
        manager_level: i32,
    },
    /// Internal sponsors of the requestor's connected organization.
    InternalSponsors,
    /// External sponsors of the requestor's connected organization.
    ExternalSponsors,
    /// The sponsors of the target user.
    TargetUserSponsors,
    /// The target's manager (levels 1–4).
    TargetManager {
        manager_level: i32,
    },
    /// Users matching a membership rule (automatic assignment policies).
    AttributeRuleMembers {
        membership_rule: String,
        description: String,
    },
}

impl SubjectSet {
    /// The Graph type name (without `#microsoft.graph.`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::SingleUser { .. } => "singleUser",
            Self::GroupMembers { .. } => "groupMembers",
            Self::ConnectedOrganizationMembers { .. } => "connectedOrganizationMembers",
            Self::RequestorManager { .. } => "requestorManager",
            Self::InternalSponsors => "internalSponsors",
            Self::ExternalSponsors => "externalSponsors",
            Self::TargetUserSponsors => "targetUserSponsors",
            Self::TargetManager { .. } => "targetManager",
            Self::AttributeRuleMembers { .. } => "attributeRuleMembers",
        }
    }

    /// Sets resolved from the requestor's context (manager, sponsors) rather than named.
    pub fn is_relative(&self) -> bool {
        matches!(
            self,
            Self::RequestorManager { .. }
                | Self::InternalSponsors
                | Self::ExternalSponsors
                | Self::TargetUserSponsors
                | Self::TargetManager { .. }
        )
    }
}

/// When assignments made under a policy end (`expirationPattern`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiration {
    NotSpecified,
    NoExpiration,
    AfterDateTime(Timestamp),
    AfterDuration(IsoDuration),
}

/// `accessPackageAssignmentRequestorSettings`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestorSettings {
    pub enable_targets_to_self_add_access: bool,
    pub enable_targets_to_self_update_access: bool,
    pub enable_targets_to_self_remove_access: bool,
    pub allow_custom_assignment_schedule: bool,
    pub enable_on_behalf_requestors_to_add_access: bool,
    pub enable_on_behalf_requestors_to_update_access: bool,
    pub enable_on_behalf_requestors_to_remove_access: bool,
    pub on_behalf_requestors: Vec<SubjectSet>,
}

/// One approval stage (`accessPackageApprovalStage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalStage {
    pub duration_before_automatic_denial: Option<IsoDuration>,
    pub duration_before_escalation: Option<IsoDuration>,
    pub is_approver_justification_required: bool,
    pub is_escalation_enabled: bool,
    pub primary_approvers: Vec<SubjectSet>,
    pub fallback_primary_approvers: Vec<SubjectSet>,
    pub escalation_approvers: Vec<SubjectSet>,
    pub fallback_escalation_approvers: Vec<SubjectSet>,
    /// `default`, `notVisible` or `visible`.
    pub approver_information_visibility: String,
}

/// `accessPackageAssignmentApprovalSettings`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApprovalSettings {
    pub is_approval_required_for_add: bool,
    pub is_approval_required_for_update: bool,
    pub is_requestor_justification_required: bool,
    pub stages: Vec<ApprovalStage>,
}

/// A text in one language (`accessPackageLocalizedText`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedText {
    pub language_code: String,
    pub text: String,
}

/// A choice of a multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerChoice {
    pub actual_value: String,
    pub text: String,
    pub localizations: Vec<LocalizedText>,
}

/// What kind of answer a question takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuestionKind {
    Text {
        is_single_line_question: bool,
        regex_pattern: Option<String>,
    },
    MultipleChoice {
        is_multiple_selection_allowed: bool,
        choices: Vec<AnswerChoice>,
    },
}

/// A question asked of requestors (`accessPackageQuestion`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: Uuid,
    pub text: String,
    pub sequence: i32,
    pub is_required: bool,
    pub is_answer_editable: bool,
    pub localizations: Vec<LocalizedText>,
    pub kind: QuestionKind,
}

/// An assignment policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentPolicy {
    pub id: Uuid,
    pub access_package_id: Uuid,
    pub catalog_id: Uuid,
    pub display_name: String,
    pub description: String,
    pub allowed_target_scope: AllowedTargetScope,
    pub specific_allowed_targets: Vec<SubjectSet>,
    pub expiration: Expiration,
    pub requestor_settings: RequestorSettings,
    pub approval_settings: ApprovalSettings,
    /// `reviewSettings` as given (stored; reviews are not run yet).
    pub review_settings: Option<serde_json::Value>,
    /// `automaticRequestSettings` as given (stored; present only on automatic policies).
    pub automatic_request_settings: Option<serde_json::Value>,
    pub is_assignment_notification_disabled: bool,
    pub questions: Vec<Question>,
    pub created_date_time: Timestamp,
    pub modified_date_time: Timestamp,
    /// Bumped by every replace; requests record the version they were made under.
    pub version: i64,
}

impl AssignmentPolicy {
    /// The objects the policy names, for existence checks and references.
    pub fn referenced(&self) -> References {
        let mut r = References::default();
        let mut visit = |s: &SubjectSet| match s {
            SubjectSet::SingleUser { user_id, .. } => r.users.push(*user_id),
            SubjectSet::GroupMembers { group_id, .. } => r.groups.push(*group_id),
            SubjectSet::ConnectedOrganizationMembers {
                connected_organization_id,
                ..
            } => r.connected_organizations.push(*connected_organization_id),
            _ => {}
        };
        self.specific_allowed_targets.iter().for_each(&mut visit);
        self.requestor_settings
            .on_behalf_requestors
            .iter()
            .for_each(&mut visit);
        for st in &self.approval_settings.stages {
            st.primary_approvers
                .iter()
                .chain(&st.fallback_primary_approvers)
                .chain(&st.escalation_approvers)
                .chain(&st.fallback_escalation_approvers)
                .for_each(&mut visit);
        }
        for v in [&mut r.users, &mut r.groups, &mut r.connected_organizations] {
            v.sort_unstable();
            v.dedup();
        }
        r
    }

    /// Whether requestors may ask for access themselves under this policy.
    pub fn accepts_self_requests(&self) -> bool {
        self.allowed_target_scope != AllowedTargetScope::NotSpecified
            && self.requestor_settings.enable_targets_to_self_add_access
            && self.automatic_request_settings.is_none()
    }
}

/// The content of a policy as a client sends it (create, or PUT to replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDraft {
    pub access_package_id: Uuid,
    pub display_name: String,
    pub description: String,
    pub allowed_target_scope: AllowedTargetScope,
    pub specific_allowed_targets: Vec<SubjectSet>,
    pub expiration: Expiration,
    pub requestor_settings: RequestorSettings,
    pub approval_settings: ApprovalSettings,
    pub review_settings: Option<serde_json::Value>,
    pub automatic_request_settings: Option<serde_json::Value>,
    pub is_assignment_notification_disabled: bool,
    pub questions: Vec<Question>,
}

impl PolicyDraft {
    /// The validated policy: a new one (`previous` is `None`) or the next version of
    /// `previous`, which keeps its id, package, catalog and creation time.
    pub fn into_policy(
        self,
        id: Uuid,
        catalog_id: Uuid,
        previous: Option<&AssignmentPolicy>,
        now: Timestamp,
    ) -> DomainResult<AssignmentPolicy> {
        if let Some(prev) = previous
            && prev.access_package_id != self.access_package_id
        {
            return Err(DomainError::invalid(
                "accessPackage",
                "a policy cannot move to another access package",
            ));
        }
        validate(AssignmentPolicy {
            id: previous.map_or(id, |p| p.id),
            access_package_id: self.access_package_id,
            catalog_id: previous.map_or(catalog_id, |p| p.catalog_id),
            display_name: self.display_name,
            description: self.description,
            allowed_target_scope: self.allowed_target_scope,
            specific_allowed_targets: self.specific_allowed_targets,
            expiration: self.expiration,
            requestor_settings: self.requestor_settings,
            approval_settings: self.approval_settings,
            review_settings: self.review_settings,
            automatic_request_settings: self.automatic_request_settings,
            is_assignment_notification_disabled: self.is_assignment_notification_disabled,
            questions: self.questions,
            created_date_time: previous.map_or(now, |p| p.created_date_time),
            modified_date_time: now,
            version: previous.map_or(1, |p| p.version + 1),
        })
    }
}

/// A policy that reaches users outside the directory needs a catalog enabled for them.
pub fn check_catalog_visibility(
    scope: AllowedTargetScope,
    catalog_is_externally_visible: bool,
) -> DomainResult<()> {
    if scope.is_external() && !catalog_is_externally_visible {
        return Err(DomainError::invalid(
            "allowedTargetScope",
            format!(
                "{} reaches users outside the directory, but the access package's catalog is not enabled for external users (isExternallyVisible)",
                scope.as_str()
            ),
        ));
    }
    Ok(())
}

/// Directory objects a policy names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    pub users: Vec<Uuid>,
    pub groups: Vec<Uuid>,
    pub connected_organizations: Vec<Uuid>,
}

fn check_sets(target: &str, sets: &[SubjectSet]) -> DomainResult<()> {
    if sets.len() > MAX_SUBJECT_SETS {
        return Err(DomainError::invalid(
            target,
            format!("at most {MAX_SUBJECT_SETS} entries are allowed in {target}"),
        ));
    }
    for s in sets {
        match s {
            SubjectSet::RequestorManager { manager_level } if *manager_level != 1 => {
                return Err(DomainError::invalid(
                    target,
                    "requestorManager supports managerLevel 1 (the direct manager)",
                ));
            }
            SubjectSet::TargetManager { manager_level } if !(1..=4).contains(manager_level) => {
                return Err(DomainError::invalid(
                    target,
                    "targetManager managerLevel must be 1 to 4",
                ));
            }
            SubjectSet::AttributeRuleMembers {
                membership_rule, ..
            } if membership_rule.trim().is_empty() || membership_rule.len() > 2048 => {
                return Err(DomainError::invalid(
                    target,
                    "attributeRuleMembers needs a membershipRule of at most 2048 characters",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_approvers(target: &str, sets: &[SubjectSet]) -> DomainResult<()> {
    check_sets(target, sets)?;
    if let Some(bad) = sets.iter().find(|s| {
        matches!(
            s,
            SubjectSet::ConnectedOrganizationMembers { .. }
                | SubjectSet::AttributeRuleMembers { .. }
        )
    }) {
        return Err(DomainError::invalid(
            target,
            format!(
                "{} cannot approve; approvers are singleUser, groupMembers, requestorManager, internalSponsors, externalSponsors or targetUserSponsors",
                bad.type_name()
            ),
        ));
    }
    Ok(())
}

fn check_localizations(target: &str, l: &[LocalizedText]) -> DomainResult<()> {
    if l.len() > 50 {
        return Err(DomainError::invalid(
            target,
            "at most 50 localizations are allowed",
        ));
    }
    for t in l {
        let code = t.language_code.trim();
        if code.is_empty()
            || code.len() > 16
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(DomainError::invalid(
                target,
                format!("'{code}' is not a language code like en-US"),
            ));
        }
        text::display_name(target, &t.text)?;
    }
    Ok(())
}

/// Checks a question; its regex pattern, when given, must compile.
fn check_question(q: &Question) -> DomainResult<()> {
    text::display_name("questions.text", &q.text)?;
    check_localizations("questions.localizations", &q.localizations)?;
    match &q.kind {
        QuestionKind::Text { regex_pattern, .. } => {
            if let Some(p) = regex_pattern {
                if p.len() > 512 {
                    return Err(DomainError::invalid(
                        "questions.regexPattern",
                        "regexPattern is longer than 512 characters",
                    ));
                }
                regex_lite::Regex::new(p).map_err(|e| {
                    DomainError::invalid(
                        "questions.regexPattern",
                        format!("regexPattern does not compile: {e}"),
                    )
                })?;
            }
        }
        QuestionKind::MultipleChoice { choices, .. } => {
            if choices.is_empty() || choices.len() > MAX_CHOICES {
                return Err(DomainError::invalid(
                    "questions.choices",
                    format!("a multiple-choice question needs 1 to {MAX_CHOICES} choices"),
                ));
            }
            for (i, c) in choices.iter().enumerate() {
                if c.actual_value.trim().is_empty() || c.actual_value.len() > 256 {
                    return Err(DomainError::invalid(
                        "questions.choices.actualValue",
                        "every choice needs an actualValue of 1 to 256 characters",
                    ));
                }
                if choices[..i]
                    .iter()
                    .any(|o| o.actual_value == c.actual_value)
                {
                    return Err(DomainError::invalid(
                        "questions.choices.actualValue",
                        format!("choice '{}' is listed twice", c.actual_value),
                    ));
                }
                text::display_name("questions.choices.text", &c.text)?;
                check_localizations("questions.choices.localizations", &c.localizations)?;
            }
        }
    }
    Ok(())
}

/// The rules a policy must keep on its own (references to other objects and the catalog's
/// visibility are checked by the service against the store). Normalises text on the way.
pub fn validate(mut p: AssignmentPolicy) -> DomainResult<AssignmentPolicy> {
    p.display_name = text::display_name("displayName", &p.display_name)?;
    p.description = text::description("description", &p.description)?;
    let scope = p.allowed_target_scope;
    check_sets("specificAllowedTargets", &p.specific_allowed_targets)?;
    if scope.is_specific() && p.specific_allowed_targets.is_empty() {
        return Err(DomainError::invalid(
            "specificAllowedTargets",
            format!(
                "{} needs at least one entry in specificAllowedTargets",
                scope.as_str()
            ),
        ));
    }
    if !scope.is_specific() && !p.specific_allowed_targets.is_empty() {
        return Err(DomainError::invalid(
            "specificAllowedTargets",
            format!("{} takes no specificAllowedTargets", scope.as_str()),
        ));
    }
    for t in &p.specific_allowed_targets {
        let ok = match scope {
            AllowedTargetScope::SpecificConnectedOrganizationUsers => {
                matches!(t, SubjectSet::ConnectedOrganizationMembers { .. })
            }
            _ => matches!(
                t,
                SubjectSet::SingleUser { .. }
                    | SubjectSet::GroupMembers { .. }
                    | SubjectSet::AttributeRuleMembers { .. }
            ),
        };
        if !ok {
            return Err(DomainError::invalid(
                "specificAllowedTargets",
                format!("{} is not a target of {}", t.type_name(), scope.as_str()),
            ));
        }
        if matches!(t, SubjectSet::AttributeRuleMembers { .. })
            && p.automatic_request_settings.is_none()
        {
            return Err(DomainError::invalid(
                "specificAllowedTargets",
                "attributeRuleMembers targets are for automatic assignment policies (automaticRequestSettings)",
            ));
        }
    }
    match &p.expiration {
        Expiration::AfterDuration(d) => {
            if d.seconds() <= 0 {
                return Err(DomainError::invalid(
                    "expiration.duration",
                    "the duration must be positive",
                ));
            }
            d.check_max("expiration.duration", MAX_ASSIGNMENT_DAYS)?;
        }
        Expiration::AfterDateTime(t) if *t <= p.modified_date_time => {
            return Err(DomainError::invalid(
                "expiration.endDateTime",
                "endDateTime must be in the future",
            ));
        }
        _ => {}
    }
    let rs = &p.requestor_settings;
    check_sets(
        "requestorSettings.onBehalfRequestors",
        &rs.on_behalf_requestors,
    )?;
    let on_behalf = rs.enable_on_behalf_requestors_to_add_access
        || rs.enable_on_behalf_requestors_to_update_access
        || rs.enable_on_behalf_requestors_to_remove_access;
    if on_behalf && rs.on_behalf_requestors.is_empty() {
        return Err(DomainError::invalid(
            "requestorSettings.onBehalfRequestors",
            "on-behalf requests need at least one onBehalfRequestors entry",
        ));
    }
    if scope == AllowedTargetScope::NotSpecified
        && (rs.enable_targets_to_self_add_access || rs.enable_targets_to_self_update_access)
    {
        return Err(DomainError::invalid(
            "requestorSettings",
            "a policy with allowedTargetScope notSpecified accepts no self requests",
        ));
    }
    let ap = &p.approval_settings;
    if ap.stages.len() > MAX_STAGES {
        return Err(DomainError::invalid(
            "requestApprovalSettings.stages",
            format!("at most {MAX_STAGES} approval stages are allowed"),
        ));
    }
    let needs_stages = ap.is_approval_required_for_add || ap.is_approval_required_for_update;
    if needs_stages && ap.stages.is_empty() {
        return Err(DomainError::invalid(
            "requestApprovalSettings.stages",
            "approval is required but no approval stage is given",
        ));
    }
    if !needs_stages && !ap.stages.is_empty() {
        return Err(DomainError::invalid(
            "requestApprovalSettings.isApprovalRequiredForAdd",
            "approval stages are given but approval is not required",
        ));
    }
    for (i, st) in ap.stages.iter().enumerate() {
        let t = |f: &str| format!("requestApprovalSettings.stages[{i}].{f}");
        check_approvers(&t("primaryApprovers"), &st.primary_approvers)?;
        check_approvers(
            &t("fallbackPrimaryApprovers"),
            &st.fallback_primary_approvers,
        )?;
        check_approvers(&t("escalationApprovers"), &st.escalation_approvers)?;
        check_approvers(
            &t("fallbackEscalationApprovers"),
            &st.fallback_escalation_approvers,
        )?;
        if st.primary_approvers.is_empty() {
            return Err(DomainError::invalid(
                t("primaryApprovers"),
                "every approval stage needs at least one primary approver",
            ));
        }
        // Sponsors of the requestor's organization exist only for connected-organization
        // users; elsewhere the stage must name someone to fall back on.
        let sponsors_only_for_external = st.primary_approvers.iter().any(|s| {
            matches!(
                s,
                SubjectSet::InternalSponsors | SubjectSet::ExternalSponsors
            )
        }) && !scope.is_external();
        if sponsors_only_for_external && st.fallback_primary_approvers.is_empty() {
            return Err(DomainError::invalid(
                t("fallbackPrimaryApprovers"),
                "connected-organization sponsors approve only requests from connected organizations; add fallbackPrimaryApprovers for the others",
            ));
        }
        let deny = match &st.duration_before_automatic_denial {
            Some(d) => {
                if d.seconds() < 3600 {
                    return Err(DomainError::invalid(
                        t("durationBeforeAutomaticDenial"),
                        "durationBeforeAutomaticDenial must be at least one hour",
                    ));
                }
                d.check_max(&t("durationBeforeAutomaticDenial"), MAX_DECISION_DAYS)?;
                d.seconds()
            }
            None => MAX_DECISION_DAYS * 86_400,
        };
        if st.is_escalation_enabled {
            if st.escalation_approvers.is_empty() {
                return Err(DomainError::invalid(
                    t("escalationApprovers"),
                    "escalation is enabled but no escalation approver is given",
                ));
            }
            let esc = st
                .duration_before_escalation
                .as_ref()
                .map_or(0, IsoDuration::seconds);
            if esc <= 0 || esc >= deny {
                return Err(DomainError::invalid(
                    t("durationBeforeEscalation"),
                    "durationBeforeEscalation must be positive and shorter than durationBeforeAutomaticDenial",
                ));
            }
        }
        if !["default", "notVisible", "visible"]
            .contains(&st.approver_information_visibility.as_str())
        {
            return Err(DomainError::invalid(
                t("approverInformationVisibility"),
                "approverInformationVisibility is default, notVisible or visible",
            ));
        }
    }
    if p.questions.len() > MAX_QUESTIONS {
        return Err(DomainError::invalid(
            "questions",
            format!("at most {MAX_QUESTIONS} questions are allowed"),
        ));
    }
    for (i, q) in p.questions.iter().enumerate() {
        check_question(q)?;
        if p.questions[..i].iter().any(|o| o.id == q.id) {
            return Err(DomainError::invalid(
                "questions.id",
                format!("question id {} is listed twice", q.id),
            ));
        }
    }
    p.questions.sort_by_key(|q| q.sequence);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    pub(crate) fn policy(scope: AllowedTargetScope) -> AssignmentPolicy {
        AssignmentPolicy {
            id: Uuid::now_v7(),
            access_package_id: Uuid::now_v7(),
            catalog_id: Uuid::now_v7(),
            display_name: "Partners".into(),
            description: String::new(),
            allowed_target_scope: scope,
            specific_allowed_targets: Vec::new(),
            expiration: Expiration::AfterDuration(IsoDuration::parse("d", "P365D").unwrap()),
            requestor_settings: RequestorSettings {
                enable_targets_to_self_add_access: scope != AllowedTargetScope::NotSpecified,
                ..Default::default()
            },
            approval_settings: ApprovalSettings::default(),
            review_settings: None,
            automatic_request_settings: None,
            is_assignment_notification_disabled: false,
            questions: Vec::new(),
            created_date_time: now(),
            modified_date_time: now(),
            version: 1,
        }
    }

    fn stage(approvers: Vec<SubjectSet>) -> ApprovalStage {
        ApprovalStage {
            duration_before_automatic_denial: Some(IsoDuration::parse("d", "P14D").unwrap()),
            duration_before_escalation: None,
            is_approver_justification_required: false,
            is_escalation_enabled: false,
            primary_approvers: approvers,
            fallback_primary_approvers: Vec::new(),
            escalation_approvers: Vec::new(),
            fallback_escalation_approvers: Vec::new(),
            approver_information_visibility: "default".into(),
        }
    }

    #[test]
    fn durations_parse_and_bound() {
        assert_eq!(
            IsoDuration::parse("d", "P14D").unwrap().seconds(),
            14 * 86_400
        );
        assert!(IsoDuration::parse("d", "-P1D").is_err());
        assert!(IsoDuration::parse("d", "14 days").is_err());
        let mut p = policy(AllowedTargetScope::AllMemberUsers);
        p.expiration = Expiration::AfterDuration(IsoDuration::parse("d", "P3651D").unwrap());
        assert!(validate(p).is_err());
    }

    #[test]
    fn specific_scopes_need_matching_targets() {
        let mut p = policy(AllowedTargetScope::SpecificConnectedOrganizationUsers);
        assert!(validate(p.clone()).is_err());
        p.specific_allowed_targets = vec![SubjectSet::SingleUser {
            user_id: Uuid::nil(),
            description: String::new(),
        }];
        assert!(validate(p.clone()).is_err());
        p.specific_allowed_targets = vec![SubjectSet::ConnectedOrganizationMembers {
            connected_organization_id: Uuid::nil(),
            description: String::new(),
        }];
        let ok = validate(p).unwrap();
        assert_eq!(ok.referenced().connected_organizations, vec![Uuid::nil()]);
        let mut all = policy(AllowedTargetScope::AllExternalUsers);
        all.specific_allowed_targets = vec![SubjectSet::GroupMembers {
            group_id: Uuid::nil(),
            description: String::new(),
        }];
        assert!(validate(all).is_err());
    }

    #[test]
    fn approval_rules() {
        let mut p = policy(AllowedTargetScope::AllConfiguredConnectedOrganizationUsers);
        p.approval_settings.is_approval_required_for_add = true;
        assert!(validate(p.clone()).is_err(), "required without stages");
        p.approval_settings.stages = vec![stage(vec![SubjectSet::InternalSponsors])];
        assert!(validate(p.clone()).is_ok(), "sponsors for external users");
        p.approval_settings.stages = vec![stage(vec![]); 1];
        assert!(validate(p.clone()).is_err(), "no primary approvers");
        p.approval_settings.stages = vec![stage(vec![SubjectSet::InternalSponsors]); 4];
        assert!(validate(p.clone()).is_err(), "four stages");
        // Sponsors for member users need a fallback.
        let mut m = policy(AllowedTargetScope::AllMemberUsers);
        m.approval_settings.is_approval_required_for_add = true;
        m.approval_settings.stages = vec![stage(vec![SubjectSet::ExternalSponsors])];
        assert!(validate(m.clone()).is_err());
        m.approval_settings.stages[0].fallback_primary_approvers = vec![SubjectSet::SingleUser {
            user_id: Uuid::nil(),
            description: String::new(),
        }];
        assert!(validate(m.clone()).is_ok());
        // Escalation must come before automatic denial.
        let st = &mut m.approval_settings.stages[0];
        st.is_escalation_enabled = true;
        st.escalation_approvers = vec![SubjectSet::RequestorManager { manager_level: 1 }];
        st.duration_before_escalation = Some(IsoDuration::parse("d", "P15D").unwrap());
        assert!(validate(m.clone()).is_err());
        m.approval_settings.stages[0].duration_before_escalation =
            Some(IsoDuration::parse("d", "P2D").unwrap());
        assert!(validate(m.clone()).is_ok());
        m.approval_settings.stages[0].duration_before_automatic_denial =
            Some(IsoDuration::parse("d", "P15D").unwrap());
        assert!(validate(m).is_err(), "auto-deny over 14 days");
    }

    #[test]
    fn questions_are_checked_and_ordered() {
        let mut p = policy(AllowedTargetScope::AllMemberUsers);
        let q = |seq: i32, kind: QuestionKind| Question {
            id: Uuid::now_v7(),
            text: "Why?".into(),
            sequence: seq,
            is_required: true,
            is_answer_editable: false,
            localizations: vec![LocalizedText {
                language_code: "fr-FR".into(),
                text: "Pourquoi ?".into(),
            }],
            kind,
        };
        p.questions = vec![
            q(
                2,
                QuestionKind::MultipleChoice {
                    is_multiple_selection_allowed: false,
                    choices: vec![AnswerChoice {
                        actual_value: "eu".into(),
                        text: "Europe".into(),
                        localizations: vec![],
                    }],
                },
            ),
            q(
                1,
                QuestionKind::Text {
                    is_single_line_question: true,
                    regex_pattern: Some("^[A-Z]{3}-\\d+$".into()),
                },
            ),
        ];
        let ok = validate(p.clone()).unwrap();
        assert_eq!(ok.questions[0].sequence, 1);
        p.questions[1].kind = QuestionKind::Text {
            is_single_line_question: true,
            regex_pattern: Some("([".into()),
        };
        assert!(validate(p.clone()).is_err());
        p.questions[1].kind = QuestionKind::MultipleChoice {
            is_multiple_selection_allowed: true,
            choices: vec![],
        };
        assert!(validate(p).is_err());
    }

    #[test]
    fn self_requests_follow_the_flags() {
        let mut p = policy(AllowedTargetScope::AllMemberUsers);
        assert!(p.accepts_self_requests());
        p.requestor_settings.enable_targets_to_self_add_access = false;
        assert!(!p.accepts_self_requests());
        let mut d = policy(AllowedTargetScope::NotSpecified);
        assert!(!d.accepts_self_requests());
        d.requestor_settings.enable_targets_to_self_add_access = true;
        assert!(validate(d).is_err());
    }
}
