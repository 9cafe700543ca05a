//! Requests, assignments, the grants each assignment delivers, and the delivery queue (the
//! `outbox`). Every state change is a conditional write on the state read.

use crate::list::{self, ListQuery, ListSource, Page};
use crate::sql::{Arg, Row, Sql, micros};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::directory::UserType;
use consulate_core::error::ObjectKind;
use consulate_core::filter::{AssignmentField, AssignmentRequestField};
use consulate_core::lifecycle::{
    Assignment, AssignmentRequest, AssignmentState, RequestState, RequestedBy,
};
use consulate_core::request::{Answer, RequestType, Schedule};
use uuid::Uuid;

pub(crate) const REQUEST_COLUMNS: &str = "id, request_type, state, access_package_id, policy_id, policy_version, target_id, requestor_kind, requestor_id, assignment_id, justification, answers, schedule_start, schedule_end, created_at, completed_at";
pub(crate) const ASSIGNMENT_COLUMNS: &str = "id, access_package_id, policy_id, catalog_id, target_id, state, start_at, end_at, created_at, modified_at, expired_at";

/// A directory user as a request sees it (see [`Store::requestor_facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestorFacts {
    pub user_type: UserType,
    pub groups: Vec<Uuid>,
    pub held_packages: Vec<Uuid>,
    /// Whether an `accessPackageSubject` record exists for the user.
    pub has_subject: bool,
}

/// One grant of an assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentGrant {
    pub role_id: Uuid,
    pub grant_key: String,
    pub state: String,
}

/// Which assignments a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentScope {
    All,
    /// One user's.
    Target(Uuid),
    /// Active assignments of `access_package` whose target also holds
    /// `incompatible_access_package` (Graph's `additionalAccess`).
    AdditionalAccess {
        access_package: Uuid,
        incompatible_access_package: Uuid,
    },
}

/// Whose requests a list holds (Graph's `filterByCurrentUser(on=…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestScope {
    All,
    /// Requests for this user's access.
    Target(Uuid),
    /// Requests this user made (for themselves or, as an administrator, for others).
    CreatedBy(Uuid),
    /// Requests with a stage this user is (or was) an approver of.
    Approver(Uuid),
}

fn corrupt(e: DomainError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn request_from_row(r: &Row) -> StoreResult<AssignmentRequest> {
    let requested_by = match (
        r.text("requestor_kind")?.as_str(),
        r.opt_text("requestor_id")?,
    ) {
        ("user", Some(id)) => {
            RequestedBy::User(Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        }
        ("application", Some(id)) => RequestedBy::Application(
            Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        ),
        _ => RequestedBy::System,
    };
    let answers: Vec<Answer> = serde_json::from_str(&r.text("answers")?)
        .map_err(|e| StoreError::Corrupt(format!("request answers: {e}")))?;
    Ok(AssignmentRequest {
        id: r.uuid("id")?,
        request_type: RequestType::parse(&r.text("request_type")?).map_err(corrupt)?,
        state: RequestState::parse(&r.text("state")?).map_err(corrupt)?,
        access_package_id: r.uuid("access_package_id")?,
        policy_id: r.uuid("policy_id")?,
        policy_version: r.int("policy_version")?,
        target_id: r.uuid("target_id")?,
        requested_by,
        assignment_id: r
            .opt_text("assignment_id")?
            .map(|s| Uuid::parse_str(&s))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        justification: r.text("justification")?,
        answers,
        schedule: Schedule {
            start: r.timestamp("schedule_start")?,
            end: r.opt_timestamp("schedule_end")?,
        },
        created_date_time: r.timestamp("created_at")?,
        completed_date_time: r.opt_timestamp("completed_at")?,
    })
}

pub(crate) fn assignment_from_row(r: &Row) -> StoreResult<Assignment> {
    Ok(Assignment {
        id: r.uuid("id")?,
        access_package_id: r.uuid("access_package_id")?,
        policy_id: r.uuid("policy_id")?,
        catalog_id: r.uuid("catalog_id")?,
        target_id: r.uuid("target_id")?,
        state: AssignmentState::parse(&r.text("state")?).map_err(corrupt)?,
        schedule: Schedule {
            start: r.timestamp("start_at")?,
            end: r.opt_timestamp("end_at")?,
        },
        created_date_time: r.timestamp("created_at")?,
        modified_date_time: r.timestamp("modified_at")?,
        expired_date_time: r.opt_timestamp("expired_at")?,
    })
}

pub(crate) fn requested_by_columns(by: &RequestedBy) -> (&'static str, Option<String>) {
    match by {
        RequestedBy::User(id) => ("user", Some(id.to_string())),
        RequestedBy::Application(id) => ("application", Some(id.to_string())),
        RequestedBy::System => ("system", None),
    }
}

impl Store {
    pub async fn assignment_request(&self, id: Uuid) -> StoreResult<AssignmentRequest> {
        let row = self
            .fetch_optional(
                &Sql::dynamic(format!(
                    "SELECT {REQUEST_COLUMNS} FROM assignment_requests WHERE id = $1"
                ))
                .bind(id),
            )
            .await?
            .ok_or_else(|| {
                StoreError::from(DomainError::not_found(
                    ObjectKind::AssignmentRequest,
                    id.to_string(),
                ))
            })?;
        request_from_row(&row)
    }

    /// Requests, newest first, optionally only one target's.
    /// A page of requests in creation order, of everyone or of one user.
    pub async fn list_assignment_requests(
        &self,
        scope: RequestScope,
        q: &ListQuery<AssignmentRequestField>,
    ) -> StoreResult<Page<AssignmentRequest>> {
        let src = ListSource {
            select: REQUEST_COLUMNS,
            from: "assignment_requests r",
            id: "r.id",
            name: "r.id",
            table: "assignment_requests",
            scope: match scope {
                RequestScope::All => None,
                RequestScope::Target(u) => Some(("r.target_id = $1", vec![Arg::from(u)])),
                RequestScope::CreatedBy(u) => Some((
                    "r.requestor_kind = 'user' AND r.requestor_id = $1",
                    vec![Arg::from(u)],
                )),
                RequestScope::Approver(u) => Some((
                    "r.id IN (SELECT s.request_id FROM approval_stage_approvers a JOIN approval_stages s ON s.id = a.stage_id WHERE a.user_id = $1)",
                    vec![Arg::from(u)],
                )),
            },
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let items = rows
            .iter()
            .map(request_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |r| (String::new(), r.id.to_string()),
            count,
        ))
    }

    pub async fn assignment(&self, id: Uuid) -> StoreResult<Assignment> {
        let row = self
            .fetch_optional(
                &Sql::dynamic(format!(
                    "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = $1"
                ))
                .bind(id),
            )
            .await?
            .ok_or_else(|| {
                StoreError::from(DomainError::not_found(
                    ObjectKind::Assignment,
                    id.to_string(),
                ))
            })?;
        assignment_from_row(&row)
    }

    /// A page of assignments in creation order, narrowed by `scope`.
    pub async fn list_assignments(
        &self,
        scope: AssignmentScope,
        q: &ListQuery<AssignmentField>,
    ) -> StoreResult<Page<Assignment>> {
        let scope = match scope {
            AssignmentScope::All => None,
            AssignmentScope::Target(t) => Some(("a.target_id = $1", vec![Arg::from(t)])),
            AssignmentScope::AdditionalAccess {
                access_package,
                incompatible_access_package,
            } => Some((
                "a.access_package_id = $1 AND a.state <> 'expired' AND EXISTS (SELECT 1 FROM assignments b WHERE b.target_id = a.target_id AND b.access_package_id = $2 AND b.state <> 'expired')",
                vec![
                    Arg::from(access_package),
                    Arg::from(incompatible_access_package),
                ],
            )),
        };
        let src = ListSource {
            select: ASSIGNMENT_COLUMNS,
            from: "assignments a",
            id: "a.id",
            name: "a.id",
            table: "assignments",
            scope,
        };
        let (rows, count) = self.fetch_page(&src, q).await?;
        let items = rows
            .iter()
            .map(assignment_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(list::finish(
            items,
            q.top,
            q.order,
            |a| (String::new(), a.id.to_string()),
            count,
        ))
    }

    /// What a request needs to know of a directory user, in one read: its type, its groups,
    /// the packages it holds and whether it has a subject record. `None` when the user does
    /// not exist.
    pub async fn requestor_facts(&self, user: Uuid) -> StoreResult<Option<RequestorFacts>> {
        let rows = self
            .fetch_all(
                &Sql::new(
                    "SELECT 'u' AS kind, user_type AS v FROM users WHERE id = $1 \
                     UNION ALL SELECT 's', user_id FROM access_package_subjects WHERE user_id = $1 \
                     UNION ALL SELECT 'g', group_id FROM group_members WHERE user_id = $1 \
                     UNION ALL SELECT 'p', access_package_id FROM assignments WHERE target_id = $1 AND state <> 'expired'",
                )
                .bind(user),
            )
            .await?;
        let (mut user_type, mut has_subject) = (None, false);
        let (mut groups, mut held_packages) = (Vec::new(), Vec::new());
        for r in &rows {
            match r.text("kind")?.as_str() {
                "u" => {
                    user_type = Some(
                        UserType::parse(&r.text("v")?)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    );
                }
                "s" => has_subject = true,
                "g" => groups.push(r.uuid("v")?),
                _ => held_packages.push(r.uuid("v")?),
            }
        }
        Ok(user_type.map(|user_type| RequestorFacts {
            user_type,
            groups,
            held_packages,
            has_subject,
        }))
    }

    pub async fn grants_of(&self, assignment: Uuid) -> StoreResult<Vec<AssignmentGrant>> {
        self.fetch_all(&Sql::new("SELECT role_id, grant_key, state FROM assignment_grants WHERE assignment_id = $1 ORDER BY role_id").bind(assignment))
            .await?
            .iter()
            .map(|r| {
                Ok(AssignmentGrant {
                    role_id: r.uuid("role_id")?,
                    grant_key: r.text("grant_key")?,
                    state: r.text("state")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Payloads of due outbox rows of `kind` (read without locking, to prepare a round).
    pub async fn due_outbox_payloads(
        &self,
        kind: &str,
        now: jiff::Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        self.fetch_all(
            &Sql::new("SELECT payload FROM outbox WHERE done_at IS NULL AND kind = $1 AND available_at <= $2 ORDER BY available_at, id LIMIT $3")
                .bind(kind)
                .bind(micros(now))
                .bind(limit),
        )
        .await?
        .iter()
        .map(|r| r.text("payload"))
        .collect()
    }
}

impl Store {
    /// Ids of the due rows of these kinds, in the order the workers take them.
    pub async fn due_outbox_ids(
        &self,
        kinds: &[&str],
        now: jiff::Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Uuid>> {
        let mut sql = Sql::dynamic(String::new());
        let ps: Vec<String> = kinds
            .iter()
            .map(|k| sql.placeholder(k.to_string()))
            .collect();
        let at = sql.placeholder(micros(now));
        let lim = sql.placeholder(limit);
        sql.push(&format!(
            "SELECT id FROM outbox WHERE done_at IS NULL AND kind IN ({}) AND available_at <= {at} ORDER BY available_at, id LIMIT {lim}",
            ps.join(", ")
        ));
        self.fetch_all(&sql)
            .await?
            .iter()
            .map(|r| r.uuid("id"))
            .collect()
    }
}

impl WriteTx {
    /// A request made earlier by the same requestor with the same idempotency key, with the
    /// hash of its body.
    pub async fn request_by_idempotency_key(
        &mut self,
        requestor: &RequestedBy,
        key: &str,
    ) -> StoreResult<Option<(AssignmentRequest, String)>> {
        let (_, id) = requested_by_columns(requestor);
        let Some(row) = self
            .fetch_optional(
                &Sql::dynamic(format!("SELECT {REQUEST_COLUMNS}, idempotency_hash FROM assignment_requests WHERE requestor_id = $1 AND idempotency_key = $2"))
                    .bind(id)
                    .bind(key),
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            request_from_row(&row)?,
            row.opt_text("idempotency_hash")?.unwrap_or_default(),
        )))
    }

    pub async fn insert_request(
        &mut self,
        r: &AssignmentRequest,
        idempotency: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        let (kind, requestor) = requested_by_columns(&r.requested_by);
        let answers =
            serde_json::to_string(&r.answers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write(
            Sql::new(
                "INSERT INTO assignment_requests (id, request_type, state, access_package_id, policy_id, policy_version, target_id, requestor_kind, requestor_id, assignment_id, \
                 justification, answers, schedule_start, schedule_end, idempotency_key, idempotency_hash, created_at, completed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            )
            .bind(r.id)
            .bind(r.request_type.as_str())
            .bind(r.state.as_str())
            .bind(r.access_package_id)
            .bind(r.policy_id)
            .bind(r.policy_version)
            .bind(r.target_id)
            .bind(kind)
            .bind(requestor)
            .bind(r.assignment_id.map(|a| a.to_string()))
            .bind(r.justification.as_str())
            .bind(answers)
            .bind(micros(r.schedule.start))
            .bind(r.schedule.end.map(micros))
            .bind(idempotency.map(|(k, _)| k.to_owned()))
            .bind(idempotency.map(|(_, h)| h.to_owned()))
            .bind(micros(r.created_date_time))
            .bind(r.completed_date_time.map(micros)),
        )
        .await
    }

    /// Moves a request from `from` to `to` (a conditional write); fails with a conflict when
    /// another change got there first.
    pub async fn set_request_state(
        &mut self,
        id: Uuid,
        from: RequestState,
        to: RequestState,
        completed: Option<jiff::Timestamp>,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new("UPDATE assignment_requests SET state = $1, completed_at = COALESCE($2, completed_at) WHERE id = $3 AND state = $4")
                    .bind(to.as_str())
                    .bind(completed.map(micros))
                    .bind(id)
                    .bind(from.as_str()),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::conflict(
                "the request was changed by another operation; retry",
            )
            .into());
        }
        Ok(())
    }

    /// How many active assignments an access package has.
    pub async fn count_active_assignments(&mut self, package: Uuid) -> StoreResult<u64> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT COUNT(*) AS n FROM assignments WHERE access_package_id = $1 AND state <> 'expired'")
                    .bind(package),
            )
            .await?;
        Ok(row.map(|r| r.int("n")).transpose()?.unwrap_or(0) as u64)
    }

    pub async fn delete_request(&mut self, id: Uuid) -> StoreResult<()> {
        if self
            .execute(&Sql::new("DELETE FROM assignment_requests WHERE id = $1").bind(id))
            .await?
            != 1
        {
            return Err(
                DomainError::not_found(ObjectKind::AssignmentRequest, id.to_string()).into(),
            );
        }
        Ok(())
    }

    /// Links a request to the assignment it created.
    pub async fn set_request_assignment(
        &mut self,
        id: Uuid,
        assignment: Option<Uuid>,
    ) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE assignment_requests SET assignment_id = $1 WHERE id = $2")
                .bind(assignment.map(|a| a.to_string()))
                .bind(id),
        )
        .await
    }

    /// The active assignment of a package to a user, if any.
    pub async fn active_assignment(
        &mut self,
        package: Uuid,
        target: Uuid,
    ) -> StoreResult<Option<Assignment>> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::dynamic(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE access_package_id = $1 AND target_id = $2 AND state <> 'expired'"
            )),
            Backend::Postgres => Sql::dynamic(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE access_package_id = $1 AND target_id = $2 AND state <> 'expired' FOR UPDATE"
            )),
        };
        self.fetch_optional(&sql.bind(package).bind(target))
            .await?
            .map(|r| assignment_from_row(&r))
            .transpose()
    }

    pub async fn assignment_for_update(&mut self, id: Uuid) -> StoreResult<Assignment> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::dynamic(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = $1"
            )),
            Backend::Postgres => Sql::dynamic(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = $1 FOR UPDATE"
            )),
        };
        let row = self.fetch_optional(&sql.bind(id)).await?.ok_or_else(|| {
            StoreError::from(DomainError::not_found(
                ObjectKind::Assignment,
                id.to_string(),
            ))
        })?;
        assignment_from_row(&row)
    }

    pub async fn request_for_update(&mut self, id: Uuid) -> StoreResult<AssignmentRequest> {
        self.find_request_for_update(id).await?.ok_or_else(|| {
            StoreError::from(DomainError::not_found(
                ObjectKind::AssignmentRequest,
                id.to_string(),
            ))
        })
    }

    /// Like [`Self::request_for_update`], `None` when the request was deleted.
    pub async fn find_request_for_update(
        &mut self,
        id: Uuid,
    ) -> StoreResult<Option<AssignmentRequest>> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::dynamic(format!(
                "SELECT {REQUEST_COLUMNS} FROM assignment_requests WHERE id = $1"
            )),
            Backend::Postgres => Sql::dynamic(format!(
                "SELECT {REQUEST_COLUMNS} FROM assignment_requests WHERE id = $1 FOR UPDATE"
            )),
        };
        self.fetch_optional(&sql.bind(id))
            .await?
            .map(|row| request_from_row(&row))
            .transpose()
    }

    /// Records a new assignment with its grants (all pending).
    pub async fn insert_assignment(
        &mut self,
        a: &Assignment,
        grants: &[(Uuid, String)],
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO assignments (id, access_package_id, policy_id, catalog_id, target_id, state, start_at, end_at, created_at, modified_at, expired_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(a.id)
            .bind(a.access_package_id)
            .bind(a.policy_id)
            .bind(a.catalog_id)
            .bind(a.target_id)
            .bind(a.state.as_str())
            .bind(micros(a.schedule.start))
            .bind(a.schedule.end.map(micros))
            .bind(micros(a.created_date_time))
            .bind(micros(a.modified_date_time))
            .bind(a.expired_date_time.map(micros)),
        )
        .await?;
        for (role, key) in grants {
            self.write(
                Sql::new("INSERT INTO assignment_grants (assignment_id, role_id, grant_key, target_id, state) VALUES ($1, $2, $3, $4, 'pending')")
                    .bind(a.id)
                    .bind(*role)
                    .bind(key.as_str())
                    .bind(a.target_id),
            )
            .await?;
        }
        Ok(())
    }

    /// Moves an active assignment's end (an extension), conditional on the end read.
    pub async fn set_assignment_end(
        &mut self,
        a: &Assignment,
        end: Option<jiff::Timestamp>,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new("UPDATE assignments SET end_at = $1, modified_at = $2 WHERE id = $3 AND state = $4 AND end_at IS NOT DISTINCT FROM $5")
                    .bind(end.map(micros))
                    .bind(micros(at))
                    .bind(a.id)
                    .bind(a.state.as_str())
                    .bind(a.schedule.end.map(micros)),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::conflict(
                "the assignment was changed by another operation; retry",
            )
            .into());
        }
        Ok(())
    }

    /// Moves an assignment between states (a conditional write).
    pub async fn set_assignment_state(
        &mut self,
        a: &Assignment,
        to: AssignmentState,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let expired = (to == AssignmentState::Expired).then(|| micros(at));
        let n = self
            .execute(
                &Sql::new("UPDATE assignments SET state = $1, modified_at = $2, expired_at = COALESCE($3, expired_at) WHERE id = $4 AND state = $5")
                    .bind(to.as_str())
                    .bind(micros(at))
                    .bind(expired)
                    .bind(a.id)
                    .bind(a.state.as_str()),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::conflict(
                "the assignment was changed by another operation; retry",
            )
            .into());
        }
        Ok(())
    }

    pub async fn grants_for_update(
        &mut self,
        assignment: Uuid,
    ) -> StoreResult<Vec<AssignmentGrant>> {
        self.fetch_all(&Sql::new("SELECT role_id, grant_key, state FROM assignment_grants WHERE assignment_id = $1 ORDER BY role_id").bind(assignment))
            .await?
            .iter()
            .map(|r| {
                Ok(AssignmentGrant {
                    role_id: r.uuid("role_id")?,
                    grant_key: r.text("grant_key")?,
                    state: r.text("state")?,
                })
            })
            .collect()
    }

    pub async fn set_grant_state(
        &mut self,
        assignment: Uuid,
        role: Uuid,
        state: &str,
    ) -> StoreResult<()> {
        self.write(
            Sql::new(
                "UPDATE assignment_grants SET state = $1 WHERE assignment_id = $2 AND role_id = $3",
            )
            .bind(state)
            .bind(assignment)
            .bind(role),
        )
        .await
    }

    /// Whether another active assignment of `target` holds the grant `key` (so revoking this
    /// one must leave the directory as it is).
    pub async fn grant_held_elsewhere(
        &mut self,
        target: Uuid,
        key: &str,
        except: Uuid,
    ) -> StoreResult<bool> {
        Ok(self
            .fetch_optional(
                &Sql::new(
                    "SELECT 1 AS one FROM assignment_grants g JOIN assignments a ON a.id = g.assignment_id \
                     WHERE g.target_id = $1 AND g.grant_key = $2 AND g.state = 'granted' AND g.assignment_id <> $3 AND a.state <> 'expired'",
                )
                .bind(target)
                .bind(key)
                .bind(except),
            )
            .await?
            .is_some())
    }

    /// Queues work for the delivery workers.
    pub async fn enqueue(
        &mut self,
        id: Uuid,
        kind: &str,
        payload: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new("INSERT INTO outbox (id, kind, payload, created_at, available_at, attempts) VALUES ($1, $2, $3, $4, $4, 0)")
                .bind(id)
                .bind(kind)
                .bind(payload)
                .bind(micros(at)),
        )
        .await
    }

    /// Takes up to `limit` due outbox rows of `kind` for this transaction (locked against other
    /// workers on PostgreSQL; SQLite's writer is exclusive anyway).
    pub async fn due_outbox(
        &mut self,
        kind: &str,
        now: jiff::Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(Uuid, String)>> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::new(
                "SELECT id, payload FROM outbox WHERE done_at IS NULL AND kind = $1 AND available_at <= $2 ORDER BY available_at, id LIMIT $3",
            ),
            Backend::Postgres => Sql::new(
                "SELECT id, payload FROM outbox WHERE done_at IS NULL AND kind = $1 AND available_at <= $2 ORDER BY available_at, id LIMIT $3 FOR UPDATE SKIP LOCKED",
            ),
        };
        self.fetch_all(&sql.bind(kind).bind(micros(now)).bind(limit))
            .await?
            .iter()
            .map(|r| Ok((r.uuid("id")?, r.text("payload")?)))
            .collect()
    }

    /// Sets a failing row aside: one more attempt, its error, and the next try after a
    /// backoff that doubles from 2 s up to an hour. Returns (attempts, next try).
    pub async fn outbox_retry_later(
        &mut self,
        id: Uuid,
        error: &str,
        now: jiff::Timestamp,
    ) -> StoreResult<(i64, jiff::Timestamp)> {
        let attempts = self
            .fetch_optional(
                &Sql::new("SELECT CAST(attempts AS BIGINT) AS attempts FROM outbox WHERE id = $1")
                    .bind(id),
            )
            .await?
            .map(|r| r.int("attempts"))
            .transpose()?
            .unwrap_or(0)
            + 1;
        let delay = 2_i64
            .saturating_pow(attempts.clamp(1, 12) as u32)
            .min(3_600);
        let next = now
            .checked_add(jiff::SignedDuration::from_secs(delay))
            .unwrap_or(now);
        let error: String = error.chars().take(2_000).collect();
        self.write(
            Sql::new("UPDATE outbox SET attempts = $1, last_error = $2, available_at = $3 WHERE id = $4 AND done_at IS NULL")
                .bind(attempts)
                .bind(error)
                .bind(micros(next))
                .bind(id),
        )
        .await?;
        Ok((attempts, next))
    }

    pub async fn outbox_done(&mut self, id: Uuid, at: jiff::Timestamp) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE outbox SET done_at = $1, attempts = attempts + 1 WHERE id = $2")
                .bind(micros(at))
                .bind(id),
        )
        .await
    }
}

impl Store {
    /// Active assignments whose end has come by `at`, oldest end first.
    pub async fn assignments_ending_by(
        &self,
        at: jiff::Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Assignment>> {
        self.fetch_all(
            &Sql::dynamic(format!(
                "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE state <> 'expired' AND end_at IS NOT NULL AND end_at <= $1 ORDER BY end_at, id LIMIT $2"
            ))
            .bind(micros(at))
            .bind(limit),
        )
        .await?
        .iter()
        .map(assignment_from_row)
        .collect()
    }
}
