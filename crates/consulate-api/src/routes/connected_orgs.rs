//! `/identityGovernance/entitlementManagement/connectedOrganizations` and its sponsors.

use super::{EM, collection, entity, object_id, page_response, parse_reference};
use crate::bind::{self, Organizations};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson, OData, decode_query};
use crate::paging;
use crate::state::ApiState;
use crate::wire::ReferenceBody;
use crate::wire::connected_org::{
    ConnectedOrganizationDto, CreateConnectedOrganization, PROPERTIES, UpdateConnectedOrganization,
};
use crate::wire::directory::{GroupDto, UserDto};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consulate_app::connected_orgs::Sponsor;
use consulate_core::connected_org::SponsorKind;
use serde_json::{Value, json};

const CONTEXT: &str = "identityGovernance/entitlementManagement/connectedOrganizations";

fn path() -> String {
    format!("{EM}/connectedOrganizations")
}

/// List connected organizations.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations", tag = "connectedOrganizations",
    params(("$filter" = Option<String>, Query, description = "displayName eq, startswith/contains(displayName), identitySources/any(…)"),
           ("$select" = Option<String>, Query), ("$orderby" = Option<String>, Query, description = "displayName [asc|desc]"),
           ("$top" = Option<u32>, Query), ("$count" = Option<bool>, Query), ("$search" = Option<String>, Query, description = "display name contains (case-insensitive)"),
           ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, description = "A page of connected organizations", body = crate::wire::Collection<ConnectedOrganizationDto>), (status = 400), (status = 401), (status = 403)))]
pub async fn list(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<Organizations>)
        .transpose()?;
    let q = paging::list_query(&opts, filter)?;
    let page = state.app.list_connected_organizations(&caller, &q).await?;
    page_response(
        &state,
        &super::Listing {
            path: &path(),
            context: CONTEXT,
            properties: PROPERTIES,
        },
        &page,
        |o| ConnectedOrganizationDto::from(o),
        opts.select.as_deref(),
        &pairs,
    )
}

/// Count connected organizations (`/$count`), honouring `$filter` and `$search`.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/$count", tag = "connectedOrganizations",
    responses((status = 200, description = "The number, as text/plain")))]
pub async fn count(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    OData(opts, _): OData,
) -> ApiResult<Response> {
    let filter = opts
        .filter
        .as_ref()
        .map(bind::bind::<Organizations>)
        .transpose()?;
    let q = paging::count_query(&opts, filter)?;
    let page = state.app.list_connected_organizations(&caller, &q).await?;
    Ok(super::count_response(page.count))
}

/// Create a connected organization.
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations", tag = "connectedOrganizations",
    request_body = CreateConnectedOrganization,
    responses((status = 201, body = ConnectedOrganizationDto), (status = 400), (status = 409, description = "A domain or tenant already belongs to another connected organization")))]
pub async fn create(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateConnectedOrganization>,
) -> ApiResult<Response> {
    let org = state
        .app
        .create_connected_organization(&caller, body.into_new()?)
        .await?;
    let location = format!("{}{}/{}", state.public_url, path(), org.id);
    let mut resp = (
        StatusCode::CREATED,
        entity(
            &state,
            CONTEXT,
            ConnectedOrganizationDto::from(&org),
            None,
            PROPERTIES,
        )?,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Get a connected organization.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}", tag = "connectedOrganizations",
    params(("id" = String, Path), ("$select" = Option<String>, Query)), responses((status = 200, body = ConnectedOrganizationDto), (status = 404)))]
pub async fn get(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    OData(opts, _): OData,
) -> ApiResult<Json<Value>> {
    let id = object_id(&id, "connectedOrganization")?;
    let org = state.app.get_connected_organization(&caller, id).await?;
    entity(
        &state,
        CONTEXT,
        ConnectedOrganizationDto::from(&org),
        opts.select.as_deref(),
        PROPERTIES,
    )
}

/// Update a connected organization (Graph documents 202 with the object).
#[utoipa::path(patch, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}", tag = "connectedOrganizations",
    params(("id" = String, Path)), request_body = UpdateConnectedOrganization,
    responses((status = 202, body = ConnectedOrganizationDto), (status = 400), (status = 404), (status = 409)))]
pub async fn update(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    GraphJson(body): GraphJson<UpdateConnectedOrganization>,
) -> ApiResult<Response> {
    let id = object_id(&id, "connectedOrganization")?;
    let org = state
        .app
        .update_connected_organization(&caller, id, body.into_patch()?)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        entity(
            &state,
            CONTEXT,
            ConnectedOrganizationDto::from(&org),
            None,
            PROPERTIES,
        )?,
    )
        .into_response())
}

/// Delete a connected organization.
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}", tag = "connectedOrganizations",
    params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = object_id(&id, "connectedOrganization")?;
    state.app.delete_connected_organization(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn kind_of(segment: &str) -> ApiResult<SponsorKind> {
    match segment {
        "internalSponsors" => Ok(SponsorKind::Internal),
        "externalSponsors" => Ok(SponsorKind::External),
        _ => Err(ApiError::not_found(format!(
            "'{segment}' is not a navigation property of connectedOrganization"
        ))),
    }
}

fn sponsor_value(s: &Sponsor) -> Value {
    match s {
        Sponsor::User(u) => serde_json::to_value(UserDto::from(u)).expect("serialises"),
        Sponsor::Group(g) => serde_json::to_value(GroupDto::from(g)).expect("serialises"),
    }
}

fn sponsor_url(state: &ApiState, s: &Sponsor) -> String {
    match s {
        Sponsor::User(u) => format!("{}/v1.0/users/{}", state.public_url, u.id),
        Sponsor::Group(g) => format!("{}/v1.0/groups/{}", state.public_url, g.id),
    }
}

/// List internal or external sponsors (users and groups).
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}", tag = "connectedOrganizations",
    params(("id" = String, Path), ("sponsors" = String, Path, description = "internalSponsors or externalSponsors"), ("$top" = Option<u32>, Query), ("$skiptoken" = Option<String>, Query)),
    responses((status = 200, description = "directoryObject collection"), (status = 404)))]
pub async fn list_sponsors(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, seg)): Path<(String, String)>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let (id, sponsors, token) = sponsor_page(&state, &caller, &id, &seg, &opts).await?;
    let values = paging::project(
        sponsors.iter().map(sponsor_value).collect(),
        opts.select.as_deref(),
        crate::wire::directory::USER_PROPERTIES,
    )?;
    Ok(collection(
        &state,
        &format!("{}/{id}/{seg}", path()),
        "directoryObjects",
        values,
        token,
        None,
        &pairs,
    ))
}

/// List sponsor references (`$ref`): the URLs of the sponsors.
#[utoipa::path(get, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/$ref", tag = "connectedOrganizations",
    params(("id" = String, Path), ("sponsors" = String, Path)), responses((status = 200, description = "StringCollectionResponse of URLs")))]
pub async fn list_sponsor_refs(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, seg)): Path<(String, String)>,
    OData(opts, pairs): OData,
) -> ApiResult<Json<Value>> {
    let (id, sponsors, token) = sponsor_page(&state, &caller, &id, &seg, &opts).await?;
    let values = sponsors
        .iter()
        .map(|s| json!(sponsor_url(&state, s)))
        .collect();
    Ok(collection(
        &state,
        &format!("{}/{id}/{seg}/$ref", path()),
        "Collection(Edm.String)",
        values,
        token,
        None,
        &pairs,
    ))
}

/// One page of an organization's sponsors, with the `$skiptoken` of the next page.
async fn sponsor_page(
    state: &ApiState,
    caller: &consulate_core::access::Caller,
    id: &str,
    segment: &str,
    opts: &consulate_odata::QueryOptions,
) -> ApiResult<(uuid::Uuid, Vec<Sponsor>, Option<String>)> {
    let kind = kind_of(segment)?;
    let id = object_id(id, "connectedOrganization")?;
    let after = opts
        .skiptoken
        .as_deref()
        .map(|t| paging::decode_cursor(t).map(|c| c.id))
        .transpose()?;
    let top = opts.top.unwrap_or(paging::DEFAULT_PAGE_SIZE);
    let (sponsors, next) = state
        .app
        .list_sponsors(caller, id, kind, top, after.as_deref())
        .await?;
    let token = next.map(|id| {
        paging::encode_cursor(&consulate_store::list::Cursor {
            key: String::new(),
            id,
        })
    });
    Ok((id, sponsors, token))
}

/// Add a sponsor: body `{"@odata.id": "https://…/v1.0/users/{id}"}` (or a group).
#[utoipa::path(post, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/$ref", tag = "connectedOrganizations",
    params(("id" = String, Path), ("sponsors" = String, Path)), request_body = ReferenceBody,
    responses((status = 204), (status = 400, description = "Not a member (internal) or guest (external)"), (status = 404)))]
pub async fn add_sponsor(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, seg)): Path<(String, String)>,
    GraphJson(body): GraphJson<ReferenceBody>,
) -> ApiResult<StatusCode> {
    let kind = kind_of(&seg)?;
    let id = object_id(&id, "connectedOrganization")?;
    let (ref_kind, sponsor) = parse_reference(&body.odata_id)?;
    state
        .app
        .add_sponsor(&caller, id, kind, ref_kind, sponsor)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a sponsor: `DELETE …/{sponsors}/{sponsorId}/$ref`.
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/{sponsorId}/$ref", tag = "connectedOrganizations",
    params(("id" = String, Path), ("sponsors" = String, Path), ("sponsorId" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn remove_sponsor(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, seg, sponsor)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let kind = kind_of(&seg)?;
    let id = object_id(&id, "connectedOrganization")?;
    let sponsor = object_id(&sponsor, "sponsor")?;
    state.app.remove_sponsor(&caller, id, kind, sponsor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a sponsor by reference: `DELETE …/{sponsors}/$ref?@id={url}`.
#[utoipa::path(delete, path = "/v1.0/identityGovernance/entitlementManagement/connectedOrganizations/{id}/{sponsors}/$ref", tag = "connectedOrganizations",
    params(("id" = String, Path), ("sponsors" = String, Path), ("@id" = String, Query, description = "URL of the user or group")), responses((status = 204), (status = 400), (status = 404)))]
pub async fn remove_sponsor_by_ref(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path((id, seg)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    _h: HeaderMap,
) -> ApiResult<StatusCode> {
    let kind = kind_of(&seg)?;
    let id = object_id(&id, "connectedOrganization")?;
    let pairs = decode_query(raw.as_deref().unwrap_or(""))?;
    let target = pairs
        .iter()
        .find(|(k, _)| k == "@id" || k == "$id")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| {
            ApiError::bad_request("the @id query parameter naming the sponsor is required")
                .with_target("@id")
        })?;
    let (_, sponsor) = parse_reference(&target)?;
    state.app.remove_sponsor(&caller, id, kind, sponsor).await?;
    Ok(StatusCode::NO_CONTENT)
}
