//! EM `/assignmentRequests` and `/assignments`.

use super::{EM, object_id};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJsonBytes, OData};
use crate::state::ApiState;
use crate::wire::policy::iso_duration;
use crate::{bind, paging};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consulate_app::lifecycle::NewRequest;
use consulate_core::lifecycle::{Assignment, AssignmentRequest};
use consulate_core::policy::{Expiration, IsoDuration};
use consulate_core::request::{Answer, RequestType, RequestedSchedule, Schedule};
use consulate_odata::QueryOptions;
use consulate_store::list::{ListQuery, Order};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

fn schedule_json(s: &Schedule) -> Value {
    json!({
        "startDateTime": s.start.to_string(),
        "expiration": match s.end {
            Some(end) => json!({"type": "afterDateTime", "endDateTime": end.to_string(), "duration": null}),
            None => json!({"type": "noExpiration", "endDateTime": null, "duration": null}),
        },
        "recurrence": null,
    })
}

fn request_json(r: &AssignmentRequest) -> Value {
    json!({
        "id": r.id.to_string(),
        "requestType": r.request_type.as_str(),
        "state": r.state.as_str(),
        "status": r.state.status(),
        "createdDateTime": r.created_date_time.to_string(),
        "completedDateTime": r.completed_date_time.map(|t| t.to_string()),
        "justification": r.justification,
        "schedule": schedule_json(&r.schedule),
        "answers": r.answers.iter().map(|a| json!({
            "@odata.type": "#microsoft.graph.accessPackageAnswerString",
            "value": a.value,
            "displayValue": a.display_value,
            "answeredQuestion": {"id": a.question_id.to_string()},
        })).collect::<Vec<_>>(),
        "accessPackage": {"id": r.access_package_id.to_string()},
        "assignment": r.assignment_id.map(|a| json!({"id": a.to_string()})),
        "requestor": {"objectId": r.target_id.to_string()},
    })
}

fn assignment_json(a: &Assignment) -> Value {
    json!({
        "id": a.id.to_string(),
        "state": a.state.as_str(),
        "status": a.state.status(),
        "expiredDateTime": a.expired_date_time.map(|t| t.to_string()),
        "schedule": schedule_json(&a.schedule),
        "accessPackage": {"id": a.access_package_id.to_string()},
        "assignmentPolicy": {"id": a.policy_id.to_string()},
        "target": {"objectId": a.target_id.to_string()},
    })
}

/// `assignment` in a request body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignmentBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub target_id: Option<String>,
    #[serde(default)]
    pub assignment_policy_id: Option<String>,
    #[serde(default)]
    pub access_package_id: Option<String>,
}

/// `{"id": "…"}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuestionRef {
    pub id: String,
}

/// An answer (`accessPackageAnswerString`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnswerBody {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub value: String,
    #[serde(default)]
    pub display_value: Option<String>,
    pub answered_question: QuestionRef,
}

/// `expiration` of a requested schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleExpirationBody {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default)]
    pub duration: Option<String>,
}

/// A requested schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleBody {
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default)]
    pub expiration: Option<ScheduleExpirationBody>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub recurrence: Option<Value>,
}

/// The body of `POST /assignmentRequests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub request_type: String,
    pub assignment: AssignmentBody,
    #[serde(default)]
    pub justification: Option<String>,
    #[serde(default)]
    pub answers: Option<Vec<AnswerBody>>,
    #[serde(default)]
    pub schedule: Option<ScheduleBody>,
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

fn time(target: &str, s: &str) -> Result<jiff::Timestamp, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "{target} is not a date-time with an offset, like 2027-01-01T00:00:00Z"
        ))
        .with_target(target.to_owned())
    })
}

impl CreateRequest {
    fn into_new(self) -> Result<NewRequest, ApiError> {
        let request_type = RequestType::parse(&self.request_type)?;
        let a = self.assignment;
        let opt = |t: &str, v: Option<String>| v.map(|v| guid(t, &v)).transpose();
        let schedule = match self.schedule {
            None => None,
            Some(s) => {
                if s.recurrence.as_ref().is_some_and(|r| !r.is_null()) {
                    return Err(ApiError::bad_request(
                        "schedule.recurrence is not used for access requests",
                    )
                    .with_target("schedule.recurrence"));
                }
                let expiration = match s.expiration {
                    None => None,
                    Some(e) => Some(match (e.kind.as_deref(), e.end_date_time, e.duration) {
                        (Some("noExpiration"), _, _) => Expiration::NoExpiration,
                        (_, Some(end), _) => Expiration::AfterDateTime(time(
                            "schedule.expiration.endDateTime",
                            &end,
                        )?),
                        (_, None, Some(d)) => Expiration::AfterDuration(IsoDuration::parse(
                            "schedule.expiration.duration",
                            &iso_duration(&d),
                        )?),
                        _ => Expiration::NotSpecified,
                    }),
                };
                Some(RequestedSchedule {
                    start: s
                        .start_date_time
                        .map(|t| time("schedule.startDateTime", &t))
                        .transpose()?,
                    expiration: expiration.filter(|e| *e != Expiration::NotSpecified),
                })
            }
        };
        Ok(NewRequest {
            request_type,
            access_package_id: opt("assignment.accessPackageId", a.access_package_id)?,
            policy_id: opt("assignment.assignmentPolicyId", a.assignment_policy_id)?,
            target_id: opt("assignment.targetId", a.target_id)?,
            assignment_id: opt("assignment.id", a.id)?,
            justification: self.justification,
            answers: self
                .answers
                .unwrap_or_default()
                .into_iter()
                .map(|x| {
                    Ok(Answer {
                        question_id: guid("answers.answeredQuestion.id", &x.answered_question.id)?,
                        value: x.value,
                        display_value: x.display_value.unwrap_or_default(),
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            schedule,
        })
    }
}

/// Submit a request: `userAdd`, `userRemove`, `adminAdd`, `adminRemove`. An `Idempotency-Key`
/// header makes retries safe (same key and body: the first answer; another body: 422).
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/assignmentRequests", tag = "assignments",
    request_body = CreateRequest,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201), (status = 400), (status = 403), (status = 409), (status = 422)))]
pub async fn create_request(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    GraphJsonBytes(parsed, body): GraphJsonBytes<CreateRequest>,
) -> ApiResult<Response> {
    let key = match headers.get("idempotency-key") {
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key is not text"))?
                .trim()
                .to_owned();
            if k.is_empty() || k.len() > 200 {
                return Err(ApiError::bad_request(
                    "Idempotency-Key must be 1 to 200 characters",
                ));
            }
            Some(k)
        }
        None => None,
    };
    let hash = hex::encode(Sha256::digest(&body));
    let r = state
        .app
        .submit_request(&caller, parsed.into_new()?, key.map(|k| (k, hash)))
        .await?;
    let mut v = request_json(&r);
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#identityGovernance/entitlementManagement/assignmentRequests/$entity",
        state.public_url
    ));
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// `$filter`, `$top`, `$count` and `$skiptoken` over a list kept in creation order.
fn created_order<F>(
    opts: &QueryOptions,
    filter: Option<consulate_core::filter::Filter<F>>,
) -> ApiResult<ListQuery<F>> {
    if opts.orderby.is_some() || opts.search.is_some() {
        return Err(ApiError::bad_request(
            "this list is in creation order; $orderby and $search are not supported, use $filter",
        )
        .with_target(if opts.search.is_some() {
            "$search"
        } else {
            "$orderby"
        }));
    }
    let mut q = paging::list_query(opts, filter)?;
    q.order = Order::Created;
    Ok(q)
}

async fn requests_page(
    state: &ApiState,
    caller: &consulate_core::access::Caller,
    on: Option<&str>,
    (opts, pairs): (QueryOptions, Vec<(String, String)>),
    path: &str,
) -> ApiResult<Json<Value>> {
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<bind::AssignmentRequests>)
        .transpose()?;
    let page = state
        .app
        .list_requests(caller, on, &created_order(&opts, filter)?)
        .await?;
    let values = paging::project(
        page.items.iter().map(request_json).collect(),
        opts.select.as_deref(),
        REQUEST_PROPERTIES,
    )?;
    Ok(super::collection(
        state,
        path,
        "identityGovernance/entitlementManagement/assignmentRequests",
        values,
        page.next.as_ref().map(paging::encode_cursor),
        page.count,
        &pairs,
    ))
}

/// Which assignments a list answers with.
enum Assignments {
    All,
    Mine,
    /// `additionalAccess(accessPackageId, incompatibleAccessPackageId)`.
    Additional(Uuid, Uuid),
}

async fn assignments_page(
    state: &ApiState,
    caller: &consulate_core::access::Caller,
    which: Assignments,
    (opts, pairs): (QueryOptions, Vec<(String, String)>),
    path: &str,
) -> ApiResult<Json<Value>> {
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<bind::Assignments>)
        .transpose()?;
    let q = created_order(&opts, filter)?;
    let page = match which {
        Assignments::All => state.app.list_assignments(caller, false, &q).await?,
        Assignments::Mine => state.app.list_assignments(caller, true, &q).await?,
        Assignments::Additional(a, b) => state.app.additional_access(caller, a, b, &q).await?,
    };
    let values = paging::project(
        page.items.iter().map(assignment_json).collect(),
        opts.select.as_deref(),
        ASSIGNMENT_PROPERTIES,
    )?;
    Ok(super::collection(
        state,
        path,
        "identityGovernance/entitlementManagement/assignments",
        values,
        page.next.as_ref().map(paging::encode_cursor),
        page.count,
        &pairs,
    ))
}

const REQUEST_PROPERTIES: &[&str] = &[
    "id",
    "requestType",
    "state",
    "status",
    "createdDateTime",
    "completedDateTime",
    "justification",
    "schedule",
    "answers",
    "accessPackage",
    "assignment",
    "requestor",
];
const ASSIGNMENT_PROPERTIES: &[&str] = &[
    "id",
    "state",
    "status",
    "expiredDateTime",
    "schedule",
    "accessPackage",
    "assignmentPolicy",
    "target",
];

/// List requests, oldest first, with `$filter`, `$top`, `$count` and paging.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/assignmentRequests", tag = "assignments",
    params(("$filter" = Option<String>, Query, description = "id, state, requestType, accessPackage/id, requestor/objectId, assignment/id, createdDateTime, completedDateTime"),
           ("$select" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200), (status = 400), (status = 403)))]
pub async fn list_requests(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    requests_page(
        &state,
        &caller,
        None,
        (opts, pairs),
        &format!("{EM}/assignmentRequests"),
    )
    .await
}

/// One request, or `filterByCurrentUser(on='target')`.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}", tag = "assignments",
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn get_request(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    if let Some(args) = id.strip_prefix("filterByCurrentUser(") {
        let on = args
            .strip_suffix(')')
            .and_then(|a| a.strip_prefix("on="))
            .map(|v| v.trim_matches('\''))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "filterByCurrentUser takes on='target', 'createdBy' or 'approver'",
                )
                .with_target("on")
            })?;
        let path = format!("{EM}/assignmentRequests/{id}");
        return requests_page(&state, &caller, Some(on), (opts, pairs), &path).await;
    }
    let id = object_id(&id, "accessPackageAssignmentRequest")?;
    Ok(Json(request_json(
        &state.app.get_request(&caller, id).await?,
    )))
}

/// Cancels a request that is not decided or delivered yet.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}/cancel", tag = "assignments",
    params(("id" = String, Path)), responses((status = 200), (status = 404), (status = 409)))]
pub async fn cancel_request(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackageAssignmentRequest")?;
    state.app.cancel_request(&caller, id).await?;
    Ok(StatusCode::OK)
}

/// Applies a delivered assignment's grants again (202; the worker does it).
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/assignments/{id}/reprocess", tag = "assignments",
    params(("id" = String, Path)), responses((status = 202), (status = 404), (status = 409)))]
pub async fn reprocess_assignment(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackageAssignment")?;
    state.app.reprocess_assignment(&caller, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Delivers a request whose delivery failed anew (202; the worker does it).
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}/reprocess", tag = "assignments",
    params(("id" = String, Path)), responses((status = 202), (status = 404), (status = 409)))]
pub async fn reprocess_request(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackageAssignmentRequest")?;
    state.app.reprocess_request(&caller, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Deletes a denied, canceled or delivered request whose assignment is no longer active.
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/assignmentRequests/{id}", tag = "assignments",
    params(("id" = String, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_request(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackageAssignmentRequest")?;
    state.app.delete_request(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `accessPackageId='…',incompatibleAccessPackageId='…')`, in either order.
fn additional_access_args(args: &str) -> ApiResult<(Uuid, Uuid)> {
    let usage = || {
        ApiError::bad_request(
            "additionalAccess takes accessPackageId='…' and incompatibleAccessPackageId='…'",
        )
        .with_target("additionalAccess")
    };
    let inner = args.strip_suffix(')').ok_or_else(usage)?;
    let (mut package, mut incompatible) = (None, None);
    for part in inner.split(',') {
        let (name, value) = part.split_once('=').ok_or_else(usage)?;
        let value = value.trim().trim_matches('\'');
        let id = Uuid::parse_str(value).map_err(|_| {
            ApiError::bad_request(format!("{} is not an id", name.trim())).with_target(name.trim())
        })?;
        match name.trim() {
            "accessPackageId" if package.is_none() => package = Some(id),
            "incompatibleAccessPackageId" if incompatible.is_none() => incompatible = Some(id),
            _ => return Err(usage()),
        }
    }
    Ok((package.ok_or_else(usage)?, incompatible.ok_or_else(usage)?))
}

fn current_user_on(args: &str, supported: &str) -> ApiResult<()> {
    let on = args
        .strip_suffix(')')
        .and_then(|a| a.strip_prefix("on="))
        .map(|v| v.trim_matches('\''));
    if on != Some(supported) {
        return Err(ApiError::bad_request(format!(
            "filterByCurrentUser here takes on='{supported}'"
        ))
        .with_target("on"));
    }
    Ok(())
}

/// List assignments, oldest first, with `$filter`, `$top`, `$count` and paging.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/assignments", tag = "assignments",
    params(("$filter" = Option<String>, Query, description = "id, state, accessPackage/id, assignmentPolicy/id, target/objectId, expiredDateTime"),
           ("$select" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200), (status = 400), (status = 403)))]
pub async fn list_assignments(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    assignments_page(
        &state,
        &caller,
        Assignments::All,
        (opts, pairs),
        &format!("{EM}/assignments"),
    )
    .await
}

/// One assignment, or `filterByCurrentUser(on='target')`.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/assignments/{id}", tag = "assignments",
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn get_assignment(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    if let Some(args) = id.strip_prefix("filterByCurrentUser(") {
        current_user_on(args, "target")?;
        let path = format!("{EM}/assignments/{id}");
        return assignments_page(&state, &caller, Assignments::Mine, (opts, pairs), &path).await;
    }
    if let Some(args) = id.strip_prefix("additionalAccess(") {
        let (a, b) = additional_access_args(args)?;
        let path = format!("{EM}/assignments/{id}");
        let which = Assignments::Additional(a, b);
        return assignments_page(&state, &caller, which, (opts, pairs), &path).await;
    }
    let id = object_id(&id, "accessPackageAssignment")?;
    Ok(Json(assignment_json(
        &state.app.get_assignment(&caller, id).await?,
    )))
}

/// `entitlementManagementSettings` as returned.
fn settings_json(s: &consulate_core::lifecycle::Settings) -> Value {
    json!({
        "id": "settings",
        "externalUserLifecycleAction": s.external_user_lifecycle_action.as_str(),
        "durationUntilExternalUserDeletedAfterBlocked": s.duration_until_external_user_deleted_after_blocked.as_str(),
    })
}

/// The entitlement-management settings.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/settings", tag = "assignments",
    responses((status = 200), (status = 403)))]
pub async fn get_settings(
    State(state): State<ApiState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Value>> {
    Ok(Json(settings_json(&state.app.settings(&caller).await?)))
}

/// A PATCH of the settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSettings {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub external_user_lifecycle_action: Option<String>,
    #[serde(default)]
    pub duration_until_external_user_deleted_after_blocked: Option<String>,
}

/// Change the settings (204).
#[utoipa::path(patch, path = "/v1.0/identityGovernance/entitlementManagement/settings", tag = "assignments",
    request_body = UpdateSettings, responses((status = 204), (status = 400), (status = 403)))]
pub async fn update_settings(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    crate::extract::GraphJson(body): crate::extract::GraphJson<UpdateSettings>,
) -> ApiResult<StatusCode> {
    let action = body
        .external_user_lifecycle_action
        .as_deref()
        .map(consulate_core::lifecycle::ExternalUserLifecycleAction::parse)
        .transpose()?;
    let days = body
        .duration_until_external_user_deleted_after_blocked
        .as_deref()
        .map(|d| {
            IsoDuration::parse(
                "durationUntilExternalUserDeletedAfterBlocked",
                &iso_duration(d),
            )
        })
        .transpose()?;
    state.app.update_settings(&caller, action, days).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the next expiry sweep would do now (a dry run).
#[utoipa::path(get, path = "/admin/v1/lifecycle/preview", tag = "assignments",
    responses((status = 200, description = "the assignments the sweep would end")))]
pub async fn sweep_preview(
    State(state): State<ApiState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Value>> {
    let due = state.app.sweep_preview(&caller).await?;
    Ok(Json(
        json!({"expire": due.iter().map(assignment_json).collect::<Vec<_>>()}),
    ))
}
