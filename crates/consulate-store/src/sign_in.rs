//! Sign-in state: email one-time passcodes, consecutive failures per identifier, sessions.
//! Codes are counted with a conditional update before they are compared, so concurrent
//! submissions can never check more than the allowed number.

use crate::sql::{Row, Sql, micros};
use crate::{Backend, Store, StoreResult, WriteTx};
use uuid::Uuid;

/// A code as stored (its hash, never the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCode {
    pub id: Uuid,
    pub email: String,
    pub code_hash: String,
    pub deliverable: bool,
    pub created_at: jiff::Timestamp,
    pub expires_at: jiff::Timestamp,
    pub attempts: i64,
    pub consumed_at: Option<jiff::Timestamp>,
}

/// A session as stored (its id's hash, never the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub method: String,
    pub csrf_hash: String,
    pub created_at: jiff::Timestamp,
    pub last_seen_at: jiff::Timestamp,
    pub idle_seconds: i64,
    pub expires_at: jiff::Timestamp,
    pub revoked_at: Option<jiff::Timestamp>,
}

const CODE_COLUMNS: &str =
    "id, email, code_hash, deliverable, created_at, expires_at, attempts, consumed_at";
const SESSION_COLUMNS: &str = "id_hash, issuer, subject, email, method, csrf_hash, created_at, last_seen_at, idle_seconds, expires_at, revoked_at";

fn code_from_row(r: &Row) -> StoreResult<OtpCode> {
    Ok(OtpCode {
        id: r.uuid("id")?,
        email: r.text("email")?,
        code_hash: r.text("code_hash")?,
        deliverable: r.boolean("deliverable")?,
        created_at: r.timestamp("created_at")?,
        expires_at: r.timestamp("expires_at")?,
        attempts: r.int("attempts")?,
        consumed_at: r.opt_timestamp("consumed_at")?,
    })
}

fn session_from_row(r: &Row) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id_hash: r.text("id_hash")?,
        issuer: r.text("issuer")?,
        subject: r.text("subject")?,
        email: r.opt_text("email")?,
        method: r.text("method")?,
        csrf_hash: r.text("csrf_hash")?,
        created_at: r.timestamp("created_at")?,
        last_seen_at: r.timestamp("last_seen_at")?,
        idle_seconds: r.int("idle_seconds")?,
        expires_at: r.timestamp("expires_at")?,
        revoked_at: r.opt_timestamp("revoked_at")?,
    })
}

impl Store {
    pub async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        self.fetch_optional(
            &Sql::dynamic(format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1"
            ))
            .bind(id_hash),
        )
        .await?
        .map(|r| session_from_row(&r))
        .transpose()
    }

    /// Records that a session was used (at most once a minute, by the caller's choice).
    pub async fn touch_session(&self, id_hash: &str, at: jiff::Timestamp) -> StoreResult<()> {
        self.execute_bookkeeping(
            &Sql::new(
                "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
            )
            .bind(micros(at))
            .bind(id_hash),
        )
        .await?;
        Ok(())
    }
}

impl WriteTx {
    /// How many codes were issued for an address since `since`.
    pub async fn codes_issued_since(
        &mut self,
        email: &str,
        since: jiff::Timestamp,
    ) -> StoreResult<i64> {
        let row = self
            .fetch_optional(
                &Sql::new(
                    "SELECT COUNT(*) AS n FROM otp_codes WHERE email = $1 AND created_at > $2",
                )
                .bind(email)
                .bind(micros(since)),
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
    }

    /// Stores a new code and ends the address's earlier unused ones.
    pub async fn insert_code(&mut self, c: &OtpCode, flow_hash: &str) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE otp_codes SET expires_at = $1 WHERE email = $2 AND consumed_at IS NULL AND expires_at > $1")
                .bind(micros(c.created_at))
                .bind(c.email.as_str()),
        )
        .await?;
        self.write(
            Sql::new(
                "INSERT INTO otp_codes (id, email, flow_hash, code_hash, deliverable, created_at, expires_at, attempts, consumed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL)",
            )
            .bind(c.id)
            .bind(c.email.as_str())
            .bind(flow_hash)
            .bind(c.code_hash.as_str())
            .bind(c.deliverable)
            .bind(micros(c.created_at))
            .bind(micros(c.expires_at)),
        )
        .await
    }

    /// The newest code issued to a sign-in flow.
    pub async fn latest_code_of_flow(&mut self, flow_hash: &str) -> StoreResult<Option<OtpCode>> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::dynamic(format!(
                "SELECT {CODE_COLUMNS} FROM otp_codes WHERE flow_hash = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
            )),
            Backend::Postgres => Sql::dynamic(format!(
                "SELECT {CODE_COLUMNS} FROM otp_codes WHERE flow_hash = $1 ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE"
            )),
        };
        self.fetch_optional(&sql.bind(flow_hash))
            .await?
            .map(|r| code_from_row(&r))
            .transpose()
    }

    /// Counts one submission against a code, if it may still be checked (unused, unexpired,
    /// under `max` submissions). Only a counted submission is compared.
    pub async fn count_code_attempt(
        &mut self,
        id: Uuid,
        now: jiff::Timestamp,
        max: i64,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("UPDATE otp_codes SET attempts = attempts + 1 WHERE id = $1 AND consumed_at IS NULL AND expires_at > $2 AND attempts < $3")
                    .bind(id)
                    .bind(micros(now))
                    .bind(max),
            )
            .await?
            == 1)
    }

    /// Uses a code up; false when it was used already.
    pub async fn consume_code(&mut self, id: Uuid, now: jiff::Timestamp) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new(
                    "UPDATE otp_codes SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL",
                )
                .bind(micros(now))
                .bind(id),
            )
            .await?
            == 1)
    }

    /// Consecutive failures of an identifier and the last one's time, with the identifier's
    /// row locked for this transaction (created first if missing, so there is a row to lock:
    /// attempts for one identifier queue behind each other on PostgreSQL too).
    pub async fn failures_for_update(
        &mut self,
        identifier: &str,
    ) -> StoreResult<(i64, Option<jiff::Timestamp>)> {
        self.execute(
            &Sql::new("INSERT INTO sign_in_failures (identifier, failures, last_failure_at) VALUES ($1, 0, 0) ON CONFLICT (identifier) DO NOTHING")
                .bind(identifier),
        )
        .await?;
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT failures, last_failure_at FROM sign_in_failures WHERE identifier = $1",
            ),
            Backend::Postgres => Sql::new(
                "SELECT failures, last_failure_at FROM sign_in_failures WHERE identifier = $1 FOR UPDATE",
            ),
        };
        match self.fetch_optional(&sql.bind(identifier)).await? {
            Some(r) if r.int("failures")? > 0 => {
                Ok((r.int("failures")?, Some(r.timestamp("last_failure_at")?)))
            }
            _ => Ok((0, None)),
        }
    }

    pub async fn record_failure(
        &mut self,
        identifier: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO sign_in_failures (identifier, failures, last_failure_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (identifier) DO UPDATE SET failures = sign_in_failures.failures + 1, last_failure_at = excluded.last_failure_at",
            )
            .bind(identifier)
            .bind(micros(at)),
        )
        .await
    }

    pub async fn clear_failures(&mut self, identifier: &str) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE sign_in_failures SET failures = 0 WHERE identifier = $1")
                .bind(identifier),
        )
        .await
    }

    pub async fn insert_session(&mut self, s: &SessionRecord) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO sessions (id_hash, issuer, subject, email, method, csrf_hash, created_at, last_seen_at, idle_seconds, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
            )
            .bind(s.id_hash.as_str())
            .bind(s.issuer.as_str())
            .bind(s.subject.as_str())
            .bind(s.email.clone())
            .bind(s.method.as_str())
            .bind(s.csrf_hash.as_str())
            .bind(micros(s.created_at))
            .bind(micros(s.last_seen_at))
            .bind(s.idle_seconds)
            .bind(micros(s.expires_at)),
        )
        .await
    }

    /// Revokes one session; false when it was not active.
    pub async fn revoke_session(
        &mut self,
        id_hash: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new(
                    "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
                )
                .bind(micros(at))
                .bind(id_hash),
            )
            .await?
            == 1)
    }

    /// Revokes every active session of a principal; returns how many.
    pub async fn revoke_sessions_of(
        &mut self,
        issuer: &str,
        subject: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<u64> {
        self.execute(
            &Sql::new("UPDATE sessions SET revoked_at = $1 WHERE issuer = $2 AND subject = $3 AND revoked_at IS NULL")
                .bind(micros(at))
                .bind(issuer)
                .bind(subject),
        )
        .await
    }
}

impl Store {
    /// The user holding an identity (issuer compared without case, subject exactly).
    pub async fn user_by_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<Option<consulate_core::directory::User>> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT user_id FROM user_identities WHERE issuer_fold = $1 AND issuer_assigned_id = $2")
                    .bind(issuer.to_ascii_lowercase())
                    .bind(subject),
            )
            .await?;
        let Some(id) = row.map(|r| r.uuid("user_id")).transpose()? else {
            return Ok(None);
        };
        Ok(self.users_by_ids(&[id]).await?.into_iter().next())
    }
}

impl Store {
    /// The address the newest code of a sign-in flow was issued to.
    pub async fn code_email_of_flow(&self, flow_hash: &str) -> StoreResult<Option<String>> {
        self.fetch_optional(
            &Sql::new("SELECT email FROM otp_codes WHERE flow_hash = $1 ORDER BY created_at DESC, id DESC LIMIT 1")
                .bind(flow_hash),
        )
        .await?
        .map(|r| r.text("email"))
        .transpose()
    }
}
