//! OpenID Connect sign-in state: each identity provider's client registration, and the
//! authorization requests in flight (taken once, by the browser flow that started them).

use crate::sql::{Sql, micros};
use crate::{Store, StoreResult, WriteTx};
use uuid::Uuid;

/// How Consulate is registered at an identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderClient {
    pub client_id: String,
    pub client_secret: String,
    /// Tenants a multi-tenant issuer may sign users in from; empty for a single issuer.
    pub allowed_tenants: Vec<String>,
}

/// An authorization request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcFlow {
    pub provider_id: Uuid,
    pub nonce: String,
    pub code_verifier: String,
    pub return_to: String,
}

impl Store {
    pub async fn provider_client(&self, provider: Uuid) -> StoreResult<Option<ProviderClient>> {
        self.fetch_optional(
            &Sql::new("SELECT client_id, client_secret, allowed_tenants FROM identity_provider_clients WHERE provider_id = $1")
                .bind(provider),
        )
        .await?
        .map(|r| {
            Ok(ProviderClient {
                client_id: r.text("client_id")?,
                client_secret: r.text("client_secret")?,
                allowed_tenants: r
                    .text("allowed_tenants")?
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .transpose()
    }
}

impl WriteTx {
    pub async fn save_provider_client(
        &mut self,
        provider: Uuid,
        c: &ProviderClient,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO identity_provider_clients (provider_id, client_id, client_secret, allowed_tenants, modified_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (provider_id) DO UPDATE SET client_id = excluded.client_id, client_secret = excluded.client_secret, allowed_tenants = excluded.allowed_tenants, modified_at = excluded.modified_at",
            )
            .bind(provider)
            .bind(c.client_id.as_str())
            .bind(c.client_secret.as_str())
            .bind(c.allowed_tenants.join(","))
            .bind(micros(at)),
        )
        .await
    }

    pub async fn insert_oidc_flow(
        &mut self,
        state_hash: &str,
        flow_hash: &str,
        f: &OidcFlow,
        now: jiff::Timestamp,
        expires_at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO oidc_flows (state_hash, flow_hash, provider_id, nonce, code_verifier, return_to, created_at, expires_at, used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
            )
            .bind(state_hash)
            .bind(flow_hash)
            .bind(f.provider_id)
            .bind(f.nonce.as_str())
            .bind(f.code_verifier.as_str())
            .bind(f.return_to.as_str())
            .bind(micros(now))
            .bind(micros(expires_at)),
        )
        .await
    }

    /// Takes an authorization request once: only with its state, from the browser flow that
    /// started it, before it expires.
    pub async fn take_oidc_flow(
        &mut self,
        state_hash: &str,
        flow_hash: &str,
        now: jiff::Timestamp,
    ) -> StoreResult<Option<OidcFlow>> {
        let taken = self
            .execute(
                &Sql::new("UPDATE oidc_flows SET used_at = $1 WHERE state_hash = $2 AND flow_hash = $3 AND used_at IS NULL AND expires_at > $1")
                    .bind(micros(now))
                    .bind(state_hash)
                    .bind(flow_hash),
            )
            .await?;
        if taken != 1 {
            return Ok(None);
        }
        self.fetch_optional(
            &Sql::new("SELECT provider_id, nonce, code_verifier, return_to FROM oidc_flows WHERE state_hash = $1")
                .bind(state_hash),
        )
        .await?
        .map(|r| {
            Ok(OidcFlow {
                provider_id: r.uuid("provider_id")?,
                nonce: r.text("nonce")?,
                code_verifier: r.text("code_verifier")?,
                return_to: r.text("return_to")?,
            })
        })
        .transpose()
    }
}
