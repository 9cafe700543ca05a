//! Users, their identities and directory roles; groups and their members.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::access::DirectoryRole;
use consulate_core::directory::{Group, ObjectIdentity, User, UserType};
use consulate_core::error::ObjectKind;
use consulate_core::filter::{GroupField, UserField};
use consulate_core::text::fold;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

const USER_COLUMNS: &str = "u.id, u.display_name, u.given_name, u.surname, u.mail, u.user_principal_name, u.user_type, u.account_enabled, \
                            u.creation_type, u.external_user_state, u.created_at";
const GROUP_COLUMNS: &str = "g.id, g.display_name, g.description, g.mail_nickname, g.security_enabled, g.mail_enabled, g.created_at";

fn user_from_row(r: &Row, identities: Vec<ObjectIdentity>) -> StoreResult<User> {
    Ok(User {
        id: r.uuid("id")?,
        display_name: r.text("display_name")?,
        given_name: r.opt_text("given_name")?,
        surname: r.opt_text("surname")?,
        mail: r.opt_text("mail")?,
        user_principal_name: r.text("user_principal_name")?,
        user_type: UserType::parse(&r.text("user_type")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        account_enabled: r.boolean("account_enabled")?,
        identities,
        creation_type: r.opt_text("creation_type")?,
        external_user_state: r.opt_text("external_user_state")?,
        created_date_time: r.timestamp("created_at")?,
    })
}

fn group_from_row(r: &Row) -> StoreResult<Group> {
    Ok(Group {
        id: r.uuid("id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        mail_nickname: r.text("mail_nickname")?,
        security_enabled: r.boolean("security_enabled")?,
        mail_enabled: r.boolean("mail_enabled")?,
        created_date_time: r.timestamp("created_at")?,
    })
}

fn identities_query(ids: &[Uuid]) -> Sql {
    let mut sql = Sql::dynamic("SELECT user_id, sign_in_type, issuer, issuer_assigned_id FROM user_identities WHERE user_id IN (".into());
    let ps: Vec<String> = ids.iter().map(|id| sql.placeholder(*id)).collect();
    sql.push(&ps.join(", "));
    sql.push(") ORDER BY user_id, position");
    sql
}

fn users_with_identities(rows: &[Row], ident_rows: Vec<Row>) -> StoreResult<Vec<User>> {
    let mut by_user: HashMap<Uuid, Vec<ObjectIdentity>> = HashMap::new();
    for r in ident_rows {
        by_user
            .entry(r.uuid("user_id")?)
            .or_default()
            .push(ObjectIdentity {
                sign_in_type: r.text("sign_in_type")?,
                issuer: r.text("issuer")?,
                issuer_assigned_id: r.text("issuer_assigned_id")?,
            });
    }
    rows.iter()
        .map(|r| user_from_row(r, by_user.remove(&r.uuid("id")?).unwrap_or_default()))
        .collect()
}

impl Store {
    async fn load_users(&self, rows: Vec<Row>) -> StoreResult<Vec<User>> {
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<StoreResult<_>>()?;
        let idents = if ids.is_empty() {
            Vec::new()
        } else {
            self.fetch_all(&identities_query(&ids)).await?
        };
        users_with_identities(&rows, idents)
    }

    pub async fn user(&self, id: Uuid) -> StoreResult<User> {
        let row = self
            .fetch_optional(&Sql::new("SELECT u.id, u.display_name, u.given_name, u.surname, u.mail, u.user_principal_name, u.user_type, u.account_enabled, u.creation_type, u.external_user_state, u.created_at FROM users u WHERE u.id = $1").bind(id))
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::User, id.to_string()))?;
        Ok(self.load_users(vec![row]).await?.remove(0))
    }

    /// A user by id, user principal name or mail (case-insensitive), for the CLI.
    pub async fn find_user(&self, key: &str) -> StoreResult<Option<User>> {
        let k = fold(key.trim());
        let row = self
            .fetch_optional(&Sql::new("SELECT u.id, u.display_name, u.given_name, u.surname, u.mail, u.user_principal_name, u.user_type, u.account_enabled, u.creation_type, u.external_user_state, u.created_at FROM users u WHERE u.id = $1 OR u.upn_fold = $1 OR u.mail_fold = $1 ORDER BY u.id LIMIT 1").bind(k))
            .await?;
        match row {
            Some(r) => Ok(Some(self.load_users(vec![r]).await?.remove(0))),
            None => Ok(None),
        }
    }

    pub async fn list_users(&self, q: &ListQuery<UserField>) -> StoreResult<Page<User>> {
        let src = ListSource {
            select: USER_COLUMNS,
            from: "users u",
            id: "u.id",
            name: "u.display_name_fold",
            table: "users",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let users = self.load_users(rows).await?;
        Ok(list::finish(
            users,
            q.top,
            q.order,
            |u| (fold(&u.display_name), u.id.to_string()),
            count,
        ))
    }

    /// The directory roles a user holds.
    pub async fn user_roles(&self, id: Uuid) -> StoreResult<BTreeSet<DirectoryRole>> {
        let rows = self
            .fetch_all(
                &Sql::new("SELECT role FROM directory_role_assignments WHERE user_id = $1")
                    .bind(id),
            )
            .await?;
        rows.iter()
            .map(|r| {
                DirectoryRole::parse(&r.text("role")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    pub async fn group(&self, id: Uuid) -> StoreResult<Group> {
        let row = self
            .fetch_optional(&Sql::new("SELECT g.id, g.display_name, g.description, g.mail_nickname, g.security_enabled, g.mail_enabled, g.created_at FROM groups g WHERE g.id = $1").bind(id))
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::Group, id.to_string()))?;
        group_from_row(&row)
    }

    pub async fn list_groups(&self, q: &ListQuery<GroupField>) -> StoreResult<Page<Group>> {
        let src = ListSource {
            select: GROUP_COLUMNS,
            from: "groups g",
            id: "g.id",
            name: "g.display_name_fold",
            table: "groups",
            scope: None,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let groups = rows
            .iter()
            .map(group_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            groups,
            q.top,
            q.order,
            |g| (fold(&g.display_name), g.id.to_string()),
            count,
        ))
    }

    /// A page of a group's member users.
    pub async fn group_members(
        &self,
        group: Uuid,
        q: &ListQuery<UserField>,
    ) -> StoreResult<Page<User>> {
        let src = ListSource {
            select: USER_COLUMNS,
            from: "users u JOIN group_members m ON m.user_id = u.id",
            id: "u.id",
            name: "u.display_name_fold",
            table: "users",
            scope: Some(("m.group_id = $1", vec![group.into()])),
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let users = self.load_users(rows).await?;
        Ok(list::finish(
            users,
            q.top,
            q.order,
            |u| (fold(&u.display_name), u.id.to_string()),
            count,
        ))
    }

    /// Users and groups by id, for sponsor lists (missing ids are skipped).
    /// Whether `user` owns `group`.
    pub async fn is_group_owner(&self, group: Uuid, user: Uuid) -> StoreResult<bool> {
        Ok(self
            .fetch_optional(
                &Sql::new("SELECT 1 AS one FROM group_owners WHERE group_id = $1 AND user_id = $2")
                    .bind(group)
                    .bind(user),
            )
            .await?
            .is_some())
    }

    /// The groups a user is a member of.
    pub async fn group_ids_of_user(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            &Sql::new("SELECT group_id FROM group_members WHERE user_id = $1").bind(user),
        )
        .await?
        .iter()
        .map(|r| r.uuid("group_id"))
        .collect()
    }

    pub async fn users_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::dynamic(format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id IN ("
        ));
        let ps: Vec<String> = ids.iter().map(|id| sql.placeholder(*id)).collect();
        sql.push(&ps.join(", "));
        sql.push(") ORDER BY u.id");
        let rows = self.fetch_all(&sql).await?;
        self.load_users(rows).await
    }

    pub async fn groups_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Group>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::dynamic(format!(
            "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.id IN ("
        ));
        let ps: Vec<String> = ids.iter().map(|id| sql.placeholder(*id)).collect();
        sql.push(&ps.join(", "));
        sql.push(") ORDER BY g.id");
        self.fetch_all(&sql)
            .await?
            .iter()
            .map(group_from_row)
            .collect()
    }
}

impl WriteTx {
    pub async fn user(&mut self, id: Uuid) -> StoreResult<User> {
        let row = self
            .fetch_optional(&Sql::new("SELECT u.id, u.display_name, u.given_name, u.surname, u.mail, u.user_principal_name, u.user_type, u.account_enabled, u.creation_type, u.external_user_state, u.created_at FROM users u WHERE u.id = $1").bind(id))
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::User, id.to_string()))?;
        let idents = self.fetch_all(&identities_query(&[id])).await?;
        Ok(users_with_identities(&[row], idents)?.remove(0))
    }

    pub async fn group(&mut self, id: Uuid) -> StoreResult<Group> {
        let row = self
            .fetch_optional(&Sql::new("SELECT g.id, g.display_name, g.description, g.mail_nickname, g.security_enabled, g.mail_enabled, g.created_at FROM groups g WHERE g.id = $1").bind(id))
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::Group, id.to_string()))?;
        group_from_row(&row)
    }

    async fn write_identities(&mut self, user: &User) -> StoreResult<()> {
        self.execute(&Sql::new("DELETE FROM user_identities WHERE user_id = $1").bind(user.id))
            .await?;
        for (pos, i) in user.identities.iter().enumerate() {
            self.execute(
                &Sql::new("INSERT INTO user_identities (user_id, position, sign_in_type, issuer, issuer_fold, issuer_assigned_id) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(user.id)
                    .bind(pos as i64)
                    .bind(i.sign_in_type.as_str())
                    .bind(i.issuer.as_str())
                    .bind(i.issuer.to_ascii_lowercase())
                    .bind(i.issuer_assigned_id.as_str()),
            )
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    DomainError::conflict(format!("the identity ({}, {}) already belongs to another user", i.issuer, i.issuer_assigned_id)).into()
                } else {
                    e
                }
            })?;
        }
        Ok(())
    }

    pub async fn insert_user(&mut self, u: &User) -> StoreResult<()> {
        self.execute(
            &Sql::new(
                "INSERT INTO users (id, display_name, display_name_fold, given_name, surname, mail, mail_fold, user_principal_name, upn_fold, user_type, \
                 account_enabled, creation_type, external_user_state, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
            )
            .bind(u.id)
            .bind(u.display_name.as_str())
            .bind(fold(&u.display_name))
            .bind(u.given_name.clone())
            .bind(u.surname.clone())
            .bind(u.mail.clone())
            .bind(u.mail.as_deref().map(fold))
            .bind(u.user_principal_name.as_str())
            .bind(fold(&u.user_principal_name))
            .bind(u.user_type.as_str())
            .bind(u.account_enabled)
            .bind(u.creation_type.clone())
            .bind(u.external_user_state.clone())
            .bind(micros(u.created_date_time)),
        )
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                DomainError::conflict(format!("Another object with the same value for property userPrincipalName already exists: {}", u.user_principal_name)).into()
            } else {
                e
            }
        })?;
        self.write_identities(u).await
    }

    pub async fn update_user(
        &mut self,
        u: &User,
        at: jiff::Timestamp,
        identities_changed: bool,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new(
                    "UPDATE users SET display_name = $1, display_name_fold = $2, given_name = $3, surname = $4, mail = $5, mail_fold = $6, user_principal_name = $7, \
                     upn_fold = $8, user_type = $9, account_enabled = $10, creation_type = $11, external_user_state = $12, modified_at = $13 WHERE id = $14",
                )
                .bind(u.display_name.as_str())
                .bind(fold(&u.display_name))
                .bind(u.given_name.clone())
                .bind(u.surname.clone())
                .bind(u.mail.clone())
                .bind(u.mail.as_deref().map(fold))
                .bind(u.user_principal_name.as_str())
                .bind(fold(&u.user_principal_name))
                .bind(u.user_type.as_str())
                .bind(u.account_enabled)
                .bind(u.creation_type.clone())
                .bind(u.external_user_state.clone())
                .bind(micros(at))
                .bind(u.id),
            )
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    DomainError::conflict(format!("Another object with the same value for property userPrincipalName already exists: {}", u.user_principal_name)).into()
                } else {
                    e
                }
            })?;
        if n != 1 {
            return Err(DomainError::not_found(ObjectKind::User, u.id.to_string()).into());
        }
        if identities_changed {
            self.write_identities(u).await?;
        }
        Ok(())
    }

    /// Deletes a user; memberships, sponsorships, role assignments and tokens go with it.
    pub async fn delete_user(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM users WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(DomainError::not_found(ObjectKind::User, id.to_string()).into());
        }
        Ok(())
    }

    pub async fn assign_role(
        &mut self,
        user: Uuid,
        role: DirectoryRole,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        let exists = self
            .fetch_optional(&Sql::new("SELECT 1 AS one FROM directory_role_assignments WHERE user_id = $1 AND role = $2").bind(user).bind(role.key()))
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        self.execute(&Sql::new("INSERT INTO directory_role_assignments (user_id, role, created_at) VALUES ($1, $2, $3)").bind(user).bind(role.key()).bind(micros(at)))
            .await?;
        Ok(true)
    }

    pub async fn insert_group(&mut self, g: &Group) -> StoreResult<()> {
        self.execute(
            &Sql::new(
                "INSERT INTO groups (id, display_name, display_name_fold, description, mail_nickname, security_enabled, mail_enabled, created_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(g.id)
            .bind(g.display_name.as_str())
            .bind(fold(&g.display_name))
            .bind(g.description.as_str())
            .bind(g.mail_nickname.as_str())
            .bind(g.security_enabled)
            .bind(g.mail_enabled)
            .bind(micros(g.created_date_time)),
        )
        .await?;
        Ok(())
    }

    pub async fn update_group(&mut self, g: &Group, at: jiff::Timestamp) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new(
                    "UPDATE groups SET display_name = $1, display_name_fold = $2, description = $3, mail_nickname = $4, security_enabled = $5, mail_enabled = $6, \
                     modified_at = $7 WHERE id = $8",
                )
                .bind(g.display_name.as_str())
                .bind(fold(&g.display_name))
                .bind(g.description.as_str())
                .bind(g.mail_nickname.as_str())
                .bind(g.security_enabled)
                .bind(g.mail_enabled)
                .bind(micros(at))
                .bind(g.id),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::not_found(ObjectKind::Group, g.id.to_string()).into());
        }
        Ok(())
    }

    pub async fn delete_group(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM groups WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(DomainError::not_found(ObjectKind::Group, id.to_string()).into());
        }
        Ok(())
    }

    /// Adds a member; false if already a member.
    pub async fn add_group_member(
        &mut self,
        group: Uuid,
        user: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        let exists = self
            .fetch_optional(
                &Sql::new(
                    "SELECT 1 AS one FROM group_members WHERE group_id = $1 AND user_id = $2",
                )
                .bind(group)
                .bind(user),
            )
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        self.execute(
            &Sql::new(
                "INSERT INTO group_members (group_id, user_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(group)
            .bind(user)
            .bind(micros(at)),
        )
        .await?;
        Ok(true)
    }

    pub async fn remove_group_member(&mut self, group: Uuid, user: Uuid) -> StoreResult<bool> {
        Ok(self
            .execute(
                &Sql::new("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(group)
                    .bind(user),
            )
            .await?
            == 1)
    }
}
