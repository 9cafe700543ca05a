//! The second factor of people from outside who sign in with an email one-time passcode: their
//! authenticator app (TOTP secret, pending secret, last step used), keyed by principal, and the
//! challenges of sign-ins waiting for its code.

use crate::sql::{Sql, micros};
use crate::{Backend, StoreResult, WriteTx};

/// A principal's authenticator (all empty when none is registered).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExternalAuthenticator {
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub enabled: bool,
}

/// A sign-in waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalChallenge {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// The session cap the sign-in rules set, in seconds.
    pub session_cap_seconds: Option<i64>,
}

impl WriteTx {
    /// A principal's authenticator, locked for this transaction.
    pub async fn external_authenticator_for_update(
        &mut self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<ExternalAuthenticator> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT totp_secret, totp_pending_secret, totp_enabled_at FROM external_authenticators WHERE issuer = $1 AND subject = $2",
            ),
            Backend::Postgres => Sql::new(
                "SELECT totp_secret, totp_pending_secret, totp_enabled_at FROM external_authenticators WHERE issuer = $1 AND subject = $2 FOR UPDATE",
            ),
        };
        Ok(
            match self.fetch_optional(&sql.bind(issuer).bind(subject)).await? {
                Some(r) => ExternalAuthenticator {
                    totp_secret: r.opt_text("totp_secret")?,
                    totp_pending_secret: r.opt_text("totp_pending_secret")?,
                    enabled: r.opt_int("totp_enabled_at")?.is_some(),
                },
                None => ExternalAuthenticator::default(),
            },
        )
    }

    /// Stores a secret awaiting its first code; a registered one stays in force.
    pub async fn set_external_pending_totp(
        &mut self,
        (issuer, subject): (&str, &str),
        secret: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO external_authenticators (issuer, subject, totp_pending_secret, modified_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (issuer, subject) DO UPDATE SET totp_pending_secret = excluded.totp_pending_secret, modified_at = excluded.modified_at",
            )
            .bind(issuer)
            .bind(subject)
            .bind(secret)
            .bind(micros(at)),
        )
        .await
    }

    /// Makes the pending secret the registered one, with the step its first code used; false
    /// when there was no pending secret (someone else finished or reset it meanwhile).
    pub async fn enable_external_totp(
        &mut self,
        (issuer, subject): (&str, &str),
        step: i64,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new(
                    "UPDATE external_authenticators SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_enabled_at = $1, totp_last_step = $2, modified_at = $1 \
                     WHERE issuer = $3 AND subject = $4 AND totp_pending_secret IS NOT NULL AND totp_enabled_at IS NULL",
                )
                .bind(micros(at))
                .bind(step)
                .bind(issuer)
                .bind(subject),
            )
            .await?
            == 1)
    }

    /// Records the step of a code just used; false when that step (or a later one) was used
    /// already, so a code works once.
    pub async fn use_external_totp_step(
        &mut self,
        (issuer, subject): (&str, &str),
        step: i64,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("UPDATE external_authenticators SET totp_last_step = $1 WHERE issuer = $2 AND subject = $3 AND totp_enabled_at IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)")
                    .bind(step)
                    .bind(issuer)
                    .bind(subject),
            )
            .await?
            == 1)
    }

    /// Removes a principal's authenticator (an administrator's reset); false when none was.
    pub async fn delete_external_authenticator(
        &mut self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("DELETE FROM external_authenticators WHERE issuer = $1 AND subject = $2")
                    .bind(issuer)
                    .bind(subject),
            )
            .await?
            == 1)
    }

    /// Opens (or restarts) the second-factor challenge of a sign-in flow.
    pub async fn insert_external_challenge(
        &mut self,
        flow_hash: &str,
        c: &ExternalChallenge,
        now: jiff::Timestamp,
        expires_at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO external_mfa_challenges (flow_hash, issuer, subject, email, session_cap_seconds, created_at, expires_at, attempts, completed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL) \
                 ON CONFLICT (flow_hash) DO UPDATE SET issuer = excluded.issuer, subject = excluded.subject, email = excluded.email, \
                 session_cap_seconds = excluded.session_cap_seconds, created_at = excluded.created_at, expires_at = excluded.expires_at, attempts = 0, completed_at = NULL",
            )
            .bind(flow_hash)
            .bind(c.issuer.as_str())
            .bind(c.subject.as_str())
            .bind(c.email.clone())
            .bind(c.session_cap_seconds)
            .bind(micros(now))
            .bind(micros(expires_at)),
        )
        .await
    }

    /// The open challenge of a flow, locked for this transaction.
    pub async fn external_challenge_for_update(
        &mut self,
        flow_hash: &str,
    ) -> StoreResult<Option<ExternalChallenge>> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT issuer, subject, email, session_cap_seconds FROM external_mfa_challenges WHERE flow_hash = $1 AND completed_at IS NULL",
            ),
            Backend::Postgres => Sql::new(
                "SELECT issuer, subject, email, session_cap_seconds FROM external_mfa_challenges WHERE flow_hash = $1 AND completed_at IS NULL FOR UPDATE",
            ),
        };
        self.fetch_optional(&sql.bind(flow_hash))
            .await?
            .map(|r| {
                Ok(ExternalChallenge {
                    issuer: r.text("issuer")?,
                    subject: r.text("subject")?,
                    email: r.opt_text("email")?,
                    session_cap_seconds: r.opt_int("session_cap_seconds")?,
                })
            })
            .transpose()
    }

    /// Counts one submission against a challenge if it may still be checked.
    pub async fn count_external_challenge_attempt(
        &mut self,
        flow_hash: &str,
        now: jiff::Timestamp,
        max: i64,
    ) -> StoreResult<bool> {
        self.count_challenge_attempt("external_mfa_challenges", flow_hash, now, max)
            .await
    }

    /// Marks a challenge done; false when it was done already.
    pub async fn complete_external_challenge(
        &mut self,
        flow_hash: &str,
        now: jiff::Timestamp,
    ) -> StoreResult<bool> {
        self.complete_challenge("external_mfa_challenges", flow_hash, now)
            .await
    }
}

impl crate::Store {
    /// Whether a principal has registered an authenticator.
    pub async fn external_authenticator_registered(
        &self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<bool> {
        Ok(self
            .fetch_optional(
                &Sql::new("SELECT 1 AS one FROM external_authenticators WHERE issuer = $1 AND subject = $2 AND totp_enabled_at IS NOT NULL")
                    .bind(issuer)
                    .bind(subject),
            )
            .await?
            .is_some())
    }
}
