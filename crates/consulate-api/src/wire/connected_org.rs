//! `connectedOrganization` and `identitySource` on the wire.

use crate::error::ApiError;
use consulate_core::DomainResult;
use consulate_core::connected_org::{
    CLOUD_INSTANCES, ConnectedOrganization, ConnectedOrganizationPatch, ConnectedOrganizationState,
    IdentitySource, SocialIdentitySourceType, normalize_issuer_uri, normalize_tenant_id,
};
use consulate_core::domain_name::DomainName;
use consulate_core::{DomainError, text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An identity source; the `@odata.type` selects the kind. The `#` prefix is optional on input
/// and always present on output.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "@odata.type")]
pub enum IdentitySourceDto {
    #[serde(
        rename = "#microsoft.graph.azureActiveDirectoryTenant",
        alias = "microsoft.graph.azureActiveDirectoryTenant",
        rename_all = "camelCase"
    )]
    AzureActiveDirectoryTenant {
        tenant_id: String,
        #[serde(default)]
        display_name: Option<String>,
    },
    #[serde(
        rename = "#microsoft.graph.crossCloudAzureActiveDirectoryTenant",
        alias = "microsoft.graph.crossCloudAzureActiveDirectoryTenant",
        rename_all = "camelCase"
    )]
    CrossCloudAzureActiveDirectoryTenant {
        tenant_id: String,
        #[serde(default)]
        display_name: Option<String>,
        cloud_instance: String,
    },
    #[serde(
        rename = "#microsoft.graph.domainIdentitySource",
        alias = "microsoft.graph.domainIdentitySource",
        rename_all = "camelCase"
    )]
    DomainIdentitySource {
        domain_name: String,
        #[serde(default)]
        display_name: Option<String>,
    },
    #[serde(
        rename = "#microsoft.graph.externalDomainFederation",
        alias = "microsoft.graph.externalDomainFederation",
        rename_all = "camelCase"
    )]
    ExternalDomainFederation {
        domain_name: String,
        #[serde(default)]
        display_name: Option<String>,
        issuer_uri: String,
    },
    #[serde(
        rename = "#microsoft.graph.socialIdentitySource",
        alias = "microsoft.graph.socialIdentitySource",
        rename_all = "camelCase"
    )]
    SocialIdentitySource {
        display_name: String,
        social_identity_source_type: String,
    },
}

fn name_or(display_name: Option<String>, fallback: &str) -> DomainResult<String> {
    match display_name.filter(|d| !d.trim().is_empty()) {
        Some(d) => text::display_name("identitySources.displayName", &d),
        None => Ok(fallback.to_owned()),
    }
}

impl IdentitySourceDto {
    /// Validates and normalises into the domain type.
    pub fn into_domain(self) -> DomainResult<IdentitySource> {
        Ok(match self {
            Self::AzureActiveDirectoryTenant {
                tenant_id,
                display_name,
            } => {
                let tenant_id = normalize_tenant_id(&tenant_id)?;
                IdentitySource::AzureActiveDirectoryTenant {
                    display_name: name_or(display_name, &tenant_id)?,
                    tenant_id,
                }
            }
            Self::CrossCloudAzureActiveDirectoryTenant {
                tenant_id,
                display_name,
                cloud_instance,
            } => {
                let tenant_id = normalize_tenant_id(&tenant_id)?;
                let cloud = CLOUD_INSTANCES
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(cloud_instance.trim()))
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "cloudInstance",
                            format!(
                                "cloudInstance must be one of {}",
                                CLOUD_INSTANCES.join(", ")
                            ),
                        )
                    })?;
                IdentitySource::CrossCloudAzureActiveDirectoryTenant {
                    display_name: name_or(display_name, &tenant_id)?,
                    tenant_id,
                    cloud_instance: (*cloud).to_owned(),
                }
            }
            Self::DomainIdentitySource {
                domain_name,
                display_name,
            } => {
                let d = DomainName::parse(&domain_name)?;
                IdentitySource::DomainIdentitySource {
                    display_name: name_or(display_name, d.as_str())?,
                    domain_name: d,
                }
            }
            Self::ExternalDomainFederation {
                domain_name,
                display_name,
                issuer_uri,
            } => {
                let d = DomainName::parse(&domain_name)?;
                IdentitySource::ExternalDomainFederation {
                    display_name: name_or(display_name, d.as_str())?,
                    domain_name: d,
                    issuer_uri: normalize_issuer_uri(&issuer_uri)?,
                }
            }
            Self::SocialIdentitySource {
                display_name,
                social_identity_source_type,
            } => IdentitySource::SocialIdentitySource {
                display_name: text::display_name("identitySources.displayName", &display_name)?,
                social_identity_source_type: SocialIdentitySourceType::parse(
                    &social_identity_source_type,
                )?,
            },
        })
    }

    pub fn from_domain(s: &IdentitySource) -> Self {
        match s.clone() {
            IdentitySource::AzureActiveDirectoryTenant {
                tenant_id,
                display_name,
            } => Self::AzureActiveDirectoryTenant {
                tenant_id,
                display_name: Some(display_name),
            },
            IdentitySource::CrossCloudAzureActiveDirectoryTenant {
                tenant_id,
                display_name,
                cloud_instance,
            } => Self::CrossCloudAzureActiveDirectoryTenant {
                tenant_id,
                display_name: Some(display_name),
                cloud_instance,
            },
            IdentitySource::DomainIdentitySource {
                domain_name,
                display_name,
            } => Self::DomainIdentitySource {
                domain_name: domain_name.to_string(),
                display_name: Some(display_name),
            },
            IdentitySource::ExternalDomainFederation {
                domain_name,
                display_name,
                issuer_uri,
            } => Self::ExternalDomainFederation {
                domain_name: domain_name.to_string(),
                display_name: Some(display_name),
                issuer_uri,
            },
            IdentitySource::SocialIdentitySource {
                display_name,
                social_identity_source_type,
            } => Self::SocialIdentitySource {
                display_name,
                social_identity_source_type: social_identity_source_type.as_str().to_owned(),
            },
        }
    }
}

/// A connected organization as returned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedOrganizationDto {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub identity_sources: Vec<IdentitySourceDto>,
    /// `configured` or `proposed`.
    pub state: String,
    pub created_date_time: String,
    pub modified_date_time: String,
}

impl From<&ConnectedOrganization> for ConnectedOrganizationDto {
    fn from(o: &ConnectedOrganization) -> Self {
        ConnectedOrganizationDto {
            id: o.id.to_string(),
            display_name: o.display_name.clone(),
            description: o.description.clone(),
            identity_sources: o
                .identity_sources
                .iter()
                .map(IdentitySourceDto::from_domain)
                .collect(),
            state: o.state.as_str().to_owned(),
            created_date_time: super::timestamp(o.created_date_time),
            modified_date_time: super::timestamp(o.modified_date_time),
        }
    }
}

/// The properties `$select` may name.
pub const PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "identitySources",
    "state",
    "createdDateTime",
    "modifiedDateTime",
];

/// The body of a create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConnectedOrganization {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub identity_sources: Vec<IdentitySourceDto>,
    #[serde(default)]
    pub state: Option<String>,
}

/// The body of a PATCH; absent properties are left unchanged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateConnectedOrganization {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub identity_sources: Option<Vec<IdentitySourceDto>>,
    #[serde(default)]
    pub state: Option<String>,
}

fn check_type(t: &Option<String>) -> Result<(), ApiError> {
    match t.as_deref().map(|s| s.trim_start_matches('#')) {
        None | Some("microsoft.graph.connectedOrganization") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "@odata.type '{other}' is not microsoft.graph.connectedOrganization"
        ))
        .with_target("@odata.type")),
    }
}

impl CreateConnectedOrganization {
    pub fn into_new(
        self,
    ) -> Result<consulate_app::connected_orgs::NewConnectedOrganization, ApiError> {
        check_type(&self.odata_type)?;
        if self.id.is_some() {
            return Err(ApiError::bad_request("id is read-only").with_target("id"));
        }
        let identity_sources = self
            .identity_sources
            .into_iter()
            .map(IdentitySourceDto::into_domain)
            .collect::<DomainResult<Vec<_>>>()?;
        Ok(consulate_app::connected_orgs::NewConnectedOrganization {
            display_name: self.display_name,
            description: self.description,
            identity_sources,
            state: self
                .state
                .map(|s| ConnectedOrganizationState::parse(&s))
                .transpose()?,
        })
    }
}

impl UpdateConnectedOrganization {
    pub fn into_patch(self) -> Result<ConnectedOrganizationPatch, ApiError> {
        check_type(&self.odata_type)?;
        let _ = self.id;
        Ok(ConnectedOrganizationPatch {
            display_name: self.display_name,
            description: self.description,
            identity_sources: self
                .identity_sources
                .map(|v| {
                    v.into_iter()
                        .map(IdentitySourceDto::into_domain)
                        .collect::<DomainResult<Vec<_>>>()
                })
                .transpose()?,
            state: self
                .state
                .map(|s| ConnectedOrganizationState::parse(&s))
                .transpose()?,
        })
    }
}
