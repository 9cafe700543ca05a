//! API bearer tokens. Only a SHA-256 hash of each token is stored; the secret is shown once.

use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::access::Scope;
use consulate_core::error::ObjectKind;
use std::collections::BTreeSet;
use uuid::Uuid;

/// A stored token (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    /// Set for delegated tokens: the user the token acts for.
    pub user_id: Option<Uuid>,
    pub created_at: jiff::Timestamp,
    pub expires_at: Option<jiff::Timestamp>,
    pub revoked_at: Option<jiff::Timestamp>,
    pub last_used_at: Option<jiff::Timestamp>,
}

/// The user a delegated token acts for, as authentication needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUser {
    pub user_principal_name: String,
    pub account_enabled: bool,
    /// Whether any directory role or catalog role is assigned (read only when one is).
    pub has_roles: bool,
    pub has_catalog_roles: bool,
}

fn token_from_row(r: &Row) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: r.uuid("id")?,
        name: r.text("name")?,
        scopes: Scope::parse_list(&r.text("scopes")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        user_id: r
            .opt_text("user_id")?
            .map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()?,
        created_at: r.timestamp("created_at")?,
        expires_at: r.opt_timestamp("expires_at")?,
        revoked_at: r.opt_timestamp("revoked_at")?,
        last_used_at: r.opt_timestamp("last_used_at")?,
    })
}

const COLUMNS: &str = "id, name, scopes, user_id, created_at, expires_at, revoked_at, last_used_at";

impl Store {
    /// What authenticating a bearer token needs, in one read: the token whose secret hashes
    /// to `hash` and, for a delegated token, the state of its user (absent when the user is
    /// gone) and whether it holds any directory or catalog role at all.
    pub async fn token_for_auth(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(ApiToken, Option<TokenUser>)>> {
        let Some(r) = self
            .fetch_optional(&Sql::new(
                "SELECT t.id, t.name, t.scopes, t.user_id, t.created_at, t.expires_at, t.revoked_at, t.last_used_at, \
                 u.id AS found_user, u.user_principal_name, u.account_enabled, \
                 EXISTS (SELECT 1 FROM directory_role_assignments d WHERE d.user_id = t.user_id) AS has_roles, \
                 EXISTS (SELECT 1 FROM catalog_role_assignments c WHERE c.principal_id = t.user_id) AS has_catalog_roles \
                 FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
            )
            .bind(hash))
            .await?
        else {
            return Ok(None);
        };
        let token = token_from_row(&r)?;
        let user = match r.opt_text("found_user")? {
            None => None,
            Some(_) => Some(TokenUser {
                user_principal_name: r.text("user_principal_name")?,
                account_enabled: r.boolean("account_enabled")?,
                has_roles: r.boolean("has_roles")?,
                has_catalog_roles: r.boolean("has_catalog_roles")?,
            }),
        };
        Ok(Some((token, user)))
    }

    pub async fn tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let sql = Sql::dynamic(format!(
            "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at, id"
        ));
        self.fetch_all(&sql)
            .await?
            .iter()
            .map(token_from_row)
            .collect()
    }

    /// Records several tokens' last use in one statement: (token, when). A token whose
    /// recorded use is already as recent stays as it is (bookkeeping, not audited).
    pub async fn mark_tokens_used(&self, uses: &[(Uuid, jiff::Timestamp)]) -> StoreResult<()> {
        for chunk in uses.chunks(500) {
            let mut sql = Sql::new("UPDATE api_tokens SET last_used_at = v.column2 FROM (VALUES ");
            for (i, (id, at)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                let id = sql.placeholder(*id);
                let at = sql.placeholder(micros(*at));
                sql.push(&format!("({id}, {at})"));
            }
            sql.push(") AS v WHERE api_tokens.id = v.column1 AND (api_tokens.last_used_at IS NULL OR api_tokens.last_used_at < v.column2)");
            self.execute_bookkeeping(&sql).await?;
        }
        Ok(())
    }
}

impl WriteTx {
    pub async fn insert_token(&mut self, t: &ApiToken, hash: &str) -> StoreResult<()> {
        let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
        self.execute(
            &Sql::new("INSERT INTO api_tokens (id, name, token_hash, scopes, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(t.id)
                .bind(t.name.as_str())
                .bind(hash)
                .bind(scopes.join(","))
                .bind(t.user_id.map(|u| u.to_string()))
                .bind(micros(t.created_at))
                .bind(t.expires_at.map(micros)),
        )
        .await?;
        Ok(())
    }

    pub async fn token(&mut self, id: Uuid) -> StoreResult<ApiToken> {
        let row = self
            .fetch_optional(&Sql::new("SELECT id, name, scopes, user_id, created_at, expires_at, revoked_at, last_used_at FROM api_tokens WHERE id = $1").bind(id))
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::ApiToken, id.to_string()))?;
        token_from_row(&row)
    }

    /// Revokes a token; false when it was already revoked.
    /// Revokes every active token acting for a user; returns how many.
    pub async fn revoke_tokens_of_user(
        &mut self,
        user: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<u64> {
        self.execute(
            &Sql::new(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(micros(at))
            .bind(user),
        )
        .await
    }

    pub async fn revoke_token(&mut self, id: Uuid, at: jiff::Timestamp) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(micros(at))
                .bind(id),
            )
            .await?
            == 1)
    }
}
