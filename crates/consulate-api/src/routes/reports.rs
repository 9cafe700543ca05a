//! `/admin/v1/reports/…`: the auditor's reports as JSON, or as CSV with `?format=csv`.

use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use consulate_app::reports::ReportRow;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
    /// For the expiring report: how many days ahead (default 30).
    #[serde(default)]
    pub days: Option<u32>,
}

const COLUMNS: [&str; 13] = [
    "organization",
    "organizationState",
    "internalSponsors",
    "externalSponsors",
    "user",
    "mail",
    "userPrincipalName",
    "accessPackage",
    "state",
    "start",
    "end",
    "approvedBy",
    "approvedAt",
];

fn fields(r: &ReportRow) -> [&str; 13] {
    [
        &r.organization,
        &r.organization_state,
        &r.internal_sponsors,
        &r.external_sponsors,
        &r.user,
        &r.mail,
        &r.user_principal_name,
        &r.access_package,
        &r.state,
        &r.start,
        &r.end,
        &r.approved_by,
        &r.approved_at,
    ]
}

/// One CSV field: quoted, quotes doubled, and a leading `=`, `+`, `-`, `@`, tab or carriage
/// return defused (a spreadsheet would run it as a formula).
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

fn answer(rows: Vec<ReportRow>, q: &ReportQuery, name: &str) -> ApiResult<Response> {
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(json!({"value": rows.iter().map(|r| {
            let mut o = serde_json::Map::new();
            for (k, v) in COLUMNS.iter().zip(fields(r)) {
                o.insert((*k).to_owned(), json!(v));
            }
            o.insert("assignmentId".into(), json!(r.assignment_id.to_string()));
            serde_json::Value::Object(o)
        }).collect::<Vec<_>>()}))
        .into_response()),
        "csv" => {
            let mut out = COLUMNS.join(",");
            out.push_str("\r\n");
            for r in &rows {
                out.push_str(
                    &fields(r)
                        .iter()
                        .map(|f| csv_field(f))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                out.push_str("\r\n");
            }
            let mut resp = out.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            resp.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\""))
                    .expect("a plain file name"),
            );
            Ok(resp)
        }
        _ => Err(ApiError::bad_request("format is json or csv").with_target("format")),
    }
}

/// Which partners hold what: every active assignment of a guest, with its organization, the
/// organization's sponsors, and who approved it when.
#[utoipa::path(get, path = "/admin/v1/reports/partnerAccess", tag = "reports", params(ReportQuery),
    responses((status = 200), (status = 400), (status = 403)))]
pub async fn partner_access(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let rows = state.app.partner_access_report(&caller).await?;
    answer(rows, &q, "partner-access")
}

/// What ends within `days` days (default 30), soonest first.
#[utoipa::path(get, path = "/admin/v1/reports/expiring", tag = "reports", params(ReportQuery),
    responses((status = 200), (status = 400), (status = 403)))]
pub async fn expiring(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let rows = state
        .app
        .expiring_report(&caller, q.days.unwrap_or(30))
        .await?;
    answer(rows, &q, "expiring")
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(super::csv_field("a \"b\""), "\"a \"\"b\"\"\"");
        assert_eq!(
            super::csv_field("=HYPERLINK(\"x\")"),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(super::csv_field("plain"), "\"plain\"");
    }
}
