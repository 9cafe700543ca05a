//! `/v1.0/auditLogs/directoryAudits`: the audit trail, newest first.

use super::{collection, entity, to_values};
use crate::bind::{self, Audits};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, OData};
use crate::paging::{self, DEFAULT_PAGE_SIZE};
use crate::state::ApiState;
use crate::wire::audit::DirectoryAuditDto;
use axum::Json;
use axum::extract::{Path, State};
use base64::Engine as _;
use serde_json::Value;

const PROPERTIES: &[&str] = &[
    "id",
    "category",
    "correlationId",
    "result",
    "resultReason",
    "activityDisplayName",
    "activityDateTime",
    "loggedByService",
    "operationType",
    "initiatedBy",
    "targetResources",
    "additionalDetails",
];

fn decode_before(token: &str) -> Result<i64, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "The $skiptoken is not valid; use the @odata.nextLink exactly as returned.",
        )
        .with_target("$skiptoken")
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    String::from_utf8(raw)
        .ok()
        .and_then(|s| s.strip_prefix("a1:").and_then(|n| n.parse().ok()))
        .ok_or_else(bad)
}

/// List audit events (newest first). `$filter` on activityDateTime, category,
/// activityDisplayName, result, initiatedBy/user/id, initiatedBy/app/appId, and
/// targetResources/any(t: t/id eq '…').
#[utoipa::path(get, path = "/v1.0/auditLogs/directoryAudits", tag = "auditLogs",
    params(("$filter" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<DirectoryAuditDto>)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let filter = opts.filter.as_ref().map(bind::bind::<Audits>).transpose()?;
    if opts.orderby.is_some() {
        return Err(
            ApiError::bad_request("directoryAudits are always ordered newest first")
                .with_target("$orderby"),
        );
    }
    let before = opts.skiptoken.as_deref().map(decode_before).transpose()?;
    let page = state
        .app
        .list_audit_events(
            &caller,
            filter.as_ref(),
            opts.top.unwrap_or(DEFAULT_PAGE_SIZE),
            before,
        )
        .await?;
    let values = paging::project(
        to_values(
            page.events
                .iter()
                .map(|(seq, e)| DirectoryAuditDto::new(*seq, e)),
        ),
        opts.select.as_deref(),
        PROPERTIES,
    )?;
    let token = page
        .next_before
        .map(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("a1:{b}")));
    Ok(collection(
        &state,
        "/v1.0/auditLogs/directoryAudits",
        "auditLogs/directoryAudits",
        values,
        token,
        None,
        &pairs,
    ))
}

/// Get one audit event.
#[utoipa::path(get, path = "/v1.0/auditLogs/directoryAudits/{id}", tag = "auditLogs", params(("id" = String, Path)),
    responses((status = 200, body = DirectoryAuditDto), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (sequence, e) = state.app.get_audit_event(&caller, &id).await?;
    entity(
        &state,
        "auditLogs/directoryAudits",
        DirectoryAuditDto::new(sequence, &e),
        None,
        PROPERTIES,
    )
}
