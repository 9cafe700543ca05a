//! `accessPackageAssignmentPolicy` and its complex types on the wire. Input is lenient where
//! Graph's own examples are (booleans and integers sent as strings) and strict elsewhere
//! (unknown properties and `@odata.type`s are refused).

use crate::error::ApiError;
use consulate_core::policy::{
    AllowedTargetScope, AnswerChoice, ApprovalSettings, ApprovalStage, AssignmentPolicy,
    Expiration, IsoDuration, LocalizedText, PolicyDraft, Question, QuestionKind, RequestorSettings,
    SubjectSet,
};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

/// A Boolean, also when sent as `"true"`/`"false"`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(de::Error::custom(format!(
            "expected a Boolean, got {other}"
        ))),
    }
}

/// An integer, also when sent as a string.
fn lenient_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected an integer, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, got \"{s}\""))),
        Some(other) => Err(de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

/// A duration as ISO-8601. Also accepts Python's `str(timedelta)` (`7 days, 0:00:00`), which is
/// what msgraph-sdk's JSON writer sends for a `timedelta`; anything else is passed on as given
/// (and refused, if it is not ISO-8601, where it is parsed).
pub(crate) fn iso_duration(s: &str) -> String {
    let t = s.trim();
    let (days, clock) = match t.split_once(", ") {
        Some((d, c)) => (Some(d), c),
        None => (None, t),
    };
    let days: Option<u64> = match days {
        None => Some(0),
        Some(d) => d
            .strip_suffix(" days")
            .or_else(|| d.strip_suffix(" day"))
            .and_then(|n| n.parse().ok()),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let [h, m, sec] = parts.as_slice() else {
        return t.to_owned();
    };
    match (days, h.parse::<u64>(), m.parse::<u64>(), sec.parse::<f64>()) {
        (Some(days), Ok(h), Ok(m), Ok(v)) if m.to_string().len() <= 2 && v >= 0.0 => {
            // Seconds as Python wrote them, without padding: 04.500000 → 4.5, 10 → 10.
            let whole = v.trunc() as u64;
            let frac = sec
                .split_once('.')
                .map(|(_, f)| f.trim_end_matches('0'))
                .filter(|f| !f.is_empty());
            let sec = match frac {
                Some(f) => format!("{whole}.{f}"),
                None => whole.to_string(),
            };
            format!("P{days}DT{h}H{m}M{sec}S")
        }
        _ => t.to_owned(),
    }
}

fn guid(target: &str, s: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s.trim()).map_err(|_| {
        ApiError::bad_request(format!(
            "{target} '{}' is not a GUID",
            s.chars().take(64).collect::<String>()
        ))
        .with_target(target.to_owned())
    })
}

/// A subject set; the `@odata.type` selects the kind.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "@odata.type")]
pub enum SubjectSetDto {
    #[serde(
        rename = "#microsoft.graph.singleUser",
        alias = "microsoft.graph.singleUser",
        rename_all = "camelCase"
    )]
    SingleUser {
        user_id: String,
        #[serde(default)]
        description: Option<String>,
    },
    #[serde(
        rename = "#microsoft.graph.groupMembers",
        alias = "microsoft.graph.groupMembers",
        rename_all = "camelCase"
    )]
    GroupMembers {
        group_id: String,
        #[serde(default)]
        description: Option<String>,
    },
    #[serde(
        rename = "#microsoft.graph.connectedOrganizationMembers",
        alias = "microsoft.graph.connectedOrganizationMembers",
        rename_all = "camelCase"
    )]
    ConnectedOrganizationMembers {
        #[serde(alias = "id")]
        connected_organization_id: String,
        #[serde(default)]
        description: Option<String>,
    },
    #[serde(
        rename = "#microsoft.graph.requestorManager",
        alias = "microsoft.graph.requestorManager",
        rename_all = "camelCase"
    )]
    RequestorManager {
        #[serde(default, deserialize_with = "lenient_i32")]
        manager_level: Option<i32>,
    },
    #[serde(
        rename = "#microsoft.graph.internalSponsors",
        alias = "microsoft.graph.internalSponsors"
    )]
    InternalSponsors {},
    #[serde(
        rename = "#microsoft.graph.externalSponsors",
        alias = "microsoft.graph.externalSponsors"
    )]
    ExternalSponsors {},
    #[serde(
        rename = "#microsoft.graph.targetUserSponsors",
        alias = "microsoft.graph.targetUserSponsors"
    )]
    TargetUserSponsors {},
    #[serde(
        rename = "#microsoft.graph.targetManager",
        alias = "microsoft.graph.targetManager",
        rename_all = "camelCase"
    )]
    TargetManager {
        #[serde(default, deserialize_with = "lenient_i32")]
        manager_level: Option<i32>,
    },
    #[serde(
        rename = "#microsoft.graph.attributeRuleMembers",
        alias = "microsoft.graph.attributeRuleMembers",
        rename_all = "camelCase"
    )]
    AttributeRuleMembers {
        membership_rule: String,
        #[serde(default)]
        description: Option<String>,
    },
}

impl SubjectSetDto {
    fn into_domain(self, target: &str) -> Result<SubjectSet, ApiError> {
        Ok(match self {
            Self::SingleUser {
                user_id,
                description,
            } => SubjectSet::SingleUser {
                user_id: guid(&format!("{target}.userId"), &user_id)?,
                description: description.unwrap_or_default(),
            },
            Self::GroupMembers {
                group_id,
                description,
            } => SubjectSet::GroupMembers {
                group_id: guid(&format!("{target}.groupId"), &group_id)?,
                description: description.unwrap_or_default(),
            },
            Self::ConnectedOrganizationMembers {
                connected_organization_id,
                description,
            } => SubjectSet::ConnectedOrganizationMembers {
                connected_organization_id: guid(
                    &format!("{target}.connectedOrganizationId"),
                    &connected_organization_id,
                )?,
                description: description.unwrap_or_default(),
            },
            Self::RequestorManager { manager_level } => SubjectSet::RequestorManager {
                manager_level: manager_level.unwrap_or(1),
            },
            Self::InternalSponsors {} => SubjectSet::InternalSponsors,
            Self::ExternalSponsors {} => SubjectSet::ExternalSponsors,
            Self::TargetUserSponsors {} => SubjectSet::TargetUserSponsors,
            Self::TargetManager { manager_level } => SubjectSet::TargetManager {
                manager_level: manager_level.unwrap_or(1),
            },
            Self::AttributeRuleMembers {
                membership_rule,
                description,
            } => SubjectSet::AttributeRuleMembers {
                membership_rule,
                description: description.unwrap_or_default(),
            },
        })
    }
}

fn sets(target: &str, v: Option<Vec<SubjectSetDto>>) -> Result<Vec<SubjectSet>, ApiError> {
    v.unwrap_or_default()
        .into_iter()
        .map(|s| s.into_domain(target))
        .collect()
}

/// A subject set as returned.
pub fn subject_set_json(s: &SubjectSet) -> Value {
    let t = format!("#microsoft.graph.{}", s.type_name());
    match s {
        SubjectSet::SingleUser {
            user_id,
            description,
        } => {
            json!({"@odata.type": t, "userId": user_id.to_string(), "description": description})
        }
        SubjectSet::GroupMembers {
            group_id,
            description,
        } => {
            json!({"@odata.type": t, "groupId": group_id.to_string(), "description": description})
        }
        SubjectSet::ConnectedOrganizationMembers {
            connected_organization_id,
            description,
        } => {
            json!({"@odata.type": t, "connectedOrganizationId": connected_organization_id.to_string(), "description": description})
        }
        SubjectSet::RequestorManager { manager_level }
        | SubjectSet::TargetManager { manager_level } => {
            json!({"@odata.type": t, "managerLevel": manager_level})
        }
        SubjectSet::AttributeRuleMembers {
            membership_rule,
            description,
        } => {
            json!({"@odata.type": t, "membershipRule": membership_rule, "description": description})
        }
        SubjectSet::InternalSponsors
        | SubjectSet::ExternalSponsors
        | SubjectSet::TargetUserSponsors => {
            json!({"@odata.type": t})
        }
    }
}

fn sets_json(v: &[SubjectSet]) -> Value {
    Value::Array(v.iter().map(subject_set_json).collect())
}

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

/// `accessPackageLocalizedText`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalizedTextDto {
    pub language_code: String,
    pub text: String,
}

/// `accessPackageAnswerChoice`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnswerChoiceDto {
    pub actual_value: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub display_value: Option<String>,
    #[serde(default)]
    pub localizations: Option<Vec<LocalizedTextDto>>,
}

/// A question; `@odata.type` is `…accessPackageTextInputQuestion` or
/// `…accessPackageMultipleChoiceQuestion`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuestionDto {
    #[serde(rename = "@odata.type")]
    pub odata_type: String,
    #[serde(default)]
    pub id: Option<String>,
    pub text: String,
    #[serde(default, deserialize_with = "lenient_i32")]
    pub sequence: Option<i32>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_required: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_answer_editable: Option<bool>,
    #[serde(default)]
    pub localizations: Option<Vec<LocalizedTextDto>>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_single_line_question: Option<bool>,
    #[serde(default)]
    pub regex_pattern: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_multiple_selection_allowed: Option<bool>,
    #[serde(default)]
    pub choices: Option<Vec<AnswerChoiceDto>>,
}

fn texts(v: Option<Vec<LocalizedTextDto>>) -> Vec<LocalizedText> {
    v.unwrap_or_default()
        .into_iter()
        .map(|l| LocalizedText {
            language_code: l.language_code,
            text: l.text,
        })
        .collect()
}

impl QuestionDto {
    fn into_domain(self, index: usize) -> Result<Question, ApiError> {
        let t = self.odata_type.trim_start_matches('#');
        let kind = match t {
            "microsoft.graph.accessPackageTextInputQuestion" => {
                if self.choices.is_some() {
                    return Err(
                        ApiError::bad_request("a text input question has no choices")
                            .with_target("questions.choices"),
                    );
                }
                QuestionKind::Text {
                    is_single_line_question: self.is_single_line_question.unwrap_or(true),
                    regex_pattern: self.regex_pattern.filter(|p| !p.is_empty()),
                }
            }
            "microsoft.graph.accessPackageMultipleChoiceQuestion" => QuestionKind::MultipleChoice {
                is_multiple_selection_allowed: self.is_multiple_selection_allowed.unwrap_or(false),
                choices: self
                    .choices
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| AnswerChoice {
                        text: c
                            .text
                            .or(c.display_value)
                            .unwrap_or_else(|| c.actual_value.clone()),
                        actual_value: c.actual_value,
                        localizations: texts(c.localizations),
                    })
                    .collect(),
            },
            other => {
                return Err(ApiError::bad_request(format!(
                    "@odata.type '{other}' is not a question type; use #microsoft.graph.accessPackageTextInputQuestion or #microsoft.graph.accessPackageMultipleChoiceQuestion"
                ))
                .with_target("questions.@odata.type"));
            }
        };
        Ok(Question {
            id: match self.id {
                Some(id) => guid("questions.id", &id)?,
                None => Uuid::now_v7(),
            },
            text: self.text,
            sequence: self.sequence.unwrap_or(index as i32 + 1),
            is_required: self.is_required.unwrap_or(false),
            is_answer_editable: self.is_answer_editable.unwrap_or(false),
            localizations: texts(self.localizations),
            kind,
        })
    }
}

fn localized_json(v: &[LocalizedText]) -> Value {
    Value::Array(
        v.iter()
            .map(|l| json!({"languageCode": l.language_code, "text": l.text}))
            .collect(),
    )
}

/// A question as returned.
pub fn question_json(q: &Question) -> Value {
    let mut v = json!({
        "id": q.id.to_string(),
        "text": q.text,
        "sequence": q.sequence,
        "isRequired": q.is_required,
        "isAnswerEditable": q.is_answer_editable,
        "localizations": localized_json(&q.localizations),
    });
    match &q.kind {
        QuestionKind::Text {
            is_single_line_question,
            regex_pattern,
        } => {
            v["@odata.type"] = json!("#microsoft.graph.accessPackageTextInputQuestion");
            v["isSingleLineQuestion"] = json!(is_single_line_question);
            v["regexPattern"] = json!(regex_pattern);
        }
        QuestionKind::MultipleChoice {
            is_multiple_selection_allowed,
            choices,
        } => {
            v["@odata.type"] = json!("#microsoft.graph.accessPackageMultipleChoiceQuestion");
            v["isMultipleSelectionAllowed"] = json!(is_multiple_selection_allowed);
            v["choices"] = Value::Array(
                choices
                    .iter()
                    .map(|c| json!({"actualValue": c.actual_value, "text": c.text, "localizations": localized_json(&c.localizations)}))
                    .collect(),
            );
        }
    }
    v
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

#[cfg(test)]
mod tests {
    use super::iso_duration;

    #[test]
    fn python_timedeltas_become_iso() {
        assert_eq!(iso_duration("P365D"), "P365D");
        assert_eq!(iso_duration("365 days, 0:00:00"), "P365DT0H0M0S");
        assert_eq!(iso_duration("1 day, 2:03:04.500000"), "P1DT2H3M4.5S");
        assert_eq!(iso_duration("12:30:00"), "P0DT12H30M0S");
        assert_eq!(iso_duration("0:00:10"), "P0DT0H0M10S");
        assert_eq!(iso_duration("-1 day, 23:00:00"), "-1 day, 23:00:00");
        assert_eq!(iso_duration("fourteen days"), "fourteen days");
    }
}
