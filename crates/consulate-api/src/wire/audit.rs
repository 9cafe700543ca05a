//! `directoryAudit` on the wire.

use consulate_core::audit::AuditEvent;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryAuditDto {
    pub id: String,
    pub category: String,
    pub correlation_id: Option<String>,
    pub result: String,
    pub result_reason: String,
    pub activity_display_name: String,
    pub activity_date_time: String,
    pub logged_by_service: String,
    pub operation_type: String,
    #[schema(value_type = Object)]
    pub initiated_by: Value,
    #[schema(value_type = Vec<Object>)]
    pub target_resources: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub additional_details: Vec<Value>,
}

impl DirectoryAuditDto {
    pub fn new(sequence: i64, e: &AuditEvent) -> Self {
        let initiated_by = match e.initiated_by.kind.as_str() {
            "user" => {
                json!({ "user": { "id": e.initiated_by.id, "userPrincipalName": e.initiated_by.display_name, "displayName": null }, "app": null })
            }
            "app" => {
                json!({ "app": { "appId": e.initiated_by.id, "displayName": e.initiated_by.display_name, "servicePrincipalId": e.initiated_by.id }, "user": null })
            }
            _ => {
                json!({ "app": { "appId": null, "displayName": e.initiated_by.display_name, "servicePrincipalId": null }, "user": null })
            }
        };
        DirectoryAuditDto {
            id: e.id.to_string(),
            category: e.category.clone(),
            correlation_id: e.correlation_id.clone(),
            result: e.result.clone(),
            result_reason: e.result_reason.clone(),
            activity_display_name: e.activity_display_name.clone(),
            activity_date_time: super::timestamp(e.activity_date_time),
            logged_by_service: "Consulate".into(),
            operation_type: e.operation_type.clone(),
            initiated_by,
            target_resources: e
                .target_resources
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id,
                        "displayName": t.display_name,
                        "type": t.kind,
                        "modifiedProperties": t.modified_properties.iter().map(|p| json!({
                            "displayName": p.display_name,
                            "oldValue": p.old_value.as_ref().map(|v| Value::String(v.clone()).to_string()),
                            "newValue": p.new_value.as_ref().map(|v| Value::String(v.clone()).to_string()),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect(),
            additional_details: vec![json!({ "key": "sequence", "value": sequence.to_string() })],
        }
    }
}
