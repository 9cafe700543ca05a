//! `access_package_subjects`: governed guests, their provenance, and their block/delete times;
//! and the reads the external-user lifecycle needs about a user's assignments and grants.

use crate::sql::{Row, Sql, micros};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};
use consulate_core::subject::{Subject, SubjectLifecycle};
use uuid::Uuid;

const COLUMNS: &str = "user_id, subject_lifecycle, connected_organization_id, created_by_request_id, blocked_at, delete_at";

fn opt_uuid(r: &Row, col: &str) -> StoreResult<Option<Uuid>> {
    r.opt_text(col)?
        .map(|s| Uuid::parse_str(&s))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn subject_from_row(r: &Row) -> StoreResult<Subject> {
    Ok(Subject {
        user_id: r.uuid("user_id")?,
        lifecycle: SubjectLifecycle::parse(&r.text("subject_lifecycle")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        connected_organization_id: opt_uuid(r, "connected_organization_id")?,
        created_by_request_id: opt_uuid(r, "created_by_request_id")?,
        blocked_at: r.opt_timestamp("blocked_at")?,
        delete_at: r.opt_timestamp("delete_at")?,
    })
}

impl Store {
    /// The subject record of a user, `None` when entitlement management has none.
    pub async fn subject(&self, user: Uuid) -> StoreResult<Option<Subject>> {
        self.fetch_optional(
            &Sql::dynamic(format!(
                "SELECT {COLUMNS} FROM access_package_subjects WHERE user_id = $1"
            ))
            .bind(user),
        )
        .await?
        .map(|r| subject_from_row(&r))
        .transpose()
    }
}

impl WriteTx {
    /// The subject record, locked for this transaction.
    pub async fn subject_for_update(&mut self, user: Uuid) -> StoreResult<Option<Subject>> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::dynamic(format!(
                "SELECT {COLUMNS} FROM access_package_subjects WHERE user_id = $1"
            )),
            Backend::Postgres => Sql::dynamic(format!(
                "SELECT {COLUMNS} FROM access_package_subjects WHERE user_id = $1 FOR UPDATE"
            )),
        };
        self.fetch_optional(&sql.bind(user))
            .await?
            .map(|r| subject_from_row(&r))
            .transpose()
    }

    /// Writes a subject record (insert or replace).
    pub async fn save_subject(&mut self, s: &Subject, at: jiff::Timestamp) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO access_package_subjects (user_id, subject_lifecycle, connected_organization_id, created_by_request_id, blocked_at, delete_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (user_id) DO UPDATE SET subject_lifecycle = excluded.subject_lifecycle, connected_organization_id = excluded.connected_organization_id, \
                 created_by_request_id = excluded.created_by_request_id, blocked_at = excluded.blocked_at, delete_at = excluded.delete_at, modified_at = excluded.modified_at",
            )
            .bind(s.user_id)
            .bind(s.lifecycle.as_str())
            .bind(s.connected_organization_id.map(|u| u.to_string()))
            .bind(s.created_by_request_id.map(|u| u.to_string()))
            .bind(s.blocked_at.map(micros))
            .bind(s.delete_at.map(micros))
            .bind(micros(at)),
        )
        .await
    }

    /// Blocks or unblocks a user's sign-in.
    pub async fn set_account_enabled(
        &mut self,
        user: Uuid,
        enabled: bool,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE users SET account_enabled = $1, modified_at = $2 WHERE id = $3")
                .bind(enabled)
                .bind(micros(at))
                .bind(user),
        )
        .await
    }

    /// How many active assignments a user holds.
    pub async fn count_active_assignments_of(&mut self, user: Uuid) -> StoreResult<i64> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT COUNT(*) AS n FROM assignments WHERE target_id = $1 AND state <> 'expired'")
                    .bind(user),
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
    }

    /// How many grants to a user are still in place (revocations not yet run).
    pub async fn count_granted_to(&mut self, user: Uuid) -> StoreResult<i64> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT COUNT(*) AS n FROM assignment_grants WHERE target_id = $1 AND state = 'granted'")
                    .bind(user),
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0))
    }

    /// The organization holding an identity-source key (`domain:…`, `tenant:…`), if any.
    pub async fn organization_by_source_key(&mut self, key: &str) -> StoreResult<Option<Uuid>> {
        self.fetch_optional(
            &Sql::new("SELECT organization_id FROM connected_organization_source_keys WHERE source_key = $1")
                .bind(key),
        )
        .await?
        .map(|r| r.uuid("organization_id"))
        .transpose()
    }

    /// Marks a guest's invitation accepted (its first request was approved).
    pub async fn accept_external_user(
        &mut self,
        user: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "UPDATE users SET external_user_state = 'Accepted', modified_at = $1 WHERE id = $2",
            )
            .bind(micros(at))
            .bind(user),
        )
        .await
    }
}
