//! Catalog resources: EM `/resourceRequests`, `/catalogs/{id}/resources` and
//! `/catalogs/{id}/resourceRoles`.

use super::{EM, entity, object_id, to_values};
use crate::bind::{self, ResourceRequests, ResourceRoles, Resources};
use crate::error::ApiResult;
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::resource::{
    CreateResourceRequest, REQUEST_PROPERTIES, RESOURCE_PROPERTIES, ROLE_PROPERTIES, ResourceDto,
    ResourceRequestDto, ResourceRoleDto,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

const REQUESTS_CONTEXT: &str = "identityGovernance/entitlementManagement/resourceRequests";

/// List resource requests.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/resourceRequests", tag = "resources",
    params(("$filter" = Option<String>, Query, description = "requestType, state, catalog/id, resource/originId, createdDateTime"),
           ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<ResourceRequestDto>)))]
pub async fn list_requests(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    super::expansions(
        &opts,
        &["resource", "catalog"],
        "accessPackageResourceRequest",
    )?;
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<ResourceRequests>)
        .transpose()?;
    let mut q = paging::list_query(&opts, filter)?;
    if opts.orderby.is_none() {
        q.order = consulate_store::list::Order::Created;
    }
    let page = state.app.list_resource_requests(&caller, &q).await?;
    super::page_response(
        &state,
        &super::Listing {
            path: &format!("{EM}/resourceRequests"),
            context: REQUESTS_CONTEXT,
            properties: REQUEST_PROPERTIES,
        },
        &page,
        |r| ResourceRequestDto::from(r),
        opts.select.as_deref(),
        &pairs,
    )
}

/// Add a resource to a catalog (`adminAdd`) or remove it (`adminRemove`).
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/resourceRequests", tag = "resources",
    request_body = CreateResourceRequest,
    responses((status = 201, body = ResourceRequestDto), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn create_request(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateResourceRequest>,
) -> ApiResult<Response> {
    let r = state
        .app
        .request_resource(&caller, body.into_new()?)
        .await?;
    Ok((
        StatusCode::CREATED,
        entity(
            &state,
            REQUESTS_CONTEXT,
            ResourceRequestDto::from(&r),
            None,
            REQUEST_PROPERTIES,
        )?,
    )
        .into_response())
}

/// A catalog's resources (`$expand=roles,scopes`).
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}/resources", tag = "resources",
    params(("id" = String, Path), ("$filter" = Option<String>, Query, description = "id, displayName, originId, originSystem, createdDateTime"),
           ("$expand" = Option<String>, Query, description = "roles, scopes"), ("$select" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<ResourceDto>), (status = 404)))]
pub async fn list_resources(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let catalog = object_id(&id, "accessPackageCatalog")?;
    let expand = super::expansions(&opts, &["roles", "scopes"], "accessPackageResource")?;
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<Resources>)
        .transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state
        .app
        .list_catalog_resources(&caller, catalog, &q)
        .await?;
    let (roles, scopes) = (
        expand.iter().any(|e| e == "roles"),
        expand.iter().any(|e| e == "scopes"),
    );
    let values = paging::project(
        to_values(
            page.items
                .iter()
                .map(|r| ResourceDto::new(r, roles, scopes)),
        ),
        opts.select.as_deref(),
        RESOURCE_PROPERTIES,
    )?;
    Ok(super::collection(
        &state,
        &format!("{EM}/catalogs/{catalog}/resources"),
        &format!("identityGovernance/entitlementManagement/catalogs('{catalog}')/resources"),
        values,
        page.next.as_ref().map(paging::encode_cursor),
        page.count,
        &pairs,
    ))
}

/// The roles of a catalog's resources (`$expand=resource`).
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}/resourceRoles", tag = "resources",
    params(("id" = String, Path), ("$filter" = Option<String>, Query, description = "id, displayName, originId, originSystem, resource/id"),
           ("$expand" = Option<String>, Query, description = "resource"), ("$select" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<ResourceRoleDto>), (status = 404)))]
pub async fn list_resource_roles(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let catalog = object_id(&id, "accessPackageCatalog")?;
    let expand = super::expansions(&opts, &["resource"], "accessPackageResourceRole")?;
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<ResourceRoles>)
        .transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state
        .app
        .list_catalog_resource_roles(&caller, catalog, &q)
        .await?;
    let with_resource = !expand.is_empty();
    let values = paging::project(
        to_values(
            page.items
                .iter()
                .map(|(role, res)| ResourceRoleDto::new(role, with_resource.then_some(res))),
        ),
        opts.select.as_deref(),
        ROLE_PROPERTIES,
    )?;
    Ok(super::collection(
        &state,
        &format!("{EM}/catalogs/{catalog}/resourceRoles"),
        &format!("identityGovernance/entitlementManagement/catalogs('{catalog}')/resourceRoles"),
        values,
        page.next.as_ref().map(paging::encode_cursor),
        page.count,
        &pairs,
    ))
}
