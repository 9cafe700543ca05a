//! API bearer tokens: minting (random 256-bit secrets, stored as SHA-256 hashes), listing,
//! revoking, and authenticating a presented token into a [`Caller`].

use crate::{App, ServiceResult, target};
use base64::Engine as _;
use consulate_core::access::{Caller, CallerIdentity, Scope};
use consulate_core::audit::{Category, ModifiedProperty};
use consulate_core::text;
use consulate_core::{DomainError, Timestamp};
use consulate_store::tokens::ApiToken;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Every token starts with this, so leaked tokens are easy to recognise in scanners.
pub const TOKEN_PREFIX: &str = "csl_";
/// Longest token string accepted before any lookup (bounded input).
const MAX_TOKEN_LEN: usize = 128;

/// A freshly minted token: the record and the secret, shown once.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: ApiToken,
    pub secret: String,
}

/// SHA-256 of the whole token string, hex. The secret has 256 random bits, so a fast hash is
/// the right one: there is nothing to brute-force.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl App {
    /// Mints a token. `user` makes it a delegated token acting for that user.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        scopes: BTreeSet<Scope>,
        user: Option<Uuid>,
        expires_at: Option<Timestamp>,
    ) -> ServiceResult<NewToken> {
        let name = text::display_name("name", name)?;
        if scopes.is_empty() {
            return Err(
                DomainError::invalid("scopes", "at least one permission is required").into(),
            );
        }
        let now = self.clock.now();
        if let Some(exp) = expires_at
            && exp <= now
        {
            return Err(
                DomainError::invalid("expiresAt", "the expiry must be in the future").into(),
            );
        }
        let secret = new_secret();
        let token = ApiToken {
            id: self.ids.new_id(),
            name: name.clone(),
            scopes,
            user_id: user,
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        let mut tx = self.store.begin().await?;
        if let Some(u) = user {
            let user = tx.user(u).await?;
            if !user.account_enabled {
                return Err(DomainError::invalid("user", "the user's sign-in is blocked").into());
            }
        }
        tx.insert_token(&token, &token_hash(&secret)).await?;
        let mut t = target("apiToken", token.id, Some(&name));
        t.modified_properties.push(ModifiedProperty {
            display_name: "scopes".into(),
            old_value: None,
            new_value: Some(
                token
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        });
        if let Some(u) = user {
            t.modified_properties.push(ModifiedProperty {
                display_name: "delegatedFor".into(),
                old_value: None,
                new_value: Some(u.to_string()),
            });
        }
        let event = self.event(
            caller,
            Category::ApplicationManagement,
            "Create API token",
            "apiToken.create",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(NewToken { token, secret })
    }

    pub async fn list_tokens(&self) -> ServiceResult<Vec<ApiToken>> {
        Ok(self.store.tokens().await?)
    }

    /// Revokes a token; it stops working at once.
    pub async fn revoke_token(&self, caller: &Caller, id: Uuid) -> ServiceResult<ApiToken> {
        let mut tx = self.store.begin().await?;
        let token = tx.token(id).await?;
        if !tx.revoke_token(id, self.clock.now()).await? {
            return Err(DomainError::conflict(format!("token {id} is already revoked")).into());
        }
        let event = self.event(
            caller,
            Category::ApplicationManagement,
            "Revoke API token",
            "apiToken.revoke",
            target("apiToken", id, Some(&token.name)),
        );
        tx.commit(&[event]).await?;
        Ok(token)
    }

    /// Turns a presented bearer token into a caller, or refuses with `Unauthenticated`. Looked
    /// up on every request (no cache), so revocation and blocking apply at once everywhere.
    pub async fn authenticate(&self, presented: &str) -> ServiceResult<Caller> {
        let refuse = || DomainError::Unauthenticated {
            message: "Access token is missing, invalid, expired or revoked.".into(),
        };
        if presented.len() > MAX_TOKEN_LEN || !presented.starts_with(TOKEN_PREFIX) {
            return Err(refuse().into());
        }
        let hash = token_hash(presented);
        let now = self.clock.now();
        let (token, user) = self.store.token_for_auth(&hash).await?.ok_or_else(refuse)?;
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) {
            return Err(refuse().into());
        }
        let caller = match (token.user_id, user) {
            (None, _) => Caller {
                identity: CallerIdentity::Application {
                    token_id: token.id,
                    name: token.name.clone(),
                },
                scopes: token.scopes.clone(),
                roles: BTreeSet::new(),
                catalog_roles: BTreeSet::new(),
                sign_in: None,
            },
            // The user is gone (its tokens go with it) or blocked.
            (Some(_), None) => return Err(refuse().into()),
            (Some(_), Some(u)) if !u.account_enabled => return Err(refuse().into()),
            (Some(uid), Some(u)) => Caller {
                identity: CallerIdentity::User {
                    user_id: uid,
                    user_principal_name: u.user_principal_name,
                    token_id: Some(token.id),
                },
                scopes: token.scopes.clone(),
                // Most callers hold no role: the roles are read only when there are some.
                roles: if u.has_roles {
                    self.store.user_roles(uid).await?
                } else {
                    BTreeSet::new()
                },
                catalog_roles: if u.has_catalog_roles {
                    self.store.catalog_roles_of(uid).await?
                } else {
                    BTreeSet::new()
                },
                sign_in: None,
            },
        };
        // Last use is noted at most once a minute per token and written in batches by
        // [`App::record_token_uses`], so requests never wait for the (single, on SQLite)
        // writer connection for it.
        let due = token
            .last_used_at
            .is_none_or(|t| now.duration_since(t).as_secs() >= 60);
        if due {
            self.token_uses
                .lock()
                .expect("token use lock")
                .insert(token.id, now);
        }
        Ok(caller)
    }

    /// Writes the token uses noted since the last call, in one statement. A failure loses
    /// only these timestamps (bookkeeping), and is logged.
    pub async fn record_token_uses(&self) {
        let uses: Vec<_> = std::mem::take(&mut *self.token_uses.lock().expect("token use lock"))
            .into_iter()
            .collect();
        if uses.is_empty() {
            return;
        }
        if let Err(e) = self.store.mark_tokens_used(&uses).await {
            tracing::warn!(error = %e, tokens = uses.len(), "could not record token use");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hashed() {
        let a = new_secret();
        let b = new_secret();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
