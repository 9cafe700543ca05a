//! `/identityGovernance/entitlementManagement/catalogs`.

use super::{EM, entity, object_id};
use crate::bind::{self, Catalogs};
use crate::error::ApiResult;
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::catalog::{CatalogDto, CreateCatalog, PROPERTIES, UpdateCatalog};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consulate_odata::QueryOptions;
use serde_json::Value;

const CONTEXT: &str = "identityGovernance/entitlementManagement/catalogs";

fn path() -> String {
    format!("{EM}/catalogs")
}

/// Whether `$expand=accessPackages` was asked for (the one expandable property).
fn expand_packages(opts: &QueryOptions) -> ApiResult<bool> {
    Ok(!super::expansions(opts, &["accessPackages"], "accessPackageCatalog")?.is_empty())
}

/// Catalogs as JSON, with their access packages when expanded.
async fn catalog_values(
    state: &ApiState,
    caller: &consulate_core::access::Caller,
    catalogs: &[consulate_core::catalog::AccessPackageCatalog],
    with_packages: bool,
) -> ApiResult<Vec<Value>> {
    let mut values = super::to_values(catalogs.iter().map(CatalogDto::from));
    if with_packages {
        let ids: Vec<uuid::Uuid> = catalogs.iter().map(|c| c.id).collect();
        let packages = state.app.access_packages_in_catalogs(caller, &ids).await?;
        for (v, c) in values.iter_mut().zip(catalogs) {
            v["accessPackages"] = Value::Array(super::to_values(
                packages
                    .iter()
                    .filter(|p| p.catalog_id == c.id)
                    .map(crate::wire::access_package::AccessPackageDto::from),
            ));
        }
    }
    Ok(values)
}

fn filter(
    opts: &QueryOptions,
) -> ApiResult<Option<consulate_core::filter::Filter<consulate_core::filter::CatalogField>>> {
    opts.filter.as_ref().map(bind::bind::<Catalogs>).transpose()
}

/// List catalogs.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/catalogs", tag = "catalogs",
    params(("$filter" = Option<String>, Query, description = "displayName, description, catalogType, state, isExternallyVisible, createdDateTime, modifiedDateTime; e.g. contains(tolower(displayName),'staff')"),
           ("$select" = Option<String>, Query), ("$orderby" = Option<String>, Query, description = "displayName [asc|desc]"),
           ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query), ("$search" = Option<String>, Query, description = "display name contains (case-insensitive)"),
           ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, description = "A page of catalogs", body = crate::wire::Collection<CatalogDto>), (status = 400), (status = 401), (status = 403)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let with_packages = expand_packages(&opts)?;
    let q = paging::list_query(&opts, filter(&opts)?)?;
    let page = state.app.list_catalogs(&caller, &q).await?;
    let values = paging::project(
        catalog_values(&state, &caller, &page.items, with_packages).await?,
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

/// Count catalogs (`/$count`), honouring `$filter` and `$search`.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/catalogs/$count", tag = "catalogs",
    responses((status = 200, description = "The number, as text/plain")))]
pub async fn count(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, _): OData,
) -> ApiResult<Response> {
    let q = paging::count_query(&opts, filter(&opts)?)?;
    let page = state.app.list_catalogs(&caller, &q).await?;
    Ok(super::count_response(page.count))
}

/// Create a catalog.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/catalogs", tag = "catalogs",
    request_body = CreateCatalog,
    responses((status = 201, body = CatalogDto), (status = 400), (status = 403)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateCatalog>,
) -> ApiResult<Response> {
    let c = state.app.create_catalog(&caller, body.into_new()?).await?;
    let location = format!("{}{}/{}", state.public_url, path(), c.id);
    let mut resp = (
        StatusCode::CREATED,
        entity(&state, CONTEXT, CatalogDto::from(&c), None, PROPERTIES)?,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Get a catalog.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}", tag = "catalogs",
    params(("id" = String, Path), ("$select" = Option<String>, Query)), responses((status = 200, body = CatalogDto), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, _): OData,
) -> ApiResult<Json<Value>> {
    let with_packages = expand_packages(&opts)?;
    let id = object_id(&id, "accessPackageCatalog")?;
    let c = state.app.get_catalog(&caller, id).await?;
    let mut v = paging::project(
        catalog_values(&state, &caller, std::slice::from_ref(&c), with_packages).await?,
        opts.select.as_deref(),
        PROPERTIES,
    )?
    .remove(0);
    v["@odata.context"] = serde_json::json!(format!(
        "{}/v1.0/$metadata#{CONTEXT}/$entity",
        state.public_url
    ));
    Ok(Json(v))
}

/// Update a catalog (Graph answers 204).
#[utoipa::path(patch, path = "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}", tag = "catalogs",
    params(("id" = String, Path)), request_body = UpdateCatalog,
    responses((status = 204), (status = 400), (status = 404), (status = 409)))]
pub async fn update(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<UpdateCatalog>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackageCatalog")?;
    state
        .app
        .update_catalog(&caller, id, body.into_patch()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a catalog (not the built-in General catalog, nor one that holds access packages).
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/catalogs/{id}", tag = "catalogs",
    params(("id" = String, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackageCatalog")?;
    state.app.delete_catalog(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
