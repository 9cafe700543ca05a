//! Connected organizations: partners whose users may request access, each defined by how its
//! users sign in (its identity sources), with a state (`configured` or `proposed`) and sponsors.

use crate::domain_name::DomainName;
use crate::text;
use crate::{DomainError, DomainResult, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Microsoft's consumer-account (MSA) tenant. Personal accounts carry it as `tid`; it never
/// identifies a partner organization.
pub const CONSUMER_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Whether policies for "all configured connected organizations" apply to this organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConnectedOrganizationState {
    /// Created or approved by an administrator.
    Configured,
    /// Created automatically when an unknown external user was approved; not in scope for
    /// "all configured connected organizations".
    Proposed,
}

impl ConnectedOrganizationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Configured => "configured",
            Self::Proposed => "proposed",
        }
    }
    /// Parses the Graph enum member, case-insensitively.
    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.to_ascii_lowercase().as_str() {
            "configured" => Ok(Self::Configured),
            "proposed" => Ok(Self::Proposed),
            _ => Err(DomainError::invalid(
                "state",
                format!("'{s}' is not a connectedOrganizationState; use configured or proposed"),
            )),
        }
    }
    /// True when policies scoped to "all configured connected organizations" include it.
    pub fn in_all_configured_scope(self) -> bool {
        self == Self::Configured
    }
}

/// Sovereign clouds a cross-cloud tenant may live in.
pub const CLOUD_INSTANCES: [&str; 3] = [
    "microsoftonline.com",
    "microsoftonline.us",
    "partner.microsoftonline.cn",
];

/// The social providers Graph names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SocialIdentitySourceType {
    Facebook,
}

impl SocialIdentitySourceType {
    pub fn as_str(self) -> &'static str {
        "facebook"
    }
    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.to_ascii_lowercase().as_str() {
            "facebook" => Ok(Self::Facebook),
            _ => Err(DomainError::invalid(
                "socialIdentitySourceType",
                format!("'{s}' is not a socialIdentitySourceType; use facebook"),
            )),
        }
    }
}

/// How the users of a connected organization sign in; one of Graph's five identity sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// Another tenant (directory); its users sign in at that tenant.
    AzureActiveDirectoryTenant {
        tenant_id: String,
        display_name: String,
    },
    /// A tenant in another sovereign cloud.
    CrossCloudAzureActiveDirectoryTenant {
        tenant_id: String,
        display_name: String,
        cloud_instance: String,
    },
    /// A plain email domain: its users sign in with an email one-time passcode.
    DomainIdentitySource {
        domain_name: DomainName,
        display_name: String,
    },
    /// A directly federated identity provider that is authoritative for a domain.
    ExternalDomainFederation {
        domain_name: DomainName,
        display_name: String,
        issuer_uri: String,
    },
    /// Personal accounts at a social provider, for one email domain (`display_name`).
    SocialIdentitySource {
        display_name: String,
        social_identity_source_type: SocialIdentitySourceType,
    },
}

/// Values that must be unique across all connected organizations: a tenant, a domain or a
/// federation issuer belongs to at most one organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey(pub String);

impl IdentitySource {
    /// The Graph `@odata.type` of this source (with the leading `#`).
    pub fn odata_type(&self) -> &'static str {
        match self {
            Self::AzureActiveDirectoryTenant { .. } => {
                "#microsoft.graph.azureActiveDirectoryTenant"
            }
            Self::CrossCloudAzureActiveDirectoryTenant { .. } => {
                "#microsoft.graph.crossCloudAzureActiveDirectoryTenant"
            }
            Self::DomainIdentitySource { .. } => "#microsoft.graph.domainIdentitySource",
            Self::ExternalDomainFederation { .. } => "#microsoft.graph.externalDomainFederation",
            Self::SocialIdentitySource { .. } => "#microsoft.graph.socialIdentitySource",
        }
    }

    pub fn display_name(&self) -> &str {
        match self {
            Self::AzureActiveDirectoryTenant { display_name, .. }
            | Self::CrossCloudAzureActiveDirectoryTenant { display_name, .. }
            | Self::DomainIdentitySource { display_name, .. }
            | Self::ExternalDomainFederation { display_name, .. }
            | Self::SocialIdentitySource { display_name, .. } => display_name,
        }
    }

    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            Self::AzureActiveDirectoryTenant { tenant_id, .. }
            | Self::CrossCloudAzureActiveDirectoryTenant { tenant_id, .. } => Some(tenant_id),
            _ => None,
        }
    }

    pub fn domain_name(&self) -> Option<&DomainName> {
        match self {
            Self::DomainIdentitySource { domain_name, .. }
            | Self::ExternalDomainFederation { domain_name, .. } => Some(domain_name),
            _ => None,
        }
    }

    pub fn issuer_uri(&self) -> Option<&str> {
        match self {
            Self::ExternalDomainFederation { issuer_uri, .. } => Some(issuer_uri),
            _ => None,
        }
    }

    /// The uniqueness keys this source claims.
    pub fn keys(&self) -> Vec<SourceKey> {
        match self {
            Self::AzureActiveDirectoryTenant { tenant_id, .. }
            | Self::CrossCloudAzureActiveDirectoryTenant { tenant_id, .. } => {
                vec![SourceKey(format!("tenant:{tenant_id}"))]
            }
            Self::DomainIdentitySource { domain_name, .. } => {
                vec![SourceKey(format!("domain:{domain_name}"))]
            }
            Self::ExternalDomainFederation {
                domain_name,
                issuer_uri,
                ..
            } => {
                vec![
                    SourceKey(format!("domain:{domain_name}")),
                    SourceKey(format!("issuer:{issuer_uri}")),
                ]
            }
            Self::SocialIdentitySource {
                display_name,
                social_identity_source_type,
            } => {
                vec![SourceKey(format!(
                    "social:{}:{}",
                    social_identity_source_type.as_str(),
                    text::fold(display_name)
                ))]
            }
        }
    }
}

/// A tenant id must be a GUID; stored lowercase and hyphenated.
pub fn normalize_tenant_id(value: &str) -> DomainResult<String> {
    let id = Uuid::parse_str(value.trim()).map_err(|_| {
        DomainError::invalid(
            "tenantId",
            format!(
                "'{}' is not a tenant id (a GUID)",
                value.chars().take(64).collect::<String>()
            ),
        )
    })?;
    if id.is_nil() {
        return Err(DomainError::invalid(
            "tenantId",
            "the nil GUID is not a tenant id",
        ));
    }
    let s = id.hyphenated().to_string();
    if s == CONSUMER_TENANT_ID {
        return Err(DomainError::invalid(
            "tenantId",
            "the consumer (personal Microsoft account) tenant cannot define a connected organization",
        ));
    }
    Ok(s)
}

/// An issuer URI must be an absolute https URL (http only for loopback development IdPs).
pub fn normalize_issuer_uri(value: &str) -> DomainResult<String> {
    let v = value.trim();
    let err = |why: &str| DomainError::invalid("issuerUri", format!("issuerUri {why}"));
    if v.is_empty() || v.len() > 2048 {
        return Err(err("must be a non-empty URL of at most 2048 characters"));
    }
    let rest = if let Some(r) = v.strip_prefix("https://") {
        r
    } else if let Some(r) = v.strip_prefix("http://") {
        let host = r.split(['/', ':']).next().unwrap_or("");
        if !(host == "127.0.0.1" || host == "localhost" || host == "[::1]") {
            return Err(err("must use https (http is accepted for loopback only)"));
        }
        r
    } else {
        return Err(err("must be an absolute https URL"));
    };
    if rest.is_empty()
        || rest.starts_with('/')
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(err("must name a host"));
    }
    if v.contains(['#', '?']) {
        return Err(err("may not have a query or fragment"));
    }
    Ok(v.to_owned())
}

/// A connected organization as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedOrganization {
    pub id: Uuid,
    pub display_name: String,
    pub description: String,
    pub identity_sources: Vec<IdentitySource>,
    pub state: ConnectedOrganizationState,
    pub created_date_time: Timestamp,
    pub modified_date_time: Timestamp,
}

/// Which side of the relationship a sponsor stands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SponsorKind {
    /// Member users (or groups) of this directory.
    Internal,
    /// Guest users from the partner, already in this directory.
    External,
}

impl SponsorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::External => "external",
        }
    }
    pub fn property(self) -> &'static str {
        match self {
            Self::Internal => "internalSponsors",
            Self::External => "externalSponsors",
        }
    }
}

/// Fields a PATCH may change; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectedOrganizationPatch {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub identity_sources: Option<Vec<IdentitySource>>,
    pub state: Option<ConnectedOrganizationState>,
}

/// Most identity sources one organization may hold.
pub const MAX_IDENTITY_SOURCES: usize = 50;

/// Validates the fields of a new organization (sources are validated as they are parsed).
pub fn validate_new(
    display_name: &str,
    description: &str,
    sources: &[IdentitySource],
) -> DomainResult<(String, String)> {
    let name = text::display_name("displayName", display_name)?;
    let description = text::description("description", description)?;
    validate_sources(sources)?;
    Ok((name, description))
}

/// Checks a set of identity sources: at least one, bounded, no duplicate keys within it.
pub fn validate_sources(sources: &[IdentitySource]) -> DomainResult<()> {
    if sources.is_empty() {
        return Err(DomainError::invalid(
            "identitySources",
            "identitySources must hold at least one identity source",
        ));
    }
    if sources.len() > MAX_IDENTITY_SOURCES {
        return Err(DomainError::invalid(
            "identitySources",
            format!("at most {MAX_IDENTITY_SOURCES} identity sources are allowed"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for key in sources.iter().flat_map(IdentitySource::keys) {
        if !seen.insert(key.clone()) {
            return Err(DomainError::invalid(
                "identitySources",
                format!("identity source '{}' is listed twice", key.0),
            ));
        }
    }
    Ok(())
}

/// Applies a patch to an organization, validating every changed field; returns the changed
/// property names (for the audit record).
pub fn apply_patch(
    org: &mut ConnectedOrganization,
    patch: ConnectedOrganizationPatch,
    now: Timestamp,
) -> DomainResult<Vec<&'static str>> {
    let mut changed = Vec::new();
    if let Some(name) = patch.display_name {
        let name = text::display_name("displayName", &name)?;
        if name != org.display_name {
            org.display_name = name;
            changed.push("displayName");
        }
    }
    if let Some(d) = patch.description {
        let d = text::description("description", &d)?;
        if d != org.description {
            org.description = d;
            changed.push("description");
        }
    }
    if let Some(sources) = patch.identity_sources {
        validate_sources(&sources)?;
        if sources != org.identity_sources {
            org.identity_sources = sources;
            changed.push("identitySources");
        }
    }
    if let Some(state) = patch.state
        && state != org.state
    {
        org.state = state;
        changed.push("state");
    }
    if !changed.is_empty() {
        org.modified_date_time = now;
    }
    Ok(changed)
}

/// How an identity source was resolved against the registry of known tenants and identity
/// providers: a domain that one of them is authoritative for becomes that tenant or IdP.
pub fn resolve_domain_source(
    source: IdentitySource,
    registry: &dyn KnownDomains,
) -> IdentitySource {
    match source {
        IdentitySource::DomainIdentitySource {
            domain_name,
            display_name,
        } => match registry.authority_for(&domain_name) {
            Some(DomainAuthority::Tenant {
                tenant_id,
                display_name: tenant_name,
            }) => IdentitySource::AzureActiveDirectoryTenant {
                tenant_id,
                display_name: tenant_name,
            },
            Some(DomainAuthority::Federation {
                issuer_uri,
                display_name: idp_name,
            }) => {
                let _ = display_name;
                IdentitySource::ExternalDomainFederation {
                    domain_name,
                    display_name: idp_name,
                    issuer_uri,
                }
            }
            None => IdentitySource::DomainIdentitySource {
                domain_name,
                display_name,
            },
        },
        other => other,
    }
}

/// Who is authoritative for a domain, according to the registry of known identity providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainAuthority {
    Tenant {
        tenant_id: String,
        display_name: String,
    },
    Federation {
        issuer_uri: String,
        display_name: String,
    },
}

/// The lookup the registry of known tenants and identity providers answers.
pub trait KnownDomains {
    fn authority_for(&self, domain: &DomainName) -> Option<DomainAuthority>;
}

impl KnownDomains for std::collections::HashMap<DomainName, DomainAuthority> {
    fn authority_for(&self, domain: &DomainName) -> Option<DomainAuthority> {
        self.get(domain).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn domain(d: &str) -> IdentitySource {
        IdentitySource::DomainIdentitySource {
            domain_name: DomainName::parse(d).unwrap(),
            display_name: d.into(),
        }
    }

    #[test]
    fn tenant_ids_are_guids_and_not_the_consumer_tenant() {
        assert_eq!(
            normalize_tenant_id("0AB4F2B5-1C64-4E13-A9F7-2B5F3C9F8A01").unwrap(),
            "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01"
        );
        assert!(normalize_tenant_id("contoso").is_err());
        assert!(normalize_tenant_id(CONSUMER_TENANT_ID).is_err());
        assert!(normalize_tenant_id("00000000-0000-0000-0000-000000000000").is_err());
    }

    #[test]
    fn issuer_uris_must_be_https_or_loopback() {
        assert!(normalize_issuer_uri("https://idp.fabrikam.com/").is_ok());
        assert!(normalize_issuer_uri("http://127.0.0.1:9000/").is_ok());
        assert!(normalize_issuer_uri("http://idp.fabrikam.com/").is_err());
        assert!(normalize_issuer_uri("idp.fabrikam.com").is_err());
        assert!(normalize_issuer_uri("https://").is_err());
    }

    #[test]
    fn sources_need_one_and_no_duplicates() {
        assert!(validate_sources(&[]).is_err());
        assert!(validate_sources(&[domain("a.com"), domain("A.com")]).is_err());
        assert!(validate_sources(&[domain("a.com"), domain("b.com")]).is_ok());
    }

    #[test]
    fn a_domain_known_to_a_tenant_resolves_to_that_tenant() {
        let mut reg = HashMap::new();
        reg.insert(
            DomainName::parse("graphicdesigninstitute.com").unwrap(),
            DomainAuthority::Tenant {
                tenant_id: "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01".into(),
                display_name: "Graphic Design Institute".into(),
            },
        );
        let resolved = resolve_domain_source(domain("graphicdesigninstitute.com"), &reg);
        assert_eq!(
            resolved.odata_type(),
            "#microsoft.graph.azureActiveDirectoryTenant"
        );
        assert_eq!(
            resolved.tenant_id(),
            Some("0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01")
        );
        let plain = resolve_domain_source(domain("contoso.com"), &reg);
        assert_eq!(plain.odata_type(), "#microsoft.graph.domainIdentitySource");
    }

    #[test]
    fn patch_reports_changes_and_bumps_modified() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let t1 = Timestamp::from_second(1_700_000_100).unwrap();
        let mut org = ConnectedOrganization {
            id: Uuid::nil(),
            display_name: "A".into(),
            description: String::new(),
            identity_sources: vec![domain("a.com")],
            state: ConnectedOrganizationState::Configured,
            created_date_time: t0,
            modified_date_time: t0,
        };
        let same = apply_patch(
            &mut org,
            ConnectedOrganizationPatch {
                display_name: Some("A".into()),
                ..Default::default()
            },
            t1,
        )
        .unwrap();
        assert!(same.is_empty());
        assert_eq!(org.modified_date_time, t0);
        let changed = apply_patch(
            &mut org,
            ConnectedOrganizationPatch {
                state: Some(ConnectedOrganizationState::Proposed),
                description: Some("d".into()),
                ..Default::default()
            },
            t1,
        )
        .unwrap();
        assert_eq!(changed, vec!["description", "state"]);
        assert_eq!(org.modified_date_time, t1);
        assert!(
            apply_patch(
                &mut org,
                ConnectedOrganizationPatch {
                    display_name: Some(" ".into()),
                    ..Default::default()
                },
                t1
            )
            .is_err()
        );
    }

    #[test]
    fn proposed_is_not_in_all_configured_scope() {
        assert!(ConnectedOrganizationState::Configured.in_all_configured_scope());
        assert!(!ConnectedOrganizationState::Proposed.in_all_configured_scope());
    }
}
