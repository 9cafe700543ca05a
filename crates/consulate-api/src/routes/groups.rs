//! `/v1.0/groups` and their members.

use super::{entity, object_id, page_response, parse_reference};
use crate::bind::{self, Groups, Users};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::ReferenceBody;
use crate::wire::directory::{
    CreateGroup, GROUP_PROPERTIES, GroupDto, USER_PROPERTIES, UpdateGroup, UserDto,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use consulate_app::connected_orgs::RefKind;
use serde_json::Value;

const CONTEXT: &str = "groups";

/// List groups.
#[utoipa::path(get, path = "/v1.0/groups", tag = "groups",
    params(("$filter" = Option<String>, Query), ("$select" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query),
           ("$orderby" = Option<String>, Query), ("$search" = Option<String>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<GroupDto>)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let filter = opts.filter.as_ref().map(bind::bind::<Groups>).transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state.app.list_groups(&caller, &q).await?;
    page_response(
        &state,
        &super::Listing {
            path: "/v1.0/groups",
            context: CONTEXT,
            properties: GROUP_PROPERTIES,
        },
        &page,
        |g| GroupDto::from(g),
        opts.select.as_deref(),
        &pairs,
    )
}

/// Count groups.
#[utoipa::path(get, path = "/v1.0/groups/$count", tag = "groups", responses((status = 200, description = "text/plain number")))]
pub async fn count(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, _): OData,
) -> ApiResult<Response> {
    let filter = opts.filter.as_ref().map(bind::bind::<Groups>).transpose()?;
    let q = paging::count_query(&opts, filter)?;
    let page = state.app.list_groups(&caller, &q).await?;
    Ok(super::count_response(page.count))
}

/// Create a group.
#[utoipa::path(post, path = "/v1.0/groups", tag = "groups", request_body = CreateGroup, responses((status = 201, body = GroupDto), (status = 400)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateGroup>,
) -> ApiResult<Response> {
    let group = state.app.create_group(&caller, body.into_new()?).await?;
    Ok((
        StatusCode::CREATED,
        entity(
            &state,
            CONTEXT,
            GroupDto::from(&group),
            None,
            GROUP_PROPERTIES,
        )?,
    )
        .into_response())
}

/// Get a group.
#[utoipa::path(get, path = "/v1.0/groups/{id}", tag = "groups", params(("id" = String, Path)), responses((status = 200, body = GroupDto), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, _): OData,
) -> ApiResult<Json<Value>> {
    let group = state
        .app
        .get_group(&caller, object_id(&id, "group")?)
        .await?;
    entity(
        &state,
        CONTEXT,
        GroupDto::from(&group),
        opts.select.as_deref(),
        GROUP_PROPERTIES,
    )
}

/// Update a group.
#[utoipa::path(patch, path = "/v1.0/groups/{id}", tag = "groups", params(("id" = String, Path)), request_body = UpdateGroup, responses((status = 204), (status = 404)))]
pub async fn update(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<UpdateGroup>,
) -> ApiResult<StatusCode> {
    state
        .app
        .update_group(&caller, object_id(&id, "group")?, body.into_patch()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a group.
#[utoipa::path(delete, path = "/v1.0/groups/{id}", tag = "groups", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .delete_group(&caller, object_id(&id, "group")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a group's members.
#[utoipa::path(get, path = "/v1.0/groups/{id}/members", tag = "groups", params(("id" = String, Path), ("$top" = Option<u32>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, description = "directoryObject collection")))]
pub async fn members(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let gid = object_id(&id, "group")?;
    let filter = opts.filter.as_ref().map(bind::bind::<Users>).transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state.app.list_group_members(&caller, gid, &q).await?;
    page_response(
        &state,
        &super::Listing {
            path: &format!("/v1.0/groups/{gid}/members"),
            context: "directoryObjects",
            properties: USER_PROPERTIES,
        },
        &page,
        |u| UserDto::from(u),
        opts.select.as_deref(),
        &pairs,
    )
}

/// Add a member: body `{"@odata.id": "https://…/v1.0/directoryObjects/{id}"}`.
#[utoipa::path(post, path = "/v1.0/groups/{id}/members/$ref", tag = "groups", params(("id" = String, Path)), request_body = ReferenceBody,
    responses((status = 204), (status = 400), (status = 404)))]
pub async fn add_member(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<ReferenceBody>,
) -> ApiResult<StatusCode> {
    let gid = object_id(&id, "group")?;
    let (kind, member) = parse_reference(&body.odata_id)?;
    if kind == RefKind::Group {
        return Err(
            ApiError::bad_request("nested groups are not supported; add users as members")
                .with_target("@odata.id"),
        );
    }
    state.app.add_group_member(&caller, gid, member).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member.
#[utoipa::path(delete, path = "/v1.0/groups/{id}/members/{memberId}/$ref", tag = "groups", params(("id" = String, Path), ("memberId" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn remove_member(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .app
        .remove_group_member(
            &caller,
            object_id(&id, "group")?,
            object_id(&member, "member")?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
