//! The registry of known tenants and identity providers.

use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::connected_org::DomainAuthority;
use consulate_core::domain_name::DomainName;
use consulate_core::error::ObjectKind;
use consulate_core::identity_provider::{KnownIdentityProvider, ProviderKind};
use std::collections::HashMap;
use uuid::Uuid;

fn provider_from_row(r: &Row, domains: Vec<DomainName>) -> StoreResult<KnownIdentityProvider> {
    let kind = match r.text("kind")?.as_str() {
        "tenant" => ProviderKind::Tenant {
            tenant_id: r
                .opt_text("tenant_id")?
                .ok_or_else(|| StoreError::Corrupt("tenant provider without tenant id".into()))?,
        },
        "federation" => ProviderKind::Federation {
            issuer_uri: r
                .opt_text("issuer_uri")?
                .ok_or_else(|| StoreError::Corrupt("federation without issuer".into()))?,
        },
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown provider kind {other}"
            )));
        }
    };
    Ok(KnownIdentityProvider {
        id: r.uuid("id")?,
        display_name: r.text("display_name")?,
        kind,
        domains,
        social: r.boolean("social")?,
        created_date_time: r.timestamp("created_at")?,
    })
}

fn parse_domain(s: &str) -> StoreResult<DomainName> {
    DomainName::parse(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    pub async fn identity_providers(&self) -> StoreResult<Vec<KnownIdentityProvider>> {
        let rows = self.fetch_all(&Sql::new("SELECT id, display_name, kind, tenant_id, issuer_uri, social, created_at FROM identity_providers ORDER BY display_name, id")).await?;
        let domain_rows = self
            .fetch_all(&Sql::new(
                "SELECT provider_id, domain FROM identity_provider_domains ORDER BY domain",
            ))
            .await?;
        let mut by: HashMap<Uuid, Vec<DomainName>> = HashMap::new();
        for r in domain_rows {
            by.entry(r.uuid("provider_id")?)
                .or_default()
                .push(parse_domain(&r.text("domain")?)?);
        }
        rows.iter()
            .map(|r| provider_from_row(r, by.remove(&r.uuid("id")?).unwrap_or_default()))
            .collect()
    }

    /// The known provider that claims `domain` (authoritative for it, or for a social
    /// provider, where its users sign in), without its other domains.
    pub async fn domain_provider(
        &self,
        domain: &DomainName,
    ) -> StoreResult<Option<KnownIdentityProvider>> {
        let row = self
            .fetch_optional(
                &Sql::new(
                    "SELECT p.id, p.display_name, p.kind, p.tenant_id, p.issuer_uri, p.social, p.created_at FROM identity_provider_domains d \
                     JOIN identity_providers p ON p.id = d.provider_id WHERE d.domain = $1",
                )
                .bind(domain.as_str()),
            )
            .await?;
        row.map(|r| provider_from_row(&r, vec![domain.clone()]))
            .transpose()
    }

    /// Who is authoritative for `domain`, if a known provider is (social ones never are).
    pub async fn domain_authority(
        &self,
        domain: &DomainName,
    ) -> StoreResult<Option<DomainAuthority>> {
        Ok(self
            .domain_provider(domain)
            .await?
            .and_then(|p| p.authority()))
    }

    /// Whether `issuer` is a registered social provider's.
    pub async fn is_social_issuer(&self, issuer: &str) -> StoreResult<bool> {
        Ok(self
            .fetch_optional(
                &Sql::new(
                    "SELECT 1 AS one FROM identity_providers WHERE issuer_uri = $1 AND social",
                )
                .bind(issuer),
            )
            .await?
            .is_some())
    }

    /// Every domain a known provider is authoritative for.
    pub async fn authoritative_domains(&self) -> StoreResult<Vec<DomainName>> {
        let rows = self
            .fetch_all(&Sql::new("SELECT domain FROM identity_provider_domains"))
            .await?;
        rows.iter()
            .map(|r| parse_domain(&r.text("domain")?))
            .collect()
    }
}

impl WriteTx {
    pub async fn insert_identity_provider(&mut self, p: &KnownIdentityProvider) -> StoreResult<()> {
        let (kind, tenant_id, issuer) = match &p.kind {
            ProviderKind::Tenant { tenant_id } => ("tenant", Some(tenant_id.clone()), None),
            ProviderKind::Federation { issuer_uri } => {
                ("federation", None, Some(issuer_uri.clone()))
            }
        };
        self.execute(
            &Sql::new("INSERT INTO identity_providers (id, display_name, kind, tenant_id, issuer_uri, social, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(p.id)
                .bind(p.display_name.as_str())
                .bind(kind)
                .bind(tenant_id)
                .bind(issuer)
                .bind(p.social)
                .bind(micros(p.created_date_time)),
        )
        .await
        .map_err(|e| if e.is_unique_violation() { DomainError::conflict("an identity provider with this tenant id or issuer is already registered").into() } else { e })?;
        for d in &p.domains {
            let owner = self
                .fetch_optional(&Sql::new("SELECT p.display_name FROM identity_provider_domains d JOIN identity_providers p ON p.id = d.provider_id WHERE d.domain = $1").bind(d.as_str()))
                .await?;
            if let Some(o) = owner {
                return Err(DomainError::conflict(format!(
                    "the domain '{d}' is already claimed by identity provider '{}'",
                    o.text("display_name")?
                ))
                .into());
            }
            self.execute(
                &Sql::new(
                    "INSERT INTO identity_provider_domains (domain, provider_id) VALUES ($1, $2)",
                )
                .bind(d.as_str())
                .bind(p.id),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn delete_identity_provider(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM identity_providers WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(
                DomainError::not_found(ObjectKind::IdentityProvider, id.to_string()).into(),
            );
        }
        Ok(())
    }
}
