//! The registry of known tenants and identity providers (used to resolve domains).

use crate::{App, ServiceResult, target};
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::{Category, ModifiedProperty};
use consulate_core::connected_org::DomainAuthority;
use consulate_core::domain_name::DomainName;
use consulate_core::identity_provider::{KnownIdentityProvider, ProviderKind};
use uuid::Uuid;

/// How a domain would sign in if a connected organization were created for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainLookup {
    /// A known tenant is authoritative: its users sign in at that tenant.
    Tenant {
        tenant_id: String,
        display_name: String,
    },
    /// A federated IdP is authoritative.
    Federation {
        issuer_uri: String,
        display_name: String,
    },
    /// A social provider's domain: people sign in there as individuals; no connected
    /// organization can be defined by it.
    Social {
        issuer_uri: String,
        display_name: String,
    },
    /// Nobody known: users sign in with an email one-time passcode.
    OneTimePasscode,
    /// One of this tenant's own verified domains.
    ThisTenant,
}

impl App {
    pub async fn add_identity_provider(
        &self,
        caller: &Caller,
        display_name: &str,
        kind: ProviderKind,
        domains: &[String],
        social: bool,
    ) -> ServiceResult<KnownIdentityProvider> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let p = KnownIdentityProvider::new(
            self.ids.new_id(),
            display_name,
            kind,
            domains,
            social,
            self.clock.now(),
        )?;
        let mut tx = self.store.begin().await?;
        tx.insert_identity_provider(&p).await?;
        let mut t = crate::target("identityProvider", p.id, Some(&p.display_name));
        if p.social {
            t.modified_properties.push(ModifiedProperty {
                display_name: "isSocial".into(),
                old_value: None,
                new_value: Some("true".into()),
            });
        }
        t.modified_properties.push(ModifiedProperty {
            display_name: "domains".into(),
            old_value: None,
            new_value: Some(
                p.domains
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        });
        let event = self.event(
            caller,
            Category::DirectoryManagement,
            "Add identity provider",
            "identityProvider.create",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(p)
    }

    pub async fn list_identity_providers(
        &self,
        caller: &Caller,
    ) -> ServiceResult<Vec<KnownIdentityProvider>> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        Ok(self.store.identity_providers().await?)
    }

    pub async fn delete_identity_provider(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let mut tx = self.store.begin().await?;
        tx.delete_identity_provider(id).await?;
        let event = self.event(
            caller,
            Category::DirectoryManagement,
            "Delete identity provider",
            "identityProvider.delete",
            target("identityProvider", id, None),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    /// What authentication type a domain would get (the admin wizard's live lookup).
    pub async fn lookup_domain(
        &self,
        caller: &Caller,
        domain: &str,
    ) -> ServiceResult<(DomainName, DomainLookup)> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        let d = DomainName::parse(domain)?;
        if let Some(t) = self.tenant().await?
            && t.verified_domains.contains(&d)
        {
            return Ok((d, DomainLookup::ThisTenant));
        }
        let provider = self.store.domain_provider(&d).await?;
        if let Some(p) = provider.as_ref().filter(|p| p.social) {
            let issuer_uri = match &p.kind {
                ProviderKind::Federation { issuer_uri } => issuer_uri.clone(),
                ProviderKind::Tenant { tenant_id } => tenant_id.clone(),
            };
            return Ok((
                d,
                DomainLookup::Social {
                    issuer_uri,
                    display_name: p.display_name.clone(),
                },
            ));
        }
        let found = match provider.and_then(|p| p.authority()) {
            Some(DomainAuthority::Tenant {
                tenant_id,
                display_name,
            }) => DomainLookup::Tenant {
                tenant_id,
                display_name,
            },
            Some(DomainAuthority::Federation {
                issuer_uri,
                display_name,
            }) => DomainLookup::Federation {
                issuer_uri,
                display_name,
            },
            None => DomainLookup::OneTimePasscode,
        };
        Ok((d, found))
    }
}

impl App {
    /// The registered provider authoritative for `domain` that users can sign in at (one
    /// with a client registration), if any.
    pub async fn sign_in_provider_for(&self, domain: &str) -> ServiceResult<Option<Uuid>> {
        let Ok(d) = DomainName::parse(domain) else {
            return Ok(None);
        };
        for p in self.store.identity_providers().await? {
            if p.domains.contains(&d) && self.store.provider_client(p.id).await?.is_some() {
                return Ok(Some(p.id));
            }
        }
        Ok(None)
    }
}
