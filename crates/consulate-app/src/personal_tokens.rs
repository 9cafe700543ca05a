//! Tokens a signed-in user mints for scripts (delegated: they act for that user, whose roles
//! still apply; 90 days at most; listed and revoked by the user), and ending every sign-in
//! session of a user (administrators, Graph's `revokeSignInSessions`).

use crate::auth::NewToken;
use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, CallerIdentity, Operation, Scope, authorize};
use consulate_core::audit::Category;
use consulate_core::error::ObjectKind;
use consulate_store::tokens::ApiToken;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Longest life of a token a user mints.
pub const MAX_PERSONAL_TOKEN_DAYS: i64 = 90;

/// The user behind a browser session (not a token: tokens do not mint tokens).
fn session_user(caller: &Caller) -> ServiceResult<Uuid> {
    match caller.identity {
        // Local sign-ins only: a token would carry none of the sign-in rules that bind a
        // session from outside (method, MFA, session cap).
        CallerIdentity::User {
            user_id,
            token_id: None,
            ..
        } if caller.sign_in.is_none() => Ok(user_id),
        _ => Err(DomainError::forbidden(
            "tokens for scripts are made by a signed-in user of this directory, in a browser session",
        )
        .into()),
    }
}

impl App {
    pub async fn create_personal_token(
        &self,
        caller: &Caller,
        name: &str,
        scopes: BTreeSet<Scope>,
        days: i64,
    ) -> ServiceResult<NewToken> {
        let user = session_user(caller)?;
        if !(1..=MAX_PERSONAL_TOKEN_DAYS).contains(&days) {
            return Err(DomainError::invalid(
                "expiresInDays",
                format!("a token lasts 1 to {MAX_PERSONAL_TOKEN_DAYS} days"),
            )
            .into());
        }
        let expires = self.clock.now() + jiff::SignedDuration::from_hours(24 * days);
        self.create_token(caller, name, scopes, Some(user), Some(expires))
            .await
    }

    pub async fn personal_tokens(&self, caller: &Caller) -> ServiceResult<Vec<ApiToken>> {
        let user = session_user(caller)?;
        Ok(self
            .store
            .tokens()
            .await?
            .into_iter()
            .filter(|t| t.user_id == Some(user))
            .collect())
    }

    pub async fn revoke_personal_token(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let user = session_user(caller)?;
        let mine = self
            .store
            .tokens()
            .await?
            .into_iter()
            .any(|t| t.id == id && t.user_id == Some(user));
        if !mine {
            return Err(
                DomainError::not_found(ObjectKind::DirectoryObject, format!("token {id}")).into(),
            );
        }
        self.revoke_token(caller, id).await.map(|_| ())
    }

    /// Ends every sign-in session of a user, whatever way it signed in, and revokes the tokens
    /// acting for it.
    pub async fn revoke_sign_in_sessions(&self, caller: &Caller, user: Uuid) -> ServiceResult<u64> {
        authorize(caller, Operation::WriteUsers)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let u = tx.user(user).await?;
        let mut ended = tx
            .revoke_sessions_of(
                consulate_core::sign_in::LOCAL_ISSUER,
                &user.to_string(),
                now,
            )
            .await?;
        for i in &u.identities {
            ended += tx
                .revoke_sessions_of(&i.issuer, &i.issuer_assigned_id, now)
                .await?;
        }
        let tokens = tx.revoke_tokens_of_user(user, now).await?;
        let mut t = target("user", user, Some(&u.user_principal_name));
        t.modified_properties
            .push(prop("sessionsEnded", None, Some(ended.to_string())));
        t.modified_properties
            .push(prop("tokensRevoked", None, Some(tokens.to_string())));
        let event = self.event(
            caller,
            Category::UserManagement,
            "Revoke sign-in sessions",
            "user.revokeSignInSessions",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(ended)
    }
}
