//! HTTP routes. Each handler parses its input, calls one application service and maps the
//! result to the Graph wire shape.

pub mod access_packages;
pub mod admin;
pub mod applications;
pub mod approvals;
pub mod audit;
pub mod catalogs;
pub mod connected_orgs;
pub mod groups;
pub mod lifecycle;
pub mod local_sign_in;
pub mod oidc;
pub mod ops;
pub mod personal_tokens;
pub mod policies;
pub mod reports;
pub mod resources;
pub mod role_management;
pub mod sign_in;
pub mod sign_in_rules;
pub mod subjects;
pub mod terms;
pub mod users;

use crate::error::ApiError;
use crate::paging;
use crate::state::ApiState;
use axum::Json;
use consulate_store::list::Page;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// Prefix of the entitlement-management API.
pub const EM: &str = "/v1.0/identityGovernance/entitlementManagement";

/// Parses an object id from the path; a malformed id cannot exist, so it is a 404.
pub fn object_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::not_found(format!(
            "{what} '{}' was not found",
            raw.chars().take(64).collect::<String>()
        ))
    })
}

/// Serialises wire objects to JSON values (for `$select`).
pub fn to_values<T: Serialize>(items: impl IntoIterator<Item = T>) -> Vec<Value> {
    items
        .into_iter()
        .map(|i| serde_json::to_value(i).expect("wire types serialise"))
        .collect()
}

/// A collection page with `@odata.context`, `@odata.count` and an absolute `@odata.nextLink`.
pub fn collection(
    state: &ApiState,
    path: &str,
    context: &str,
    value: Vec<Value>,
    next_token: Option<String>,
    count: Option<i64>,
    pairs: &[(String, String)],
) -> Json<Value> {
    let mut body = json!({ "@odata.context": format!("{}/v1.0/$metadata#{context}", state.public_url), "value": value });
    if let Some(c) = count {
        body["@odata.count"] = json!(c);
    }
    if let Some(t) = next_token {
        body["@odata.nextLink"] = json!(paging::next_link(&state.public_url, path, pairs, &t));
    }
    Json(body)
}

/// Where a collection lives and what it holds: its path (for `@odata.nextLink`), its
/// `@odata.context` and the properties `$select` may name.
pub struct Listing<'a> {
    pub path: &'a str,
    pub context: &'a str,
    pub properties: &'a [&'a str],
}

/// A list page in the collection shape.
pub fn page_response<T, W: Serialize>(
    state: &ApiState,
    listing: &Listing,
    page: &Page<T>,
    to_wire: impl Fn(&T) -> W,
    select: Option<&[String]>,
    pairs: &[(String, String)],
) -> Result<Json<Value>, ApiError> {
    let values = paging::project(
        to_values(page.items.iter().map(to_wire)),
        select,
        listing.properties,
    )?;
    Ok(collection(
        state,
        listing.path,
        listing.context,
        values,
        page.next.as_ref().map(paging::encode_cursor),
        page.count,
        pairs,
    ))
}

/// A single entity with its `@odata.context`.
pub fn entity<W: Serialize>(
    state: &ApiState,
    context: &str,
    w: W,
    select: Option<&[String]>,
    known: &[&str],
) -> Result<Json<Value>, ApiError> {
    let mut v = paging::project(
        vec![serde_json::to_value(w).expect("wire types serialise")],
        select,
        known,
    )?
    .remove(0);
    if let Value::Object(map) = &mut v {
        map.insert(
            "@odata.context".into(),
            json!(format!(
                "{}/v1.0/$metadata#{context}/$entity",
                state.public_url
            )),
        );
    }
    Ok(Json(v))
}

/// The `(collection, id)` a `$ref`'s `@odata.id` points at: the last two path segments of an
/// absolute or relative URL, e.g. `https://graph.microsoft.com/v1.0/users/{id}`.
pub fn parse_reference(
    odata_id: &str,
) -> Result<(consulate_app::connected_orgs::RefKind, Uuid), ApiError> {
    use consulate_app::connected_orgs::RefKind;
    let bad = || {
        ApiError::bad_request(format!("'{}' is not a reference to a user or group, like https://graph.microsoft.com/v1.0/users/{{id}}", odata_id.chars().take(200).collect::<String>())).with_target("@odata.id")
    };
    if odata_id.len() > 2048 {
        return Err(bad());
    }
    let path = odata_id.split(['?', '#']).next().unwrap_or("");
    let mut segs = path.trim_end_matches('/').rsplit('/');
    let (id, coll) = (segs.next().ok_or_else(bad)?, segs.next().ok_or_else(bad)?);
    let kind = match coll.to_ascii_lowercase().as_str() {
        "users" => RefKind::User,
        "groups" => RefKind::Group,
        "directoryobjects" => RefKind::DirectoryObject,
        _ => return Err(bad()),
    };
    let id = id.trim_start_matches("('").trim_end_matches("')");
    Ok((kind, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// The navigation properties `$expand` names, each one of `allowed` (nested options are not
/// supported); anything else is a 400 naming it.
pub fn expansions(
    opts: &consulate_odata::QueryOptions,
    allowed: &[&str],
    entity: &str,
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for item in opts.expand.as_deref().unwrap_or_default() {
        let name = item.path.join("/");
        if !allowed.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "'{name}' cannot be expanded on {entity}{}",
                if allowed.is_empty() {
                    String::new()
                } else {
                    format!("; expandable: {}", allowed.join(", "))
                }
            ))
            .with_target("$expand"));
        }
        out.push(name);
    }
    Ok(out)
}

/// The `text/plain` answer of a `/$count` segment.
pub fn count_response(count: Option<i64>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        count.unwrap_or(0).to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use consulate_app::connected_orgs::RefKind;

    #[test]
    fn references_parse() {
        let id = "0190f1d2-0000-7000-8000-000000000001";
        assert_eq!(
            parse_reference(&format!("https://graph.microsoft.com/v1.0/users/{id}")).unwrap(),
            (RefKind::User, Uuid::parse_str(id).unwrap())
        );
        assert_eq!(
            parse_reference(&format!("/v1.0/groups/{id}")).unwrap().0,
            RefKind::Group
        );
        assert_eq!(
            parse_reference(&format!("http://x/v1.0/directoryObjects/{id}"))
                .unwrap()
                .0,
            RefKind::DirectoryObject
        );
        assert!(parse_reference("https://graph.microsoft.com/v1.0/applications/x").is_err());
        assert!(parse_reference("users/not-a-guid").is_err());
        assert!(parse_reference("").is_err());
    }
}
