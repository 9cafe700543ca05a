//! `/v1.0/users`.

use super::{entity, object_id, page_response, parse_reference};
use crate::bind::{self, Users};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::ReferenceBody;
use crate::wire::directory::{CreateUser, USER_PROPERTIES, UpdateUser, UserDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use consulate_app::connected_orgs::RefKind;
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

/// A user reference in a `$ref` body: only users can be managers or sponsors.
fn user_reference(body: &ReferenceBody) -> ApiResult<uuid::Uuid> {
    let (kind, id) = parse_reference(&body.odata_id)?;
    if kind == RefKind::Group {
        return Err(
            ApiError::bad_request("a manager or sponsor is a user, not a group")
                .with_target("@odata.id"),
        );
    }
    Ok(id)
}

/// A user's manager.
#[utoipa::path(get, path = "/v1.0/users/{id}/manager", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserDto), (status = 404)))]
pub async fn manager(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let m = state.app.manager(&caller, object_id(&id, "user")?).await?;
    entity(&state, CONTEXT, UserDto::from(&m), None, USER_PROPERTIES)
}

/// Set a user's manager: body `{"@odata.id": "https://…/v1.0/users/{id}"}`.
#[utoipa::path(put, path = "/v1.0/users/{id}/manager/$ref", tag = "users", params(("id" = String, Path)), request_body = ReferenceBody,
    responses((status = 204), (status = 400), (status = 404)))]
pub async fn set_manager(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<ReferenceBody>,
) -> ApiResult<StatusCode> {
    let manager = user_reference(&body)?;
    state
        .app
        .set_manager(&caller, object_id(&id, "user")?, manager)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user's manager.
#[utoipa::path(delete, path = "/v1.0/users/{id}/manager/$ref", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn remove_manager(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .remove_manager(&caller, object_id(&id, "user")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's sponsors.
#[utoipa::path(get, path = "/v1.0/users/{id}/sponsors", tag = "users", params(("id" = String, Path)),
    responses((status = 200), (status = 404)))]
pub async fn sponsors(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let uid = object_id(&id, "user")?;
    let users = state.app.user_sponsors(&caller, uid).await?;
    Ok(super::collection(
        &state,
        &format!("/v1.0/users/{uid}/sponsors"),
        "directoryObjects",
        super::to_values(users.iter().map(UserDto::from)),
        None,
        None,
        &[],
    ))
}

/// Add a sponsor: body `{"@odata.id": "https://…/v1.0/users/{id}"}`.
#[utoipa::path(post, path = "/v1.0/users/{id}/sponsors/$ref", tag = "users", params(("id" = String, Path)), request_body = ReferenceBody,
    responses((status = 204), (status = 400), (status = 404)))]
pub async fn add_sponsor(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<ReferenceBody>,
) -> ApiResult<StatusCode> {
    let sponsor = user_reference(&body)?;
    state
        .app
        .add_user_sponsor(&caller, object_id(&id, "user")?, sponsor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a sponsor.
#[utoipa::path(delete, path = "/v1.0/users/{id}/sponsors/{sponsorId}/$ref", tag = "users", params(("id" = String, Path), ("sponsorId" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn remove_sponsor(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, sponsor)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .app
        .remove_user_sponsor(
            &caller,
            object_id(&id, "user")?,
            object_id(&sponsor, "sponsor")?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
