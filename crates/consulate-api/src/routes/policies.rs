//! EM `/assignmentPolicies`: create, list, get, PUT (full replace), delete.

use super::{EM, object_id};
use crate::bind::{self, Policies};
use crate::error::ApiResult;
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::access_package::AccessPackageDto;
use crate::wire::catalog::CatalogDto;
use crate::wire::policy::{PROPERTIES, PolicyBody, policy_json};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consulate_core::access::Caller;
use consulate_core::policy::AssignmentPolicy;
use consulate_odata::QueryOptions;
use serde_json::{Value, json};

const CONTEXT: &str = "identityGovernance/entitlementManagement/assignmentPolicies";

fn path() -> String {
    format!("{EM}/assignmentPolicies")
}

async fn expanded(
    state: &ApiState,
    caller: &Caller,
    policies: &[AssignmentPolicy],
    opts: &QueryOptions,
) -> ApiResult<Vec<Value>> {
    let expand = super::expansions(
        opts,
        &[
            "accessPackage",
            "catalog",
            "questions",
            "customExtensionStageSettings",
        ],
        "accessPackageAssignmentPolicy",
    )?;
    let mut out = Vec::with_capacity(policies.len());
    for p in policies {
        let mut v = policy_json(p);
        if expand.iter().any(|e| e == "accessPackage") {
            let pkg = state
                .app
                .get_access_package(caller, p.access_package_id)
                .await?;
            v["accessPackage"] =
                serde_json::to_value(AccessPackageDto::from(&pkg)).expect("serialises");
        }
        if expand.iter().any(|e| e == "catalog") {
            let c = state.app.get_catalog(caller, p.catalog_id).await?;
            v["catalog"] = serde_json::to_value(CatalogDto::from(&c)).expect("serialises");
        }
        if expand.iter().any(|e| e == "customExtensionStageSettings") {
            v["customExtensionStageSettings"] = json!([]);
        }
        out.push(v);
    }
    Ok(out)
}

/// List assignment policies.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies", tag = "assignmentPolicies",
    params(("$filter" = Option<String>, Query, description = "id, displayName, accessPackage/id, catalog/id, allowedTargetScope, createdDateTime, modifiedDateTime"),
           ("$expand" = Option<String>, Query, description = "accessPackage, catalog, questions"), ("$select" = Option<String>, Query),
           ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200), (status = 400), (status = 403)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<Policies>)
        .transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state.app.list_policies(&caller, &q).await?;
    let values = paging::project(
        expanded(&state, &caller, &page.items, &opts).await?,
        opts.select.as_deref(),
        PROPERTIES,
    )?;
    Ok(super::collection(
        &state,
        &path(),
        CONTEXT,
        values,
        page.next.as_ref().map(paging::encode_cursor),
        page.count,
        &pairs,
    ))
}

fn with_context(state: &ApiState, mut v: Value) -> Value {
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#{CONTEXT}/$entity",
        state.public_url
    ));
    v
}

/// Create an assignment policy for an access package.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies", tag = "assignmentPolicies",
    request_body = PolicyBody, responses((status = 201), (status = 400), (status = 403)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<PolicyBody>,
) -> ApiResult<Response> {
    let p = state
        .app
        .save_policy(&caller, None, body.into_draft()?)
        .await?;
    let mut resp = (
        StatusCode::CREATED,
        Json(with_context(&state, policy_json(&p))),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}{}/{}", state.public_url, path(), p.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Get an assignment policy.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{id}", tag = "assignmentPolicies",
    params(("id" = String, Path), ("$expand" = Option<String>, Query), ("$select" = Option<String>, Query)), responses((status = 200), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, _): OData,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "accessPackageAssignmentPolicy")?;
    let p = state.app.get_policy(&caller, id).await?;
    let v = paging::project(
        expanded(&state, &caller, std::slice::from_ref(&p), &opts).await?,
        opts.select.as_deref(),
        PROPERTIES,
    )?
    .remove(0);
    Ok(Json(with_context(&state, v)))
}

/// Replace an assignment policy (PUT; 200 with the new version).
#[utoipa::path(put, path = "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{id}", tag = "assignmentPolicies",
    params(("id" = String, Path)), request_body = PolicyBody, responses((status = 200), (status = 400), (status = 404), (status = 409)))]
pub async fn replace(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<PolicyBody>,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "accessPackageAssignmentPolicy")?;
    let p = state
        .app
        .save_policy(&caller, Some(id), body.into_draft()?)
        .await?;
    Ok(Json(with_context(&state, policy_json(&p))))
}

/// Delete an assignment policy.
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/assignmentPolicies/{id}", tag = "assignmentPolicies",
    params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackageAssignmentPolicy")?;
    state.app.delete_policy(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
