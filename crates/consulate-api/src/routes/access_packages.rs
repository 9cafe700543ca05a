//! EM `/accessPackages`: CRUD, the resource roles they grant, incompatibilities.

use super::{EM, entity, object_id, to_values};
use crate::bind::{self, AccessPackages};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson, OData};
use crate::paging;
use crate::state::ApiState;
use crate::wire::ReferenceBody;
use crate::wire::access_package::{
    AccessPackageDto, CreateAccessPackage, CreateRoleScope, PROPERTIES, UpdateAccessPackage,
    role_scope_json,
};
use crate::wire::catalog::CatalogDto;
use crate::wire::directory::GroupDto;
use crate::wire::policy::policy_json;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consulate_core::access::Caller;
use consulate_core::access_package::AccessPackage;
use consulate_odata::QueryOptions;
use serde_json::{Value, json};
use uuid::Uuid;

const CONTEXT: &str = "identityGovernance/entitlementManagement/accessPackages";

fn path() -> String {
    format!("{EM}/accessPackages")
}

/// What `$expand` asks for on packages.
struct Expand {
    catalog: bool,
    policies: bool,
    role_scopes: Option<(bool, bool)>,
}

fn expand_of(opts: &QueryOptions) -> ApiResult<Expand> {
    let mut e = Expand {
        catalog: false,
        policies: false,
        role_scopes: None,
    };
    for item in opts.expand.as_deref().unwrap_or_default() {
        match item.path.join("/").as_str() {
            "catalog" => e.catalog = true,
            "assignmentPolicies" => e.policies = true,
            "resourceRoleScopes" => {
                let inner = item.options.expand.as_deref().unwrap_or_default();
                let mut role = false;
                let mut scope = false;
                for i in inner {
                    match i.path.join("/").as_str() {
                        "role" => role = true,
                        "scope" => scope = true,
                        other => {
                            return Err(ApiError::bad_request(format!(
                                "'{other}' cannot be expanded on accessPackageResourceRoleScope; expandable: role, scope"
                            ))
                            .with_target("$expand"));
                        }
                    }
                }
                e.role_scopes = Some((role, scope));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "'{other}' cannot be expanded on accessPackage; expandable: catalog, assignmentPolicies, resourceRoleScopes"
                ))
                .with_target("$expand"));
            }
        }
    }
    Ok(e)
}

/// Packages as JSON values with what `$expand` asked for.
async fn with_expansions(
    state: &ApiState,
    caller: &Caller,
    packages: &[AccessPackage],
    e: &Expand,
) -> ApiResult<Vec<Value>> {
    let mut values = to_values(packages.iter().map(AccessPackageDto::from));
    if e.catalog {
        for (v, p) in values.iter_mut().zip(packages) {
            let c = state.app.get_catalog(caller, p.catalog_id).await?;
            v["catalog"] = serde_json::to_value(CatalogDto::from(&c)).expect("serialises");
        }
    }
    if e.policies {
        let policies = state.app.policies_of_packages(caller, packages).await?;
        for (v, p) in values.iter_mut().zip(packages) {
            v["assignmentPolicies"] = Value::Array(
                policies
                    .iter()
                    .filter(|x| x.access_package_id == p.id)
                    .map(policy_json)
                    .collect(),
            );
        }
    }
    if let Some((role, scope)) = e.role_scopes {
        for (v, p) in values.iter_mut().zip(packages) {
            let details = state.app.role_scopes(caller, p.id).await?;
            v["resourceRoleScopes"] = Value::Array(
                details
                    .iter()
                    .map(|d| role_scope_json(d, role, scope))
                    .collect(),
            );
        }
    }
    Ok(values)
}

/// List access packages.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages", tag = "accessPackages",
    params(("$filter" = Option<String>, Query, description = "id, displayName, description, isHidden, catalog/id, createdDateTime, modifiedDateTime"),
           ("$expand" = Option<String>, Query, description = "catalog, assignmentPolicies, resourceRoleScopes($expand=role,scope)"),
           ("$select" = Option<String>, Query), ("$orderby" = Option<String>, Query), ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query),
           ("$search" = Option<String>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<AccessPackageDto>), (status = 400), (status = 403)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let e = expand_of(&opts)?;
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<AccessPackages>)
        .transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state.app.list_access_packages(&caller, &q).await?;
    let values = paging::project(
        with_expansions(&state, &caller, &page.items, &e).await?,
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

/// Count access packages (`/$count`).
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/$count", tag = "accessPackages",
    responses((status = 200, description = "The number, as text/plain")))]
pub async fn count(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, _): OData,
) -> ApiResult<Response> {
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<AccessPackages>)
        .transpose()?;
    let q = paging::count_query(&opts, filter)?;
    let page = state.app.list_access_packages(&caller, &q).await?;
    Ok(super::count_response(page.count))
}

/// Create an access package in a catalog.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages", tag = "accessPackages",
    request_body = CreateAccessPackage, responses((status = 201, body = AccessPackageDto), (status = 400), (status = 404)))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateAccessPackage>,
) -> ApiResult<Response> {
    let p = state
        .app
        .create_access_package(&caller, body.into_new()?)
        .await?;
    let mut resp = (
        StatusCode::CREATED,
        entity(
            &state,
            CONTEXT,
            AccessPackageDto::from(&p),
            None,
            PROPERTIES,
        )?,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}{}/{}", state.public_url, path(), p.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Get an access package.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}", tag = "accessPackages",
    params(("id" = String, Path), ("$select" = Option<String>, Query), ("$expand" = Option<String>, Query)),
    responses((status = 200, body = AccessPackageDto), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    if let Some(args) = id.strip_prefix("filterByCurrentUser(") {
        return filter_by_current_user(&state, &caller, args, &opts, &pairs).await;
    }
    let id = object_id(&id, "accessPackage")?;
    let e = expand_of(&opts)?;
    let p = state.app.get_access_package(&caller, id).await?;
    let mut v = paging::project(
        with_expansions(&state, &caller, std::slice::from_ref(&p), &e).await?,
        opts.select.as_deref(),
        PROPERTIES,
    )?
    .remove(0);
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#{CONTEXT}/$entity",
        state.public_url
    ));
    Ok(Json(v))
}

/// `filterByCurrentUser(on='allowedRequestor')`: the packages the signed-in user may request.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/filterByCurrentUser(on='allowedRequestor')", tag = "accessPackages",
    params(("$select" = Option<String>, Query)),
    responses((status = 200, body = crate::wire::Collection<AccessPackageDto>), (status = 400, description = "Not a signed-in user, or another `on` value")))]
/// (Served by [`get`]: the call shares the `{id}` segment; this item only documents it.)
pub async fn filter_by_current_user_openapi() {}

async fn filter_by_current_user(
    state: &ApiState,
    caller: &Caller,
    args: &str,
    opts: &QueryOptions,
    pairs: &[(String, String)],
) -> ApiResult<Json<Value>> {
    let on = args
        .strip_suffix(')')
        .and_then(|a| a.strip_prefix("on="))
        .map(|v| v.trim_matches('\''));
    if on != Some("allowedRequestor") {
        return Err(ApiError::bad_request(
            "filterByCurrentUser on accessPackages takes on='allowedRequestor'",
        )
        .with_target("on"));
    }
    if opts.filter.is_some() || opts.search.is_some() || opts.orderby.is_some() {
        return Err(ApiError::bad_request(
            "filterByCurrentUser takes $select, $top and $skiptoken only",
        ));
    }
    let q = paging::list_query::<consulate_core::filter::AccessPackageField>(opts, None)?;
    let page = state
        .app
        .requestable_packages(caller, q.after.map(|c| (c.key, c.id)), q.top as usize)
        .await?;
    let next = page
        .next
        .map(|(key, id)| paging::encode_cursor(&consulate_store::list::Cursor { key, id }));
    let packages = page.packages;
    let values = paging::project(
        to_values(packages.iter().map(AccessPackageDto::from)),
        opts.select.as_deref(),
        PROPERTIES,
    )?;
    Ok(super::collection(
        state,
        &format!("{}/filterByCurrentUser(on='allowedRequestor')", path()),
        CONTEXT,
        values,
        next,
        None,
        pairs,
    ))
}

/// `getApplicablePolicyRequirements`: the policies under which the signed-in user may request
/// this package, with what each requires.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/getApplicablePolicyRequirements", tag = "accessPackages",
    params(("id" = String, Path)), responses((status = 200, description = "accessPackageAssignmentRequestRequirements collection"), (status = 400), (status = 404)))]
pub async fn action(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    if action != "getApplicablePolicyRequirements" {
        return Err(ApiError::not_found(format!(
            "'{action}' is not an action of accessPackage"
        )));
    }
    let id = object_id(&id, "accessPackage")?;
    let (allowed, _) = state.app.applicable_policies(&caller, id).await?;
    let value: Vec<Value> = allowed
        .iter()
        .map(|p| {
            let mut schedule = json!({"startDateTime": null, "recurrence": null});
            schedule["expiration"] = crate::wire::policy::policy_json(p)["expiration"].clone();
            json!({
                "policyId": p.id.to_string(),
                "policyDisplayName": p.display_name,
                "policyDescription": p.description,
                "allowCustomAssignmentSchedule": p.requestor_settings.allow_custom_assignment_schedule,
                "isApprovalRequiredForAdd": p.approval_settings.is_approval_required_for_add,
                "isApprovalRequiredForUpdate": p.approval_settings.is_approval_required_for_update,
                "isRequestorJustificationRequired": p.approval_settings.is_requestor_justification_required,
                "schedule": schedule,
                "questions": p.questions.iter().map(crate::wire::policy::question_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(microsoft.graph.accessPackageAssignmentRequestRequirements)", state.public_url),
        "value": value,
    })))
}

/// Update an access package (204).
#[utoipa::path(patch, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}", tag = "accessPackages",
    params(("id" = String, Path)), request_body = UpdateAccessPackage, responses((status = 204), (status = 400), (status = 404)))]
pub async fn update(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<UpdateAccessPackage>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackage")?;
    state
        .app
        .update_access_package(&caller, id, body.into_patch()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete an access package (409 while it has policies).
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}", tag = "accessPackages",
    params(("id" = String, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackage")?;
    state.app.delete_access_package(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The resource roles a package grants (`$expand=role,scope`).
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/resourceRoleScopes", tag = "accessPackages",
    params(("id" = String, Path), ("$expand" = Option<String>, Query, description = "role, scope")), responses((status = 200), (status = 404)))]
pub async fn list_role_scopes(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, _): OData,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "accessPackage")?;
    let expand = super::expansions(&opts, &["role", "scope"], "accessPackageResourceRoleScope")?;
    let details = state.app.role_scopes(&caller, id).await?;
    let (role, scope) = (
        expand.iter().any(|e| e == "role"),
        expand.iter().any(|e| e == "scope"),
    );
    Ok(super::collection(
        &state,
        &format!("{}/{id}/resourceRoleScopes", path()),
        &format!("{CONTEXT}('{id}')/resourceRoleScopes"),
        details
            .iter()
            .map(|d| role_scope_json(d, role, scope))
            .collect(),
        None,
        None,
        &[],
    ))
}

/// Add a resource role of the package's catalog to the package.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/resourceRoleScopes", tag = "accessPackages",
    params(("id" = String, Path)), request_body = CreateRoleScope, responses((status = 201), (status = 400), (status = 404), (status = 409)))]
pub async fn add_role_scope(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<CreateRoleScope>,
) -> ApiResult<Response> {
    let id = object_id(&id, "accessPackage")?;
    let (role, scope) = body.into_selectors()?;
    let d = state.app.add_role_scope(&caller, id, role, scope).await?;
    let mut v = role_scope_json(&d, true, true);
    v["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#{CONTEXT}('{id}')/resourceRoleScopes/$entity",
        state.public_url
    ));
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// Remove a resource role from the package.
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/resourceRoleScopes/{roleScopeId}", tag = "accessPackages",
    params(("id" = String, Path), ("roleScopeId" = String, Path, description = "{roleId}_{scopeId}")), responses((status = 204), (status = 404)))]
pub async fn remove_role_scope(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, rs)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackage")?;
    state.app.remove_role_scope(&caller, id, &rs).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Incompatible packages, the packages incompatible with this one, or incompatible groups.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/{relation}", tag = "accessPackages",
    params(("id" = String, Path), ("relation" = String, Path, description = "incompatibleAccessPackages, accessPackagesIncompatibleWith, incompatibleGroups or assignmentPolicies")),
    responses((status = 200), (status = 404)))]
pub async fn list_related(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, relation)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "accessPackage")?;
    let values: Vec<Value> = match relation.as_str() {
        "incompatibleAccessPackages" | "accessPackagesIncompatibleWith" => {
            let reverse = relation == "accessPackagesIncompatibleWith";
            to_values(
                state
                    .app
                    .incompatible_packages(&caller, id, reverse)
                    .await?
                    .iter()
                    .map(AccessPackageDto::from),
            )
        }
        "incompatibleGroups" => to_values(
            state
                .app
                .incompatible_groups(&caller, id)
                .await?
                .iter()
                .map(GroupDto::from),
        ),
        "assignmentPolicies" => {
            let p = state.app.get_access_package(&caller, id).await?;
            state
                .app
                .policies_of_packages(&caller, &[p])
                .await?
                .iter()
                .map(policy_json)
                .collect()
        }
        other => {
            return Err(ApiError::not_found(format!(
                "'{other}' is not a navigation property of accessPackage"
            )));
        }
    };
    Ok(super::collection(
        &state,
        &format!("{}/{id}/{relation}", path()),
        &format!("{CONTEXT}('{id}')/{relation}"),
        values,
        None,
        None,
        &[],
    ))
}

fn relation_kind(relation: &str) -> ApiResult<bool> {
    match relation {
        "incompatibleAccessPackages" => Ok(false),
        "incompatibleGroups" => Ok(true),
        other => Err(ApiError::not_found(format!(
            "'{other}' has no $ref on accessPackage"
        ))),
    }
}

/// The id a `$ref` body points at, checking the collection matches.
fn reference_id(odata_id: &str, group: bool) -> ApiResult<Uuid> {
    let path = odata_id.split(['?', '#']).next().unwrap_or("");
    let mut segs = path.trim_end_matches('/').rsplit('/');
    let (id, coll) = (segs.next().unwrap_or(""), segs.next().unwrap_or(""));
    let expected = if group { "groups" } else { "accessPackages" };
    if odata_id.len() > 2048 || !coll.eq_ignore_ascii_case(expected) {
        return Err(
            ApiError::bad_request(format!("@odata.id must point at …/{expected}/{{id}}"))
                .with_target("@odata.id"),
        );
    }
    Uuid::parse_str(id.trim_start_matches("('").trim_end_matches("')")).map_err(|_| {
        ApiError::bad_request(format!("@odata.id must point at …/{expected}/{{id}}"))
            .with_target("@odata.id")
    })
}

/// Add an incompatible access package or group.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/{relation}/$ref", tag = "accessPackages",
    params(("id" = String, Path), ("relation" = String, Path, description = "incompatibleAccessPackages or incompatibleGroups")),
    request_body = ReferenceBody, responses((status = 204), (status = 400), (status = 404)))]
pub async fn add_reference(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, relation)): Path<(String, String)>,
    GraphJson(body): GraphJson<ReferenceBody>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackage")?;
    let group = relation_kind(&relation)?;
    let other = reference_id(&body.odata_id, group)?;
    state
        .app
        .change_incompatibility(&caller, id, other, group, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an incompatible access package or group.
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/accessPackages/{id}/{relation}/{otherId}/$ref", tag = "accessPackages",
    params(("id" = String, Path), ("relation" = String, Path), ("otherId" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn remove_reference(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, relation, other)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "accessPackage")?;
    let group = relation_kind(&relation)?;
    let other = object_id(&other, if group { "group" } else { "accessPackage" })?;
    state
        .app
        .change_incompatibility(&caller, id, other, group, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
