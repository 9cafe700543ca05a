//! Questions asked of requestors (text input and multiple choice) on the wire.

use super::lenient::{guid, lenient_bool, lenient_i32};
use crate::error::ApiError;
use consulate_core::policy::{AnswerChoice, LocalizedText, Question, QuestionKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

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
    pub(super) fn into_domain(self, index: usize) -> Result<Question, ApiError> {
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
