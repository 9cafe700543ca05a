//! Assignment policies (`accessPackageAssignmentPolicy`): who may request an access package,
//! who approves, what they are asked, and how long access lasts. The types here are the
//! domain's; the API maps Graph's JSON onto them, and the store keeps them as a document.

use crate::{DomainError, DomainResult, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod validate;
pub use validate::validate;

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

    pub(crate) fn check_max(&self, target: &str, max_days: i64) -> DomainResult<()> {
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
