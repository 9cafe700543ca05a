//! `/v1.0/users`.

use super::{entity, object_id, page_response};
use crate::bind::{self, Users};
use crate::error::ApiResult;
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::directory::{CreateUser, USER_PROPERTIES, UpdateUser, UserDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

const CONTEXT: &str = "users";

/// List users.
#[utoipa::path(get, path = "/v1.0/users", tag = "users",
    params(("$filter" = Option<String>, Query), ("$select" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query),
           ("$orderby" = Option<String>, Query), ("$search" = Option<String>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<UserDto>)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let filter = opts.filter.as_ref().map(bind::bind::<Users>).transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state.app.list_users(&caller, &q).await?;
    page_response(
        &state,
        &super::Listing {
            path: "/v1.0/users",
            context: CONTEXT,
            properties: USER_PROPERTIES,
        },
        &page,
        |u| UserDto::from(u),
        opts.select.as_deref(),
        &pairs,
    )
}

/// Count users.
#[utoipa::path(get, path = "/v1.0/users/$count", tag = "users", responses((status = 200, description = "text/plain number")))]
pub async fn count(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, _): OData,
) -> ApiResult<Response> {
    let filter = opts.filter.as_ref().map(bind::bind::<Users>).transpose()?;
    let q = paging::count_query(&opts, filter)?;
    let page = state.app.list_users(&caller, &q).await?;
    Ok(super::count_response(page.count))
}

/// Create a user.
#[utoipa::path(post, path = "/v1.0/users", tag = "users", request_body = CreateUser, responses((status = 201, body = UserDto), (status = 400), (status = 409)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateUser>,
) -> ApiResult<Response> {
    let user = state.app.create_user(&caller, body.into_new()?).await?;
    Ok((
        StatusCode::CREATED,
        entity(&state, CONTEXT, UserDto::from(&user), None, USER_PROPERTIES)?,
    )
        .into_response())
}

/// Get a user by id or userPrincipalName.
#[utoipa::path(get, path = "/v1.0/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = UserDto), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, _): OData,
) -> ApiResult<Json<Value>> {
    let user = state.app.get_user_by_key(&caller, &id).await?;
    entity(
        &state,
        CONTEXT,
        UserDto::from(&user),
        opts.select.as_deref(),
        USER_PROPERTIES,
    )
}

/// Update a user.
#[utoipa::path(patch, path = "/v1.0/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UpdateUser, responses((status = 204), (status = 400), (status = 404)))]
pub async fn update(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<UpdateUser>,
) -> ApiResult<StatusCode> {
    state
        .app
        .update_user(&caller, object_id(&id, "user")?, body.into_patch()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a user.
#[utoipa::path(delete, path = "/v1.0/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .delete_user(&caller, object_id(&id, "user")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
