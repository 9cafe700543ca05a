//! Consulate's own administration API (not part of Graph): the registry of known tenants and
//! identity providers, and the domain lookup the admin wizard uses. Plus Graph's
//! `/organization` and `/domains` for the tenant itself.

use super::object_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, GraphJson};
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use consulate_app::identity_providers::DomainLookup;
use consulate_core::identity_provider::{KnownIdentityProvider, ProviderKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// A known tenant or federated identity provider.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderDto {
    pub id: String,
    pub display_name: String,
    /// `tenant` or `federation`.
    pub kind: String,
    pub tenant_id: Option<String>,
    pub issuer_uri: Option<String>,
    pub domains: Vec<String>,
    /// A social provider: signs people in as individuals, speaks for no domain.
    pub is_social: bool,
    pub created_date_time: String,
}

impl From<&KnownIdentityProvider> for IdentityProviderDto {
    fn from(p: &KnownIdentityProvider) -> Self {
        let (kind, tenant_id, issuer_uri) = match &p.kind {
            ProviderKind::Tenant { tenant_id } => ("tenant", Some(tenant_id.clone()), None),
            ProviderKind::Federation { issuer_uri } => {
                ("federation", None, Some(issuer_uri.clone()))
            }
        };
        IdentityProviderDto {
            id: p.id.to_string(),
            display_name: p.display_name.clone(),
            kind: kind.into(),
            tenant_id,
            issuer_uri,
            domains: p.domains.iter().map(|d| d.to_string()).collect(),
            is_social: p.social,
            created_date_time: crate::wire::timestamp(p.created_date_time),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIdentityProvider {
    pub display_name: String,
    /// `tenant` (needs tenantId) or `federation` (needs issuerUri).
    pub kind: String,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub issuer_uri: Option<String>,
    pub domains: Vec<String>,
    /// A social provider (consumer accounts): its domains route sign-in there, and its users
    /// match no connected organization.
    #[serde(default)]
    pub is_social: bool,
}

/// List known identity providers.
#[utoipa::path(get, path = "/admin/v1/identityProviders", tag = "admin", responses((status = 200, body = Vec<IdentityProviderDto>)))]
pub async fn list_providers(
    State(state): State<ApiState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Value>> {
    let list = state.app.list_identity_providers(&caller).await?;
    Ok(Json(
        json!({ "value": list.iter().map(IdentityProviderDto::from).collect::<Vec<_>>() }),
    ))
}

/// Register a known tenant or federated identity provider with its domains.
#[utoipa::path(post, path = "/admin/v1/identityProviders", tag = "admin", request_body = CreateIdentityProvider,
    responses((status = 201, body = IdentityProviderDto), (status = 400), (status = 409)))]
pub async fn create_provider(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    GraphJson(body): GraphJson<CreateIdentityProvider>,
) -> ApiResult<(StatusCode, Json<IdentityProviderDto>)> {
    let kind = match body.kind.to_ascii_lowercase().as_str() {
        "tenant" => ProviderKind::Tenant {
            tenant_id: body.tenant_id.ok_or_else(|| {
                ApiError::bad_request("tenantId is required for kind tenant")
                    .with_target("tenantId")
            })?,
        },
        "federation" => ProviderKind::Federation {
            issuer_uri: body.issuer_uri.ok_or_else(|| {
                ApiError::bad_request("issuerUri is required for kind federation")
                    .with_target("issuerUri")
            })?,
        },
        _ => {
            return Err(
                ApiError::bad_request("kind must be tenant or federation").with_target("kind")
            );
        }
    };
    let p = state
        .app
        .add_identity_provider(
            &caller,
            &body.display_name,
            kind,
            &body.domains,
            body.is_social,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(IdentityProviderDto::from(&p))))
}

/// Remove a known identity provider.
#[utoipa::path(delete, path = "/admin/v1/identityProviders/{id}", tag = "admin", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_provider(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .app
        .delete_identity_provider(&caller, object_id(&id, "identityProvider")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    pub domain: String,
}

/// What authentication type a domain would get as a connected organization.
#[utoipa::path(get, path = "/admin/v1/domainLookup", tag = "admin", params(("domain" = String, Query)),
    responses((status = 200, description = "{domain, authenticationType: tenant|federation|social|oneTimePasscode|thisTenant, …}"), (status = 400)))]
pub async fn domain_lookup(
    State(state): State<ApiState>,
    Auth(caller): Auth,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<Value>> {
    let (domain, found) = state.app.lookup_domain(&caller, &q.domain).await?;
    Ok(Json(match found {
        DomainLookup::Tenant {
            tenant_id,
            display_name,
        } => {
            json!({ "domain": domain.as_str(), "authenticationType": "tenant", "tenantId": tenant_id, "displayName": display_name })
        }
        DomainLookup::Federation {
            issuer_uri,
            display_name,
        } => {
            json!({ "domain": domain.as_str(), "authenticationType": "federation", "issuerUri": issuer_uri, "displayName": display_name })
        }
        DomainLookup::Social {
            issuer_uri,
            display_name,
        } => {
            json!({ "domain": domain.as_str(), "authenticationType": "social", "issuerUri": issuer_uri, "displayName": display_name })
        }
        DomainLookup::OneTimePasscode => {
            json!({ "domain": domain.as_str(), "authenticationType": "oneTimePasscode", "displayName": domain.as_str() })
        }
        DomainLookup::ThisTenant => {
            json!({ "domain": domain.as_str(), "authenticationType": "thisTenant" })
        }
    }))
}

/// This tenant (Graph `/organization`).
#[utoipa::path(get, path = "/v1.0/organization", tag = "directory", responses((status = 200, description = "organization collection with verifiedDomains")))]
pub async fn organization(
    State(state): State<ApiState>,
    Auth(caller): Auth,
) -> ApiResult<Json<Value>> {
    let tenant = state
        .app
        .get_tenant(&caller)
        .await?
        .into_iter()
        .map(|t| crate::wire::directory::OrganizationDto::from(&t))
        .collect::<Vec<_>>();
    Ok(Json(
        json!({ "@odata.context": format!("{}/v1.0/$metadata#organization", state.public_url), "value": tenant }),
    ))
}

/// This tenant's verified domains (Graph `/domains`).
#[utoipa::path(get, path = "/v1.0/domains", tag = "directory", responses((status = 200, description = "domain collection")))]
pub async fn domains(State(state): State<ApiState>, Auth(caller): Auth) -> ApiResult<Json<Value>> {
    let value: Vec<Value> = state
        .app
        .get_tenant(&caller)
        .await?
        .map(|t| t.verified_domains.iter().enumerate().map(|(i, d)| json!({ "id": d.as_str(), "isDefault": i == 0, "isVerified": true, "authenticationType": "Managed" })).collect())
        .unwrap_or_default();
    Ok(Json(
        json!({ "@odata.context": format!("{}/v1.0/$metadata#domains", state.public_url), "value": value }),
    ))
}
