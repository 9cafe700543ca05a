//! Subject sets (`singleUser`, `groupMembers`, `connectedOrganizationMembers`, sponsors,
//! managers, rule members) on the wire.

use super::lenient::{guid, lenient_i32};
use crate::error::ApiError;
use consulate_core::policy::SubjectSet;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

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

pub(super) fn sets(
    target: &str,
    v: Option<Vec<SubjectSetDto>>,
) -> Result<Vec<SubjectSet>, ApiError> {
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

pub(super) fn sets_json(v: &[SubjectSet]) -> Value {
    Value::Array(v.iter().map(subject_set_json).collect())
}
