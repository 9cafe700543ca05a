//! Graph v1.0 JSON shapes: what clients send and what they get back. camelCase names,
//! `@odata.type` discriminators with the leading `#`, enum members in camelCase.

pub mod access_package;
pub mod application;
pub mod audit;
pub mod catalog;
pub mod connected_org;
pub mod directory;
pub mod policy;
pub mod resource;

use serde::Serialize;
use utoipa::ToSchema;

/// A `$ref` body: `{"@odata.id": "https://…/v1.0/users/{id}"}`.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceBody {
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
}

/// A collection response page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Collection<T> {
    #[serde(rename = "@odata.context", skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(rename = "@odata.count", skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// Formats a timestamp as Graph does: UTC with a `Z`.
pub fn timestamp(t: jiff::Timestamp) -> String {
    t.to_string()
}
