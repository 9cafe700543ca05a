//! The registry of known tenants and federated identity providers, with the domains each is
//! authoritative for. Connected-organization creation resolves domains against it; sign-in
//! against these providers is configured on the same entries.

use crate::connected_org::{DomainAuthority, normalize_issuer_uri, normalize_tenant_id};
use crate::domain_name::DomainName;
use crate::text;
use crate::{DomainError, DomainResult, Timestamp};
use uuid::Uuid;

/// What kind of authority a provider is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// A tenant (directory), identified by its tenant id.
    Tenant { tenant_id: String },
    /// A directly federated IdP, identified by its exact issuer.
    Federation { issuer_uri: String },
}

/// A known tenant or identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownIdentityProvider {
    pub id: Uuid,
    pub display_name: String,
    pub kind: ProviderKind,
    pub domains: Vec<DomainName>,
    /// A social provider (consumer accounts, such as Google or Facebook): it signs people in
    /// but speaks for no organization, so it is authoritative for no domain and its users
    /// match no connected organization; its domains only route sign-in there.
    pub social: bool,
    pub created_date_time: Timestamp,
}

/// Most domains one provider may claim.
pub const MAX_PROVIDER_DOMAINS: usize = 500;

impl KnownIdentityProvider {
    /// Validates and builds a new registry entry.
    pub fn new(
        id: Uuid,
        display_name: &str,
        kind: ProviderKind,
        domains: &[String],
        social: bool,
        now: Timestamp,
    ) -> DomainResult<Self> {
        let display_name = text::display_name("displayName", display_name)?;
        let kind = match kind {
            ProviderKind::Tenant { tenant_id } => ProviderKind::Tenant {
                tenant_id: normalize_tenant_id(&tenant_id)?,
            },
            ProviderKind::Federation { issuer_uri } => ProviderKind::Federation {
                issuer_uri: normalize_issuer_uri(&issuer_uri)?,
            },
        };
        if social && matches!(kind, ProviderKind::Tenant { .. }) {
            return Err(DomainError::invalid(
                "isSocial",
                "a tenant is an organization's directory, not a social provider; register social providers by issuer",
            ));
        }
        if domains.is_empty() || domains.len() > MAX_PROVIDER_DOMAINS {
            return Err(DomainError::invalid(
                "domains",
                format!("between 1 and {MAX_PROVIDER_DOMAINS} domains are required"),
            ));
        }
        let mut parsed: Vec<DomainName> = domains
            .iter()
            .map(|d| DomainName::parse(d))
            .collect::<DomainResult<_>>()?;
        parsed.sort();
        parsed.dedup();
        Ok(KnownIdentityProvider {
            id,
            display_name,
            kind,
            domains: parsed,
            social,
            created_date_time: now,
        })
    }

    /// The authority this provider holds over its domains (none for a social provider).
    pub fn authority(&self) -> Option<DomainAuthority> {
        if self.social {
            return None;
        }
        Some(match &self.kind {
            ProviderKind::Tenant { tenant_id } => DomainAuthority::Tenant {
                tenant_id: tenant_id.clone(),
                display_name: self.display_name.clone(),
            },
            ProviderKind::Federation { issuer_uri } => DomainAuthority::Federation {
                issuer_uri: issuer_uri.clone(),
                display_name: self.display_name.clone(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_kind_and_domains() {
        let now = Timestamp::UNIX_EPOCH;
        let p = KnownIdentityProvider::new(
            Uuid::nil(),
            "Graphic Design Institute",
            ProviderKind::Tenant {
                tenant_id: "0AB4F2B5-1C64-4E13-A9F7-2B5F3C9F8A01".into(),
            },
            &[
                "GraphicDesignInstitute.com".into(),
                "graphicdesigninstitute.com".into(),
                "gdi.example".into(),
            ],
            false,
            now,
        )
        .unwrap();
        assert_eq!(p.domains.len(), 2);
        assert!(
            KnownIdentityProvider::new(
                Uuid::nil(),
                "x",
                ProviderKind::Tenant {
                    tenant_id: "nope".into()
                },
                &["a.com".into()],
                false,
                now
            )
            .is_err()
        );
        assert!(
            KnownIdentityProvider::new(
                Uuid::nil(),
                "x",
                ProviderKind::Federation {
                    issuer_uri: "https://idp.a.com".into()
                },
                &[],
                false,
                now
            )
            .is_err()
        );
        let social = |kind| {
            KnownIdentityProvider::new(
                Uuid::nil(),
                "Social",
                kind,
                &["gmail.com".into()],
                true,
                now,
            )
        };
        assert!(
            social(ProviderKind::Tenant {
                tenant_id: "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01".into()
            })
            .is_err()
        );
        let google = social(ProviderKind::Federation {
            issuer_uri: "https://accounts.google.com".into(),
        })
        .unwrap();
        assert_eq!(
            google.authority(),
            None,
            "social providers speak for no domain"
        );
    }
}
