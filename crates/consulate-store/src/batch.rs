//! Set-based reads and writes for work that touches many assignments at once: the expiry
//! sweep, revocations, deliveries and their eligibility re-check. Each call is one statement
//! (or one per chunk) over a list of ids instead of one per row, with the same
//! conditional-write rules as the single-row calls in [`crate::lifecycle`]: a state change
//! names the state it moves from and fails with a conflict when any row was changed meanwhile.

use crate::lifecycle::{
    ASSIGNMENT_COLUMNS, REQUEST_COLUMNS, assignment_from_row, request_from_row,
};
use crate::sql::{Arg, Row, Sql, micros};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::lifecycle::{Assignment, AssignmentRequest, AssignmentState, RequestState};
use consulate_core::resource::Grant;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Rows per multi-row statement: well under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters for the widest row written here (18 columns).
const CHUNK: usize = 500;

/// Appends `(p1, p2, …)` binding `items`.
fn push_list<A: Into<Arg>>(sql: &mut Sql, items: impl IntoIterator<Item = A>) {
    sql.push("(");
    for (i, a) in items.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        let p = sql.placeholder(a);
        sql.push(&p);
    }
    sql.push(")");
}

/// `FOR UPDATE` on PostgreSQL (SQLite's writer is exclusive anyway).
fn lock(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// One grant of one assignment, as a batch revocation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldGrant {
    pub assignment_id: Uuid,
    pub target_id: Uuid,
    pub grant_key: String,
    pub state: String,
}

fn held_grant(r: &Row) -> StoreResult<HeldGrant> {
    Ok(HeldGrant {
        assignment_id: r.uuid("assignment_id")?,
        target_id: r.uuid("target_id")?,
        grant_key: r.text("grant_key")?,
        state: r.text("state")?,
    })
}

/// `statement` (ending in `IN `, its own arguments bound) once for each chunk of `ids`: the
/// chunk's list, then `tail`; with the chunk's length.
fn in_chunks<'a>(
    statement: &'a Sql,
    ids: &'a [Uuid],
    tail: &'a str,
) -> impl Iterator<Item = (Sql, usize)> + 'a {
    ids.chunks(CHUNK).map(move |chunk| {
        let mut sql = statement.clone();
        push_list(&mut sql, chunk.iter().copied());
        sql.push(tail);
        (sql, chunk.len())
    })
}

impl Store {
    /// Like [`WriteTx::fetch_in`], on the read pool.
    async fn fetch_in(&self, select: Sql, ids: &[Uuid], tail: &str) -> StoreResult<Vec<Row>> {
        let mut rows = Vec::new();
        for (sql, _) in in_chunks(&select, ids, tail) {
            rows.extend(self.fetch_all(&sql).await?);
        }
        Ok(rows)
    }

    /// The requests of `ids` that exist, in no particular order.
    pub async fn assignment_requests_by_ids(
        &self,
        ids: &[Uuid],
    ) -> StoreResult<Vec<AssignmentRequest>> {
        let select = Sql::dynamic(format!(
            "SELECT {REQUEST_COLUMNS} FROM assignment_requests WHERE id IN "
        ));
        self.fetch_in(select, ids, "")
            .await?
            .iter()
            .map(request_from_row)
            .collect()
    }

    /// (user, group) for each group membership of `users`.
    pub async fn group_ids_of_users(&self, users: &[Uuid]) -> StoreResult<Vec<(Uuid, Uuid)>> {
        let select = Sql::new("SELECT user_id, group_id FROM group_members WHERE user_id IN ");
        self.fetch_in(select, users, "")
            .await?
            .iter()
            .map(|r| Ok((r.uuid("user_id")?, r.uuid("group_id")?)))
            .collect()
    }

    /// (user, access package) for each active assignment of `users`.
    pub async fn held_packages_of(&self, users: &[Uuid]) -> StoreResult<Vec<(Uuid, Uuid)>> {
        let select = Sql::new(
            "SELECT target_id, access_package_id FROM assignments WHERE state <> 'expired' AND target_id IN ",
        );
        self.fetch_in(select, users, "")
            .await?
            .iter()
            .map(|r| Ok((r.uuid("target_id")?, r.uuid("access_package_id")?)))
            .collect()
    }
}

impl WriteTx {
    /// The rows of `select` (ending in `IN `, its own arguments bound) for each chunk of
    /// `ids`, with `tail` after the list.
    async fn fetch_in(&mut self, select: Sql, ids: &[Uuid], tail: &str) -> StoreResult<Vec<Row>> {
        let mut rows = Vec::new();
        for (sql, _) in in_chunks(&select, ids, tail) {
            rows.extend(self.fetch_all(&sql).await?);
        }
        Ok(rows)
    }

    /// Runs `update` (ending in `IN `, its own arguments bound) for each chunk of `ids`. With
    /// `conflict`, a conditional write: every row must match, else that conflict (and the
    /// caller's transaction goes no further). Without, a plain write.
    async fn update_in(
        &mut self,
        update: Sql,
        ids: &[Uuid],
        conflict: Option<&'static str>,
    ) -> StoreResult<()> {
        for (sql, n) in in_chunks(&update, ids, "") {
            match conflict {
                Some(message) => {
                    if self.execute(&sql).await? != n as u64 {
                        return Err(DomainError::conflict(message).into());
                    }
                }
                None => self.write(sql).await?,
            }
        }
        Ok(())
    }

    /// Active assignments whose end has come by `at`, oldest end first, locked for this
    /// transaction (on PostgreSQL rows another sweep holds are skipped).
    pub async fn assignments_due_for_update(
        &mut self,
        at: jiff::Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Assignment>> {
        let skip = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        self.fetch_all(
            &Sql::dynamic(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE state <> 'expired' AND end_at IS NOT NULL AND end_at <= $1 ORDER BY end_at, id LIMIT $2{skip}"
            ))
            .bind(micros(at))
            .bind(limit),
        )
        .await?
        .iter()
        .map(assignment_from_row)
        .collect()
    }

    /// The user and state of each of these assignments (those that exist), locked for this
    /// transaction.
    pub async fn assignment_states_for_update(
        &mut self,
        ids: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, (Uuid, AssignmentState)>> {
        let select = Sql::new("SELECT id, target_id, state FROM assignments WHERE id IN ");
        self.fetch_in(select, ids, lock(self.backend()))
            .await?
            .iter()
            .map(|r| {
                let state = AssignmentState::parse(&r.text("state")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((r.uuid("id")?, (r.uuid("target_id")?, state)))
            })
            .collect()
    }

    /// The state of each of these requests (those that exist), locked for this transaction.
    pub async fn request_states_for_update(
        &mut self,
        ids: &[Uuid],
    ) -> StoreResult<HashMap<Uuid, RequestState>> {
        let select = Sql::new("SELECT id, state FROM assignment_requests WHERE id IN ");
        self.fetch_in(select, ids, lock(self.backend()))
            .await?
            .iter()
            .map(|r| {
                let state = RequestState::parse(&r.text("state")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((r.uuid("id")?, state))
            })
            .collect()
    }

    /// The current version of each of these policies (those that exist).
    pub async fn policy_versions(&mut self, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, i64>> {
        let select = Sql::new("SELECT id, version FROM assignment_policies WHERE id IN ");
        self.fetch_in(select, ids, "")
            .await?
            .iter()
            .map(|r| Ok((r.uuid("id")?, r.int("version")?)))
            .collect()
    }

    /// Moves the assignments `ids`, all in state `from`, to `to` (a conditional write): fails
    /// with a conflict, changing nothing the caller commits, when any of them moved meanwhile.
    pub async fn set_assignments_state(
        &mut self,
        ids: &[Uuid],
        from: AssignmentState,
        to: AssignmentState,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let expired = (to == AssignmentState::Expired).then(|| micros(at));
        let update = Sql::new("UPDATE assignments SET state = $1, modified_at = $2, expired_at = COALESCE($3, expired_at) WHERE state = $4 AND id IN ")
            .bind(to.as_str())
            .bind(micros(at))
            .bind(expired)
            .bind(from.as_str());
        self.update_in(
            update,
            ids,
            Some("an assignment was changed by another operation; retry"),
        )
        .await
    }

    /// Moves the requests `ids`, all in state `from`, to `to` (a conditional write, like
    /// [`Self::set_assignments_state`]).
    pub async fn set_requests_state(
        &mut self,
        ids: &[Uuid],
        from: RequestState,
        to: RequestState,
        completed: Option<jiff::Timestamp>,
    ) -> StoreResult<()> {
        let update = Sql::new("UPDATE assignment_requests SET state = $1, completed_at = COALESCE($2, completed_at) WHERE state = $3 AND id IN ")
            .bind(to.as_str())
            .bind(completed.map(micros))
            .bind(from.as_str());
        self.update_in(
            update,
            ids,
            Some("a request was changed by another operation; retry"),
        )
        .await
    }

    /// Of `users`, those with a governed subject record that is not blocked yet: the only
    /// users whose last assignment ending changes anything beyond the assignment.
    pub async fn governed_unblocked(&mut self, users: &[Uuid]) -> StoreResult<HashSet<Uuid>> {
        let select = Sql::new(
            "SELECT user_id FROM access_package_subjects WHERE subject_lifecycle = 'governed' AND blocked_at IS NULL AND user_id IN ",
        );
        self.fetch_in(select, users, "")
            .await?
            .iter()
            .map(|r| r.uuid("user_id"))
            .collect()
    }

    /// Records new requests (multi-row inserts; none carries an idempotency key).
    pub async fn insert_requests(&mut self, requests: &[AssignmentRequest]) -> StoreResult<()> {
        for chunk in requests.chunks(CHUNK) {
            let mut sql = Sql::new(
                "INSERT INTO assignment_requests (id, request_type, state, access_package_id, policy_id, policy_version, target_id, requestor_kind, requestor_id, assignment_id, \
                 justification, answers, schedule_start, schedule_end, created_at, completed_at) VALUES ",
            );
            for (i, r) in chunk.iter().enumerate() {
                let (kind, requestor) = crate::lifecycle::requested_by_columns(&r.requested_by);
                let answers = serde_json::to_string(&r.answers)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if i > 0 {
                    sql.push(", ");
                }
                let args: [Arg; 16] = [
                    r.id.into(),
                    r.request_type.as_str().into(),
                    r.state.as_str().into(),
                    r.access_package_id.into(),
                    r.policy_id.into(),
                    r.policy_version.into(),
                    r.target_id.into(),
                    kind.into(),
                    requestor.into(),
                    r.assignment_id.map(|a| a.to_string()).into(),
                    r.justification.as_str().into(),
                    answers.into(),
                    micros(r.schedule.start).into(),
                    r.schedule.end.map(micros).into(),
                    micros(r.created_date_time).into(),
                    r.completed_date_time.map(micros).into(),
                ];
                push_list(&mut sql, args);
            }
            self.write(sql).await?;
        }
        Ok(())
    }

    /// Marks outbox rows done.
    pub async fn outbox_done_many(&mut self, ids: &[Uuid], at: jiff::Timestamp) -> StoreResult<()> {
        let update =
            Sql::new("UPDATE outbox SET done_at = $1, attempts = attempts + 1 WHERE id IN ")
                .bind(micros(at));
        self.update_in(update, ids, None).await
    }

    /// The grants of these assignments, in assignment then role order.
    pub async fn grants_of_assignments(
        &mut self,
        assignments: &[Uuid],
    ) -> StoreResult<Vec<HeldGrant>> {
        let select = Sql::new(
            "SELECT assignment_id, target_id, grant_key, state FROM assignment_grants WHERE assignment_id IN ",
        );
        self.fetch_in(select, assignments, " ORDER BY assignment_id, role_id")
            .await?
            .iter()
            .map(held_grant)
            .collect()
    }

    /// The granted grants of `targets` held through an active (not expired) assignment.
    pub async fn active_grants_of(&mut self, targets: &[Uuid]) -> StoreResult<Vec<HeldGrant>> {
        let select = Sql::new(
            "SELECT g.assignment_id, g.target_id, g.grant_key, g.state FROM assignment_grants g JOIN assignments a ON a.id = g.assignment_id \
             WHERE g.state = 'granted' AND a.state <> 'expired' AND g.target_id IN ",
        );
        self.fetch_in(select, targets, "")
            .await?
            .iter()
            .map(held_grant)
            .collect()
    }

    /// Marks every pending or granted grant of these assignments revoked.
    pub async fn revoke_grant_rows(&mut self, assignments: &[Uuid]) -> StoreResult<()> {
        let update = Sql::new(
            "UPDATE assignment_grants SET state = 'revoked' WHERE state IN ('pending', 'granted') AND assignment_id IN ",
        );
        self.update_in(update, assignments, None).await
    }

    /// Marks every pending grant of these assignments granted.
    pub async fn mark_grants_granted(&mut self, assignments: &[Uuid]) -> StoreResult<()> {
        let update = Sql::new(
            "UPDATE assignment_grants SET state = 'granted' WHERE state = 'pending' AND assignment_id IN ",
        );
        self.update_in(update, assignments, None).await
    }

    /// Gives each (grant, user) of a batch, one statement per kind of grant and chunk.
    /// Idempotent, like [`Self::grant`]: what a user holds already stays as it is.
    pub async fn grant_many(
        &mut self,
        grants: &[(Grant, Uuid)],
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let at = micros(at);
        let mut members = Vec::new();
        let mut owners = Vec::new();
        let mut app_roles = Vec::new();
        let mut roles = Vec::new();
        for (g, user) in grants {
            match g {
                Grant::GroupMember { group } => {
                    members.push([(*group).into(), (*user).into(), at.into()])
                }
                Grant::GroupOwner { group } => {
                    owners.push([(*group).into(), (*user).into(), at.into()])
                }
                Grant::AppRole {
                    application,
                    app_role,
                } => app_roles.push([
                    (*application).into(),
                    (*app_role).into(),
                    (*user).into(),
                    at.into(),
                ]),
                Grant::DirectoryRole(r) => roles.push([r.key().into(), (*user).into(), at.into()]),
            }
        }
        self.insert_tuples("group_members", "group_id, user_id, created_at", members)
            .await?;
        self.insert_tuples("group_owners", "group_id, user_id, created_at", owners)
            .await?;
        self.insert_tuples(
            "app_role_assignments",
            "application_id, app_role_id, user_id, created_at",
            app_roles,
        )
        .await?;
        self.insert_tuples(
            "directory_role_assignments",
            "role, user_id, created_at",
            roles,
        )
        .await
    }

    async fn insert_tuples<const N: usize>(
        &mut self,
        table: &'static str,
        columns: &'static str,
        rows: Vec<[Arg; N]>,
    ) -> StoreResult<()> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut sql = Sql::dynamic(format!("INSERT INTO {table} ({columns}) VALUES "));
            for (i, row) in rows.by_ref().take(CHUNK).enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                push_list(&mut sql, row);
            }
            sql.push(" ON CONFLICT DO NOTHING");
            self.write(sql).await?;
        }
        Ok(())
    }

    /// Takes away what each (grant, user) names: one statement per group, application role
    /// or directory role and chunk of users, each a primary-key lookup (a row-value
    /// `IN (VALUES …)` would scan the whole table). Idempotent, like [`Self::revoke`].
    pub async fn revoke_many(&mut self, grants: &[(Grant, Uuid)]) -> StoreResult<()> {
        let mut members: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut owners: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut app_roles: HashMap<(Uuid, Uuid), Vec<Uuid>> = HashMap::new();
        let mut roles: HashMap<&'static str, Vec<Uuid>> = HashMap::new();
        for (g, user) in grants {
            match g {
                Grant::GroupMember { group } => members.entry(*group).or_default().push(*user),
                Grant::GroupOwner { group } => owners.entry(*group).or_default().push(*user),
                Grant::AppRole {
                    application,
                    app_role,
                } => app_roles
                    .entry((*application, *app_role))
                    .or_default()
                    .push(*user),
                Grant::DirectoryRole(r) => roles.entry(r.key()).or_default().push(*user),
            }
        }
        for (group, users) in members {
            let sql = Sql::new("DELETE FROM group_members WHERE group_id = $1 AND user_id IN ")
                .bind(group);
            self.update_in(sql, &users, None).await?;
        }
        for (group, users) in owners {
            let sql = Sql::new("DELETE FROM group_owners WHERE group_id = $1 AND user_id IN ")
                .bind(group);
            self.update_in(sql, &users, None).await?;
        }
        for ((application, app_role), users) in app_roles {
            let sql = Sql::new(
                "DELETE FROM app_role_assignments WHERE application_id = $1 AND app_role_id = $2 AND user_id IN ",
            )
            .bind(application)
            .bind(app_role);
            self.update_in(sql, &users, None).await?;
        }
        for (role, users) in roles {
            let sql =
                Sql::new("DELETE FROM directory_role_assignments WHERE role = $1 AND user_id IN ")
                    .bind(role);
            self.update_in(sql, &users, None).await?;
        }
        Ok(())
    }
}
