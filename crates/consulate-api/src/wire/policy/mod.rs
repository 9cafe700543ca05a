//! `accessPackageAssignmentPolicy` and its complex types on the wire. Input is lenient where
//! Graph's own examples are (booleans and integers sent as strings) and strict elsewhere
//! (unknown properties and `@odata.type`s are refused).

pub(crate) mod lenient;
mod question;
mod subject_set;

pub use question::{AnswerChoiceDto, LocalizedTextDto, QuestionDto, question_json};
pub use subject_set::{SubjectSetDto, subject_set_json};

use crate::error::ApiError;
use consulate_core::policy::{
    AllowedTargetScope, ApprovalSettings, ApprovalStage, AssignmentPolicy, Expiration, IsoDuration,
    PolicyDraft, RequestorSettings,
};
pub use lenient::iso_duration;
use lenient::{guid, lenient_bool};
use serde::Deserialize;
use serde_json::{Value, json};
use subject_set::{sets, sets_json};
use utoipa::ToSchema;

/// `expirationPattern`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpirationDto {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub duration: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
}

impl ExpirationDto {
    fn into_domain(self) -> Result<Expiration, ApiError> {
        let kind = self.kind.as_deref().map(str::trim).unwrap_or_else(|| {
            if self.duration.is_some() {
                "afterDuration"
            } else if self.end_date_time.is_some() {
                "afterDateTime"
            } else {
                "notSpecified"
            }
        });
        let bad = |m: &str| ApiError::bad_request(m.to_owned()).with_target("expiration");
        Ok(match kind.to_ascii_lowercase().as_str() {
            "notspecified" => Expiration::NotSpecified,
            "noexpiration" => Expiration::NoExpiration,
            "afterduration" => {
                if self.end_date_time.is_some() {
                    return Err(bad("afterDuration takes a duration, not an endDateTime"));
                }
                let d = self
                    .duration
                    .ok_or_else(|| bad("afterDuration needs a duration, like P365D"))?;
                Expiration::AfterDuration(IsoDuration::parse(
                    "expiration.duration",
                    &iso_duration(&d),
                )?)
            }
            "afterdatetime" => {
                let t = self
                    .end_date_time
                    .ok_or_else(|| bad("afterDateTime needs an endDateTime"))?;
                Expiration::AfterDateTime(t.parse().map_err(|_| {
                    bad("endDateTime is not a date-time with an offset, like 2027-01-01T00:00:00Z")
                })?)
            }
            _ => {
                return Err(bad(
                    "expiration.type is notSpecified, noExpiration, afterDateTime or afterDuration",
                ));
            }
        })
    }
}

fn expiration_json(e: &Expiration) -> Value {
    match e {
        Expiration::NotSpecified => {
            json!({"type": "notSpecified", "duration": null, "endDateTime": null})
        }
        Expiration::NoExpiration => {
            json!({"type": "noExpiration", "duration": null, "endDateTime": null})
        }
        Expiration::AfterDuration(d) => {
            json!({"type": "afterDuration", "duration": d.as_str(), "endDateTime": null})
        }
        Expiration::AfterDateTime(t) => {
            json!({"type": "afterDateTime", "duration": null, "endDateTime": t.to_string()})
        }
    }
}

/// `accessPackageAssignmentRequestorSettings`.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestorSettingsDto {
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enable_targets_to_self_add_access: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enable_targets_to_self_update_access: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enable_targets_to_self_remove_access: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub allow_custom_assignment_schedule: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enable_on_behalf_requestors_to_add_access: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enable_on_behalf_requestors_to_update_access: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub enable_on_behalf_requestors_to_remove_access: Option<bool>,
    #[serde(default)]
    pub on_behalf_requestors: Option<Vec<SubjectSetDto>>,
}

/// `accessPackageApprovalStage`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalStageDto {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub duration_before_automatic_denial: Option<String>,
    #[serde(default)]
    pub duration_before_escalation: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_approver_justification_required: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_escalation_enabled: Option<bool>,
    #[serde(default)]
    pub primary_approvers: Option<Vec<SubjectSetDto>>,
    #[serde(default)]
    pub fallback_primary_approvers: Option<Vec<SubjectSetDto>>,
    #[serde(default)]
    pub escalation_approvers: Option<Vec<SubjectSetDto>>,
    #[serde(default)]
    pub fallback_escalation_approvers: Option<Vec<SubjectSetDto>>,
    #[serde(default)]
    pub approver_information_visibility: Option<String>,
}

/// `accessPackageAssignmentApprovalSettings`.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalSettingsDto {
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_approval_required_for_add: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_approval_required_for_update: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_requestor_justification_required: Option<bool>,
    #[serde(default)]
    pub stages: Option<Vec<ApprovalStageDto>>,
}

/// `{"id": "…"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EntityRef {
    pub id: String,
}

/// `accessPackageNotificationSettings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationSettingsDto {
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_assignment_notification_disabled: Option<bool>,
}

/// The body of a create or a PUT (a full replace).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyBody {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    /// Tolerated so that a policy read with GET can be sent back with PUT.
    #[serde(rename = "@odata.context", default)]
    #[schema(value_type = Option<String>)]
    pub odata_context: Option<Value>,
    #[serde(default)]
    pub id: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allowed_target_scope: Option<String>,
    #[serde(default)]
    pub specific_allowed_targets: Option<Vec<SubjectSetDto>>,
    #[serde(default)]
    pub expiration: Option<ExpirationDto>,
    #[serde(default)]
    pub requestor_settings: Option<RequestorSettingsDto>,
    #[serde(default)]
    pub request_approval_settings: Option<ApprovalSettingsDto>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub review_settings: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub automatic_request_settings: Option<Value>,
    #[serde(default)]
    pub notification_settings: Option<NotificationSettingsDto>,
    #[serde(default)]
    pub questions: Option<Vec<QuestionDto>>,
    pub access_package: EntityRef,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub catalog: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub custom_extension_stage_settings: Option<Vec<Value>>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub modified_date_time: Option<String>,
}

impl PolicyBody {
    pub fn into_draft(self) -> Result<PolicyDraft, ApiError> {
        if let Some(t) = self.odata_type.as_deref()
            && t.trim_start_matches('#') != "microsoft.graph.accessPackageAssignmentPolicy"
        {
            return Err(ApiError::bad_request(format!(
                "@odata.type '{t}' is not microsoft.graph.accessPackageAssignmentPolicy"
            ))
            .with_target("@odata.type"));
        }
        if self
            .custom_extension_stage_settings
            .as_ref()
            .is_some_and(|v| !v.is_empty())
        {
            return Err(ApiError::bad_request(
                "customExtensionStageSettings are not supported yet",
            )
            .with_target("customExtensionStageSettings"));
        }
        for (name, v) in [
            ("reviewSettings", &self.review_settings),
            ("automaticRequestSettings", &self.automatic_request_settings),
        ] {
            if let Some(v) = v
                && !(v.is_object() || v.is_null())
            {
                return Err(
                    ApiError::bad_request(format!("{name} must be an object")).with_target(name)
                );
            }
            if let Some(v) = v
                && v.to_string().len() > 16 * 1024
            {
                return Err(
                    ApiError::bad_request(format!("{name} is larger than 16 KiB"))
                        .with_target(name),
                );
            }
        }
        let rs = self.requestor_settings.unwrap_or_default();
        let ap = self.request_approval_settings.unwrap_or_default();
        let stages = ap
            .stages
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                if let Some(t) = s.odata_type.as_deref() {
                    let t = t.trim_start_matches('#');
                    if t != "microsoft.graph.accessPackageApprovalStage"
                        && t != "microsoft.graph.accessPackageDynamicApprovalStage"
                    {
                        return Err(ApiError::bad_request(format!(
                            "@odata.type '{t}' is not an approval stage"
                        ))
                        .with_target("requestApprovalSettings.stages"));
                    }
                }
                let d = |name: &str, v: Option<String>| -> Result<Option<IsoDuration>, ApiError> {
                    Ok(match v {
                        Some(v) => Some(IsoDuration::parse(
                            &format!("requestApprovalSettings.stages[{i}].{name}"),
                            &iso_duration(&v),
                        )?),
                        None => None,
                    })
                };
                let t = |f: &str| format!("requestApprovalSettings.stages[{i}].{f}");
                Ok(ApprovalStage {
                    duration_before_automatic_denial: d(
                        "durationBeforeAutomaticDenial",
                        s.duration_before_automatic_denial,
                    )?,
                    duration_before_escalation: d(
                        "durationBeforeEscalation",
                        s.duration_before_escalation,
                    )?,
                    is_approver_justification_required: s
                        .is_approver_justification_required
                        .unwrap_or(false),
                    is_escalation_enabled: s.is_escalation_enabled.unwrap_or(false),
                    primary_approvers: sets(&t("primaryApprovers"), s.primary_approvers)?,
                    fallback_primary_approvers: sets(
                        &t("fallbackPrimaryApprovers"),
                        s.fallback_primary_approvers,
                    )?,
                    escalation_approvers: sets(&t("escalationApprovers"), s.escalation_approvers)?,
                    fallback_escalation_approvers: sets(
                        &t("fallbackEscalationApprovers"),
                        s.fallback_escalation_approvers,
                    )?,
                    approver_information_visibility: s
                        .approver_information_visibility
                        .unwrap_or_else(|| "default".into()),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(PolicyDraft {
            access_package_id: guid("accessPackage.id", &self.access_package.id)?,
            display_name: self.display_name,
            description: self.description.unwrap_or_default(),
            allowed_target_scope: match self.allowed_target_scope {
                Some(s) => AllowedTargetScope::parse(&s)?,
                None => AllowedTargetScope::NotSpecified,
            },
            specific_allowed_targets: sets(
                "specificAllowedTargets",
                self.specific_allowed_targets,
            )?,
            expiration: match self.expiration {
                Some(e) => e.into_domain()?,
                None => Expiration::NotSpecified,
            },
            requestor_settings: RequestorSettings {
                enable_targets_to_self_add_access: rs
                    .enable_targets_to_self_add_access
                    .unwrap_or(false),
                enable_targets_to_self_update_access: rs
                    .enable_targets_to_self_update_access
                    .unwrap_or(false),
                enable_targets_to_self_remove_access: rs
                    .enable_targets_to_self_remove_access
                    .unwrap_or(false),
                allow_custom_assignment_schedule: rs
                    .allow_custom_assignment_schedule
                    .unwrap_or(false),
                enable_on_behalf_requestors_to_add_access: rs
                    .enable_on_behalf_requestors_to_add_access
                    .unwrap_or(false),
                enable_on_behalf_requestors_to_update_access: rs
                    .enable_on_behalf_requestors_to_update_access
                    .unwrap_or(false),
                enable_on_behalf_requestors_to_remove_access: rs
                    .enable_on_behalf_requestors_to_remove_access
                    .unwrap_or(false),
                on_behalf_requestors: sets(
                    "requestorSettings.onBehalfRequestors",
                    rs.on_behalf_requestors,
                )?,
            },
            approval_settings: ApprovalSettings {
                is_approval_required_for_add: ap.is_approval_required_for_add.unwrap_or(false),
                is_approval_required_for_update: ap
                    .is_approval_required_for_update
                    .unwrap_or(false),
                is_requestor_justification_required: ap
                    .is_requestor_justification_required
                    .unwrap_or(false),
                stages,
            },
            review_settings: self.review_settings.filter(|v| !v.is_null()),
            automatic_request_settings: self.automatic_request_settings.filter(|v| !v.is_null()),
            is_assignment_notification_disabled: self
                .notification_settings
                .and_then(|n| n.is_assignment_notification_disabled)
                .unwrap_or(false),
            questions: self
                .questions
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, q)| q.into_domain(i))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A policy as returned. `accessPackage` and `catalog` appear when expanded.
pub fn policy_json(p: &AssignmentPolicy) -> Value {
    let rs = &p.requestor_settings;
    let ap = &p.approval_settings;
    json!({
        "id": p.id.to_string(),
        "displayName": p.display_name,
        "description": p.description,
        "allowedTargetScope": p.allowed_target_scope.as_str(),
        "specificAllowedTargets": sets_json(&p.specific_allowed_targets),
        "expiration": expiration_json(&p.expiration),
        "requestorSettings": {
            "enableTargetsToSelfAddAccess": rs.enable_targets_to_self_add_access,
            "enableTargetsToSelfUpdateAccess": rs.enable_targets_to_self_update_access,
            "enableTargetsToSelfRemoveAccess": rs.enable_targets_to_self_remove_access,
            "allowCustomAssignmentSchedule": rs.allow_custom_assignment_schedule,
            "enableOnBehalfRequestorsToAddAccess": rs.enable_on_behalf_requestors_to_add_access,
            "enableOnBehalfRequestorsToUpdateAccess": rs.enable_on_behalf_requestors_to_update_access,
            "enableOnBehalfRequestorsToRemoveAccess": rs.enable_on_behalf_requestors_to_remove_access,
            "onBehalfRequestors": sets_json(&rs.on_behalf_requestors),
        },
        "requestApprovalSettings": {
            "isApprovalRequiredForAdd": ap.is_approval_required_for_add,
            "isApprovalRequiredForUpdate": ap.is_approval_required_for_update,
            "isRequestorJustificationRequired": ap.is_requestor_justification_required,
            "stages": ap.stages.iter().map(|s| json!({
                "durationBeforeAutomaticDenial": s.duration_before_automatic_denial.as_ref().map(IsoDuration::as_str),
                "durationBeforeEscalation": s.duration_before_escalation.as_ref().map(IsoDuration::as_str),
                "isApproverJustificationRequired": s.is_approver_justification_required,
                "isEscalationEnabled": s.is_escalation_enabled,
                "primaryApprovers": sets_json(&s.primary_approvers),
                "fallbackPrimaryApprovers": sets_json(&s.fallback_primary_approvers),
                "escalationApprovers": sets_json(&s.escalation_approvers),
                "fallbackEscalationApprovers": sets_json(&s.fallback_escalation_approvers),
                "approverInformationVisibility": s.approver_information_visibility,
            })).collect::<Vec<_>>(),
        },
        "reviewSettings": p.review_settings,
        "automaticRequestSettings": p.automatic_request_settings,
        "notificationSettings": {"isAssignmentNotificationDisabled": p.is_assignment_notification_disabled},
        "questions": p.questions.iter().map(question_json).collect::<Vec<_>>(),
        "createdDateTime": super::timestamp(p.created_date_time),
        "modifiedDateTime": super::timestamp(p.modified_date_time),
    })
}

pub const PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "allowedTargetScope",
    "specificAllowedTargets",
    "expiration",
    "requestorSettings",
    "requestApprovalSettings",
    "reviewSettings",
    "automaticRequestSettings",
    "notificationSettings",
    "questions",
    "createdDateTime",
    "modifiedDateTime",
    "accessPackage",
    "catalog",
];
