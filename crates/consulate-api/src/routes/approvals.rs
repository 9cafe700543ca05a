//! EM `/accessPackageAssignmentApprovals`: an approval's id is its request's id; its stages are
//! listed and decided (`PATCH …/stages/{id}` with `reviewResult` Approve or Deny).

use super::{EM, object_id};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson};
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use consulate_app::approvals::StageView;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

fn stage_json(v: &StageView) -> Value {
    let s = &v.stage;
    json!({
        "id": s.id.to_string(),
        "displayName": format!("Stage {}", s.index + 1),
        "assignedToMe": v.assigned_to_me,
        "reviewResult": s.review_result,
        "justification": s.justification,
        "reviewedBy": s.reviewed_by.map(|u| json!({"id": u.to_string()})),
        "reviewedDateTime": s.reviewed_at.map(|t| t.to_string()),
        "status": match s.status.as_str() {
            "inProgress" => "InProgress",
            "completed" => "Completed",
            "expired" => "Expired",
            _ => "NotStarted",
        },
    })
}

/// An approval (its stages), or `filterByCurrentUser(on='approver')`.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}", tag = "approvals",
    params(("id" = String, Path, description = "the request id")), responses((status = 200), (status = 403), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if let Some(args) = id.strip_prefix("filterByCurrentUser(") {
        let on = args
            .strip_suffix(')')
            .and_then(|a| a.strip_prefix("on="))
            .map(|v| v.trim_matches('\''));
        if on != Some("approver") {
            return Err(
                ApiError::bad_request("filterByCurrentUser here takes on='approver'")
                    .with_target("on"),
            );
        }
        let mut value = Vec::new();
        for r in state.app.my_approvals(&caller).await? {
            let stages = state.app.approval_stages(&caller, r.id).await?;
            value.push(json!({"id": r.id.to_string(), "stages": stages.iter().map(stage_json).collect::<Vec<_>>()}));
        }
        return Ok(super::collection(
            &state,
            &format!("{EM}/accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"),
            "Collection(microsoft.graph.approval)",
            value,
            None,
            None,
            &[],
        ));
    }
    let id = object_id(&id, "approval")?;
    let stages = state.app.approval_stages(&caller, id).await?;
    Ok(Json(
        json!({"id": id.to_string(), "stages": stages.iter().map(stage_json).collect::<Vec<_>>()}),
    ))
}

/// An approval's stages.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}/stages", tag = "approvals",
    params(("id" = String, Path)), responses((status = 200), (status = 403), (status = 404)))]
pub async fn stages(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "approval")?;
    let stages = state.app.approval_stages(&caller, id).await?;
    Ok(super::collection(
        &state,
        &format!("{EM}/accessPackageAssignmentApprovals/{id}/stages"),
        "Collection(microsoft.graph.approvalStage)",
        stages.iter().map(stage_json).collect(),
        None,
        None,
        &[],
    ))
}

/// One stage.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}/stages/{stageId}", tag = "approvals",
    params(("id" = String, Path), ("stageId" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn stage(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, stage)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "approval")?;
    let stage = object_id(&stage, "approvalStage")?;
    let stages = state.app.approval_stages(&caller, id).await?;
    let s = stages
        .iter()
        .find(|s| s.stage.id == stage)
        .ok_or_else(|| ApiError::not_found(format!("approvalStage '{stage}' was not found")))?;
    Ok(Json(stage_json(s)))
}

/// A decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Decision {
    /// `Approve` or `Deny`.
    pub review_result: String,
    #[serde(default)]
    pub justification: Option<String>,
}

/// Decide a stage (204; 409 when it is decided already; 403 for anyone but its approvers).
#[utoipa::path(patch, path = "/v1.0/identityGovernance/entitlementManagement/accessPackageAssignmentApprovals/{id}/stages/{stageId}", tag = "approvals",
    params(("id" = String, Path), ("stageId" = String, Path)), request_body = Decision,
    responses((status = 204), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn decide(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, stage)): Path<(String, String)>,
    GraphJson(body): GraphJson<Decision>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "approval")?;
    let stage = object_id(&stage, "approvalStage")?;
    let approve = match body.review_result.trim().to_ascii_lowercase().as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return Err(ApiError::bad_request("reviewResult is Approve or Deny")
                .with_target("reviewResult"));
        }
    };
    state
        .app
        .decide_stage(&caller, id, stage, approve, body.justification)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
