//! `/v1.0/applications`: the registry of applications whose app roles catalogs can offer.

use super::{entity, object_id, page_response};
use crate::bind::{self, Applications};
use crate::error::ApiResult;
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::application::{ApplicationDto, CreateApplication, PROPERTIES, UpdateApplication};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

const PATH: &str = "/v1.0/applications";
const CONTEXT: &str = "applications";

/// List applications.
#[utoipa::path(get, path = "/v1.0/applications", tag = "applications",
    params(("$filter" = Option<String>, Query, description = "id, appId, displayName, createdDateTime"), ("$select" = Option<String>, Query),
           ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query), ("$search" = Option<String>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<ApplicationDto>), (status = 400), (status = 403)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    super::expansions(&opts, &[], "application")?;
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<Applications>)
        .transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state.app.list_applications(&caller, &q).await?;
    page_response(
        &state,
        &super::Listing {
            path: PATH,
            context: CONTEXT,
            properties: PROPERTIES,
        },
        &page,
        |a| ApplicationDto::from(a),
        opts.select.as_deref(),
        &pairs,
    )
}

/// Register an application with its app roles.
#[utoipa::path(post, path = "/v1.0/applications", tag = "applications", request_body = CreateApplication,
    responses((status = 201, body = ApplicationDto), (status = 400), (status = 403)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateApplication>,
) -> ApiResult<Response> {
    let a = state
        .app
        .create_application(&caller, body.into_new()?)
        .await?;
    let mut resp = (
        StatusCode::CREATED,
        entity(&state, CONTEXT, ApplicationDto::from(&a), None, PROPERTIES)?,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}{PATH}/{}", state.public_url, a.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Get an application.
#[utoipa::path(get, path = "/v1.0/applications/{id}", tag = "applications",
    params(("id" = String, Path), ("$select" = Option<String>, Query)), responses((status = 200, body = ApplicationDto), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, _): OData,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "application")?;
    let a = state.app.get_application(&caller, id).await?;
    entity(
        &state,
        CONTEXT,
        ApplicationDto::from(&a),
        opts.select.as_deref(),
        PROPERTIES,
    )
}

/// Update an application; `appRoles` replaces the set (a role a catalog offers stays).
#[utoipa::path(patch, path = "/v1.0/applications/{id}", tag = "applications", params(("id" = String, Path)),
    request_body = UpdateApplication, responses((status = 204), (status = 400), (status = 404), (status = 409)))]
pub async fn update(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<UpdateApplication>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "application")?;
    state
        .app
        .update_application(&caller, id, body.into_patch()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete an application that no catalog offers.
#[utoipa::path(delete, path = "/v1.0/applications/{id}", tag = "applications", params(("id" = String, Path)),
    responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "application")?;
    state.app.delete_application(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
