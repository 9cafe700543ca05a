//! A user's manager and sponsors (`user_managers`, `user_sponsors`).

use crate::sql::{Sql, micros};
use crate::{Store, StoreResult, WriteTx};
use consulate_core::directory::User;
use uuid::Uuid;

impl Store {
    /// The user's manager, if one is set.
    pub async fn manager_of(&self, user: Uuid) -> StoreResult<Option<User>> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT manager_id FROM user_managers WHERE user_id = $1").bind(user),
            )
            .await?;
        let Some(id) = row.map(|r| r.uuid("manager_id")).transpose()? else {
            return Ok(None);
        };
        Ok(self.users_by_ids(&[id]).await?.into_iter().next())
    }

    /// The user's sponsors, in id order.
    pub async fn sponsors_of(&self, user: Uuid) -> StoreResult<Vec<User>> {
        let ids = self
            .fetch_all(
                &Sql::new("SELECT sponsor_id FROM user_sponsors WHERE user_id = $1").bind(user),
            )
            .await?
            .iter()
            .map(|r| r.uuid("sponsor_id"))
            .collect::<StoreResult<Vec<_>>>()?;
        self.users_by_ids(&ids).await
    }
}

impl WriteTx {
    /// Sets (or replaces) the user's manager; returns the previous one.
    pub async fn set_manager(
        &mut self,
        user: Uuid,
        manager: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<Option<Uuid>> {
        let before = self
            .fetch_optional(
                &Sql::new("SELECT manager_id FROM user_managers WHERE user_id = $1").bind(user),
            )
            .await?
            .map(|r| r.uuid("manager_id"))
            .transpose()?;
        self.write(
            Sql::new(
                "INSERT INTO user_managers (user_id, manager_id, modified_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET manager_id = excluded.manager_id, modified_at = excluded.modified_at",
            )
            .bind(user)
            .bind(manager)
            .bind(micros(at)),
        )
        .await?;
        Ok(before)
    }

    /// Removes the user's manager; false when none was set.
    pub async fn remove_manager(&mut self, user: Uuid) -> StoreResult<bool> {
        Ok(self
            .execute(&Sql::new("DELETE FROM user_managers WHERE user_id = $1").bind(user))
            .await?
            == 1)
    }

    /// Adds a sponsor; false when it already was one.
    pub async fn add_user_sponsor(
        &mut self,
        user: Uuid,
        sponsor: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("INSERT INTO user_sponsors (user_id, sponsor_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(user)
                    .bind(sponsor)
                    .bind(micros(at)),
            )
            .await?
            == 1)
    }

    /// Removes a sponsor; false when it was not one.
    pub async fn remove_user_sponsor(&mut self, user: Uuid, sponsor: Uuid) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("DELETE FROM user_sponsors WHERE user_id = $1 AND sponsor_id = $2")
                    .bind(user)
                    .bind(sponsor),
            )
            .await?
            == 1)
    }

    /// The user's manager, when set and enabled (an approver set).
    pub async fn enabled_manager_ids(&mut self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            &Sql::new("SELECT m.manager_id FROM user_managers m JOIN users u ON u.id = m.manager_id WHERE m.user_id = $1 AND u.account_enabled = $2")
                .bind(user)
                .bind(true),
        )
        .await?
        .iter()
        .map(|r| r.uuid("manager_id"))
        .collect()
    }

    /// The user's enabled sponsors (an approver set).
    pub async fn enabled_user_sponsor_ids(&mut self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            &Sql::new("SELECT s.sponsor_id FROM user_sponsors s JOIN users u ON u.id = s.sponsor_id WHERE s.user_id = $1 AND u.account_enabled = $2")
                .bind(user)
                .bind(true),
        )
        .await?
        .iter()
        .map(|r| r.uuid("sponsor_id"))
        .collect()
    }
}
