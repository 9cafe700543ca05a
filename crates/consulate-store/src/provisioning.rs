//! The directory side of granting and revoking a resource role: group membership and
//! ownership, app role assignments and directory role assignments. Every call is idempotent
//! and reports whether it changed anything.

use crate::sql::{Sql, micros};
use crate::{StoreResult, WriteTx};
use consulate_core::resource::Grant;
use uuid::Uuid;

impl WriteTx {
    /// Gives `user` what `grant` names; false when the user already held it.
    pub async fn grant(
        &mut self,
        grant: &Grant,
        user: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        let sql = match grant {
            Grant::GroupMember { group } => Sql::new(
                "INSERT INTO group_members (group_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(*group),
            Grant::GroupOwner { group } => Sql::new(
                "INSERT INTO group_owners (group_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(*group),
            Grant::AppRole {
                application,
                app_role,
            } => {
                return Ok(self
                    .execute(
                        &Sql::new(
                            "INSERT INTO app_role_assignments (application_id, app_role_id, user_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        )
                        .bind(*application)
                        .bind(*app_role)
                        .bind(user)
                        .bind(micros(at)),
                    )
                    .await?
                    == 1);
            }
            Grant::DirectoryRole(role) => Sql::new(
                "INSERT INTO directory_role_assignments (role, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(role.key()),
        };
        Ok(self.execute(&sql.bind(user).bind(micros(at))).await? == 1)
    }

    /// Takes back what `grant` names from `user`; false when the user did not hold it.
    pub async fn revoke(&mut self, grant: &Grant, user: Uuid) -> StoreResult<bool> {
        let sql = match grant {
            Grant::GroupMember { group } => {
                Sql::new("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(*group)
            }
            Grant::GroupOwner { group } => {
                Sql::new("DELETE FROM group_owners WHERE group_id = $1 AND user_id = $2")
                    .bind(*group)
            }
            Grant::AppRole {
                application,
                app_role,
            } => {
                return Ok(self
                    .execute(
                        &Sql::new("DELETE FROM app_role_assignments WHERE application_id = $1 AND app_role_id = $2 AND user_id = $3")
                            .bind(*application)
                            .bind(*app_role)
                            .bind(user),
                    )
                    .await?
                    == 1);
            }
            Grant::DirectoryRole(role) => {
                Sql::new("DELETE FROM directory_role_assignments WHERE role = $1 AND user_id = $2")
                    .bind(role.key())
            }
        };
        Ok(self.execute(&sql.bind(user)).await? == 1)
    }

    /// Whether `user` holds what `grant` names (read inside the transaction).
    pub async fn holds(&mut self, grant: &Grant, user: Uuid) -> StoreResult<bool> {
        let sql = match grant {
            Grant::GroupMember { group } => {
                Sql::new("SELECT 1 AS one FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(*group)
            }
            Grant::GroupOwner { group } => {
                Sql::new("SELECT 1 AS one FROM group_owners WHERE group_id = $1 AND user_id = $2")
                    .bind(*group)
            }
            Grant::AppRole {
                application,
                app_role,
            } => {
                return Ok(self
                    .fetch_optional(
                        &Sql::new("SELECT 1 AS one FROM app_role_assignments WHERE application_id = $1 AND app_role_id = $2 AND user_id = $3")
                            .bind(*application)
                            .bind(*app_role)
                            .bind(user),
                    )
                    .await?
                    .is_some());
            }
            Grant::DirectoryRole(role) => Sql::new(
                "SELECT 1 AS one FROM directory_role_assignments WHERE role = $1 AND user_id = $2",
            )
            .bind(role.key()),
        };
        Ok(self.fetch_optional(&sql.bind(user)).await?.is_some())
    }
}
