//! The entitlement-management settings row (`/settings`).

use crate::sql::{Row, Sql, micros};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};
use consulate_core::lifecycle::{ExternalUserLifecycleAction, Settings};
use consulate_core::policy::IsoDuration;

const SELECT: &str = "SELECT external_user_lifecycle_action, duration_until_deleted FROM entitlement_settings WHERE id = 1";

fn settings_from_row(r: Option<Row>) -> StoreResult<Settings> {
    let r = r.ok_or_else(|| StoreError::Corrupt("the settings row is missing".into()))?;
    let corrupt = |e: consulate_core::DomainError| StoreError::Corrupt(e.to_string());
    Ok(Settings {
        external_user_lifecycle_action: ExternalUserLifecycleAction::parse(
            &r.text("external_user_lifecycle_action")?,
        )
        .map_err(corrupt)?,
        duration_until_external_user_deleted_after_blocked: IsoDuration::parse(
            "duration",
            &r.text("duration_until_deleted")?,
        )
        .map_err(corrupt)?,
    })
}

impl Store {
    pub async fn settings(&self) -> StoreResult<Settings> {
        settings_from_row(self.fetch_optional(&Sql::new(SELECT)).await?)
    }
}

impl WriteTx {
    /// The settings as this transaction sees them, without locking the row.
    pub async fn settings(&mut self) -> StoreResult<Settings> {
        settings_from_row(self.fetch_optional(&Sql::new(SELECT)).await?)
    }

    pub async fn settings_for_update(&mut self) -> StoreResult<Settings> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(SELECT),
            Backend::Postgres => Sql::dynamic(format!("{SELECT} FOR UPDATE")),
        };
        settings_from_row(self.fetch_optional(&sql).await?)
    }

    pub async fn save_settings(&mut self, s: &Settings, at: jiff::Timestamp) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE entitlement_settings SET external_user_lifecycle_action = $1, duration_until_deleted = $2, modified_at = $3 WHERE id = 1")
                .bind(s.external_user_lifecycle_action.as_str())
                .bind(s.duration_until_external_user_deleted_after_blocked.as_str())
                .bind(micros(at)),
        )
        .await
    }
}
