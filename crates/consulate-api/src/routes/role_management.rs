//! `/v1.0/roleManagement/entitlementManagement`: the entitlement-management role definitions
//! and their assignments (catalog creator; catalog owner, reader, access package manager and
//! assignment manager per catalog).

use super::object_id;
use crate::bind::{self, RoleAssignments};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use consulate_core::catalog_roles::{CatalogRole, CatalogRoleGrant, RoleScope};
use consulate_store::catalog_roles::RoleAssignment;
use consulate_store::list::Order;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

const BASE: &str = "/v1.0/roleManagement/entitlementManagement";

fn definition_json(r: CatalogRole) -> Value {
    json!({
        "id": r.definition_id(),
        "templateId": r.definition_id(),
        "displayName": r.display_name(),
        "description": r.description(),
        "isBuiltIn": true,
        "isEnabled": true,
        "version": "1",
        "rolePermissions": [],
    })
}

fn assignment_json(a: &RoleAssignment) -> Value {
    json!({
        "id": a.id.to_string(),
        "principalId": a.principal_id.to_string(),
        "roleDefinitionId": a.grant.role.definition_id(),
        "directoryScopeId": "/",
        "appScopeId": a.grant.scope.app_scope_id(),
    })
}

/// The entitlement-management role definitions.
#[utoipa::path(get, path = "/v1.0/roleManagement/entitlementManagement/roleDefinitions", tag = "roleManagement",
    responses((status = 200, description = "unifiedRoleDefinition collection")))]
pub async fn list_definitions(State(state): State<ApiState>, Auth(_caller): Auth) -> Json<Value> {
    super::collection(
        &state,
        &format!("{BASE}/roleDefinitions"),
        "roleManagement/entitlementManagement/roleDefinitions",
        CatalogRole::ALL.into_iter().map(definition_json).collect(),
        None,
        None,
        &[],
    )
}

/// One role definition.
#[utoipa::path(get, path = "/v1.0/roleManagement/entitlementManagement/roleDefinitions/{id}", tag = "roleManagement",
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn get_definition(Auth(_caller): Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let r = CatalogRole::parse_definition_id(&id).map_err(|_| {
        ApiError::not_found(format!(
            "unifiedRoleDefinition '{}' was not found",
            id.chars().take(64).collect::<String>()
        ))
    })?;
    Ok(Json(definition_json(r)))
}

/// Role assignments (creation order).
#[utoipa::path(get, path = "/v1.0/roleManagement/entitlementManagement/roleAssignments", tag = "roleManagement",
    params(("$filter" = Option<String>, Query, description = "id, principalId, roleDefinitionId, appScopeId"), ("$top" = Option<u32>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200), (status = 400), (status = 403)))]
pub async fn list_assignments(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    super::expansions(&opts, &[], "unifiedRoleAssignment")?;
    if opts.search.is_some() || opts.orderby.is_some() {
        return Err(ApiError::bad_request(
            "$search and $orderby are not supported on roleAssignments",
        ));
    }
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<RoleAssignments>)
        .transpose()?;
    let mut q = paging::list_query(&opts, filter)?;
    q.order = Order::Created;
    let page = state.app.list_role_assignments(&caller, &q).await?;
    Ok(super::collection(
        &state,
        &format!("{BASE}/roleAssignments"),
        "roleManagement/entitlementManagement/roleAssignments",
        page.items.iter().map(assignment_json).collect(),
        page.next.as_ref().map(paging::encode_cursor),
        page.count,
        &pairs,
    ))
}

/// The body of a role assignment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoleAssignment {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub principal_id: String,
    pub role_definition_id: String,
    /// `/AccessPackageCatalog/{catalogId}` for catalog roles, `/` for catalog creators.
    #[serde(default)]
    pub app_scope_id: Option<String>,
    /// Only `/` (the tenant) is meaningful here.
    #[serde(default)]
    pub directory_scope_id: Option<String>,
}

/// Assign an entitlement-management role.
#[utoipa::path(post, path = "/v1.0/roleManagement/entitlementManagement/roleAssignments", tag = "roleManagement",
    request_body = CreateRoleAssignment, responses((status = 201), (status = 400), (status = 403), (status = 409)))]
pub async fn create_assignment(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateRoleAssignment>,
) -> ApiResult<Response> {
    if body.directory_scope_id.as_deref().is_some_and(|d| d != "/") {
        return Err(
            ApiError::bad_request("directoryScopeId must be /").with_target("directoryScopeId")
        );
    }
    let principal = Uuid::parse_str(body.principal_id.trim()).map_err(|_| {
        ApiError::bad_request("principalId is not a GUID").with_target("principalId")
    })?;
    let grant = CatalogRoleGrant {
        role: CatalogRole::parse_definition_id(&body.role_definition_id)?,
        scope: RoleScope::parse(body.app_scope_id.as_deref().unwrap_or("/"))?,
    };
    let a = state
        .app
        .create_role_assignment(&caller, principal, grant)
        .await?;
    let mut v = assignment_json(&a);
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#roleManagement/entitlementManagement/roleAssignments/$entity",
        state.public_url
    ));
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// One role assignment.
#[utoipa::path(get, path = "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}", tag = "roleManagement",
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
pub async fn get_assignment(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "unifiedRoleAssignment")?;
    Ok(Json(assignment_json(
        &state.app.get_role_assignment(&caller, id).await?,
    )))
}

/// Remove a role assignment.
#[utoipa::path(delete, path = "/v1.0/roleManagement/entitlementManagement/roleAssignments/{id}", tag = "roleManagement",
    params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_assignment(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "unifiedRoleAssignment")?;
    state.app.delete_role_assignment(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
