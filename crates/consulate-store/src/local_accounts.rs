//! Local credentials of members and administrators: password hash, TOTP secret and last step,
//! recovery codes (hashed), and second-factor challenges.

use crate::sql::{Sql, micros};
use crate::{Backend, StoreResult, WriteTx};
use uuid::Uuid;

/// A user's local credentials.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub password_hash: Option<String>,
    /// The registered authenticator's secret (required at sign-in when enabled).
    pub totp_secret: Option<String>,
    /// A secret being registered, not yet confirmed (never used at sign-in).
    pub totp_pending_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
}

/// A second-factor challenge awaiting its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    pub user_id: Uuid,
    pub expires_at: jiff::Timestamp,
    pub attempts: i64,
    pub completed: bool,
}

impl WriteTx {
    /// A user's credentials, locked for this transaction (all empty when none are set).
    pub async fn credentials_for_update(&mut self, user: Uuid) -> StoreResult<Credentials> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT password_hash, totp_secret, totp_pending_secret, totp_enabled_at, totp_last_step FROM user_credentials WHERE user_id = $1",
            ),
            Backend::Postgres => Sql::new(
                "SELECT password_hash, totp_secret, totp_pending_secret, totp_enabled_at, totp_last_step FROM user_credentials WHERE user_id = $1 FOR UPDATE",
            ),
        };
        Ok(match self.fetch_optional(&sql.bind(user)).await? {
            Some(r) => Credentials {
                password_hash: r.opt_text("password_hash")?,
                totp_secret: r.opt_text("totp_secret")?,
                totp_pending_secret: r.opt_text("totp_pending_secret")?,
                totp_enabled: r.opt_int("totp_enabled_at")?.is_some(),
                totp_last_step: r.opt_int("totp_last_step")?,
            },
            None => Credentials::default(),
        })
    }

    async fn ensure_credentials(&mut self, user: Uuid, at: jiff::Timestamp) -> StoreResult<()> {
        self.write(
            Sql::new("INSERT INTO user_credentials (user_id, modified_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
                .bind(user)
                .bind(micros(at)),
        )
        .await
    }

    pub async fn set_password_hash(
        &mut self,
        user: Uuid,
        hash: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.ensure_credentials(user, at).await?;
        self.write(
            Sql::new("UPDATE user_credentials SET password_hash = $1, password_changed_at = $2, modified_at = $2 WHERE user_id = $3")
                .bind(hash)
                .bind(micros(at))
                .bind(user),
        )
        .await
    }

    /// Stores a TOTP secret awaiting confirmation; the registered one (if any) stays in force.
    pub async fn set_pending_totp(
        &mut self,
        user: Uuid,
        secret: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.ensure_credentials(user, at).await?;
        self.write(
            Sql::new("UPDATE user_credentials SET totp_pending_secret = $1, modified_at = $2 WHERE user_id = $3")
                .bind(secret)
                .bind(micros(at))
                .bind(user),
        )
        .await
    }

    /// Makes the pending secret the registered one, with the step its confirming code used.
    pub async fn enable_totp(
        &mut self,
        user: Uuid,
        step: i64,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE user_credentials SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_enabled_at = $1, totp_last_step = $2, modified_at = $1 WHERE user_id = $3")
                .bind(micros(at))
                .bind(step)
                .bind(user),
        )
        .await
    }

    /// Records the step of a TOTP code just used; false when that step (or a later one) was
    /// used already, so a code works once.
    pub async fn use_totp_step(&mut self, user: Uuid, step: i64) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("UPDATE user_credentials SET totp_last_step = $1 WHERE user_id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)")
                    .bind(step)
                    .bind(user),
            )
            .await?
            == 1)
    }

    /// Replaces a user's recovery codes (hashes).
    pub async fn replace_recovery_codes(
        &mut self,
        user: Uuid,
        hashes: &[String],
    ) -> StoreResult<()> {
        self.write(Sql::new("DELETE FROM recovery_codes WHERE user_id = $1").bind(user))
            .await?;
        for h in hashes {
            self.write(
                Sql::new("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                    .bind(user)
                    .bind(h.as_str()),
            )
            .await?;
        }
        Ok(())
    }

    /// Uses a recovery code once; false when unknown or used.
    pub async fn use_recovery_code(
        &mut self,
        user: Uuid,
        hash: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
                    .bind(micros(at))
                    .bind(user)
                    .bind(hash),
            )
            .await?
            == 1)
    }

    pub async fn insert_mfa_challenge(
        &mut self,
        flow_hash: &str,
        user: Uuid,
        now: jiff::Timestamp,
        expires_at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO mfa_challenges (flow_hash, user_id, created_at, expires_at, attempts, completed_at) VALUES ($1, $2, $3, $4, 0, NULL) \
                 ON CONFLICT (flow_hash) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at, expires_at = excluded.expires_at, attempts = 0, completed_at = NULL",
            )
            .bind(flow_hash)
            .bind(user)
            .bind(micros(now))
            .bind(micros(expires_at)),
        )
        .await
    }

    pub async fn mfa_challenge_for_update(
        &mut self,
        flow_hash: &str,
    ) -> StoreResult<Option<MfaChallenge>> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT user_id, expires_at, attempts, completed_at FROM mfa_challenges WHERE flow_hash = $1",
            ),
            Backend::Postgres => Sql::new(
                "SELECT user_id, expires_at, attempts, completed_at FROM mfa_challenges WHERE flow_hash = $1 FOR UPDATE",
            ),
        };
        self.fetch_optional(&sql.bind(flow_hash))
            .await?
            .map(|r| {
                Ok(MfaChallenge {
                    user_id: r.uuid("user_id")?,
                    expires_at: r.timestamp("expires_at")?,
                    attempts: r.int("attempts")?,
                    completed: r.opt_int("completed_at")?.is_some(),
                })
            })
            .transpose()
    }

    /// Counts one submission against a challenge of `table` (a second-factor challenge table:
    /// `flow_hash`, `attempts`, `expires_at`, `completed_at`) if it may still be checked.
    pub(crate) async fn count_challenge_attempt(
        &mut self,
        table: &'static str,
        flow_hash: &str,
        now: jiff::Timestamp,
        max: i64,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::dynamic(format!("UPDATE {table} SET attempts = attempts + 1 WHERE flow_hash = $1 AND completed_at IS NULL AND expires_at > $2 AND attempts < $3"))
                    .bind(flow_hash)
                    .bind(micros(now))
                    .bind(max),
            )
            .await?
            == 1)
    }

    /// Marks a challenge of `table` done; false when it was done already.
    pub(crate) async fn complete_challenge(
        &mut self,
        table: &'static str,
        flow_hash: &str,
        now: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::dynamic(format!("UPDATE {table} SET completed_at = $1 WHERE flow_hash = $2 AND completed_at IS NULL"))
                    .bind(micros(now))
                    .bind(flow_hash),
            )
            .await?
            == 1)
    }

    /// Counts one submission against a challenge if it may still be checked.
    pub async fn count_mfa_attempt(
        &mut self,
        flow_hash: &str,
        now: jiff::Timestamp,
        max: i64,
    ) -> StoreResult<bool> {
        self.count_challenge_attempt("mfa_challenges", flow_hash, now, max)
            .await
    }

    pub async fn complete_mfa_challenge(
        &mut self,
        flow_hash: &str,
        now: jiff::Timestamp,
    ) -> StoreResult<bool> {
        self.complete_challenge("mfa_challenges", flow_hash, now)
            .await
    }
}

impl crate::Store {
    /// A user's password hash, if a password is set.
    pub async fn password_hash(&self, user: Uuid) -> StoreResult<Option<String>> {
        Ok(self
            .fetch_optional(
                &Sql::new("SELECT password_hash FROM user_credentials WHERE user_id = $1")
                    .bind(user),
            )
            .await?
            .map(|r| r.opt_text("password_hash"))
            .transpose()?
            .flatten())
    }
}
