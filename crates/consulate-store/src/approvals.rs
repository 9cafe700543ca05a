//! Approval stages of requests and who may decide them.

use crate::sql::{Row, Sql, micros};
use crate::{Backend, Store, StoreResult, WriteTx};
use consulate_core::DomainError;
use consulate_core::connected_org::SponsorKind;
use uuid::Uuid;

/// One stage of a request's approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalStage {
    pub id: Uuid,
    pub request_id: Uuid,
    pub index: i64,
    /// `notStarted`, `inProgress`, `completed` or `expired`.
    pub status: String,
    /// `NotReviewed`, `Approve` or `Deny`.
    pub review_result: String,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_at: Option<jiff::Timestamp>,
    pub justification: String,
    pub opened_at: Option<jiff::Timestamp>,
}

const COLUMNS: &str = "id, request_id, stage_index, status, review_result, reviewed_by, reviewed_at, justification, opened_at";

fn from_row(r: &Row) -> StoreResult<ApprovalStage> {
    Ok(ApprovalStage {
        id: r.uuid("id")?,
        request_id: r.uuid("request_id")?,
        index: r.int("stage_index")?,
        status: r.text("status")?,
        review_result: r.text("review_result")?,
        reviewed_by: r
            .opt_text("reviewed_by")?
            .map(|s| Uuid::parse_str(&s))
            .transpose()
            .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?,
        reviewed_at: r.opt_timestamp("reviewed_at")?,
        justification: r.text("justification")?,
        opened_at: r.opt_timestamp("opened_at")?,
    })
}

impl Store {
    /// A request's stages, in order, each with whether `user` may decide it.
    pub async fn approval_stages_for(
        &self,
        request: Uuid,
        user: Option<Uuid>,
    ) -> StoreResult<Vec<(ApprovalStage, bool)>> {
        self.fetch_all(
            &Sql::dynamic(format!(
                "SELECT {COLUMNS}, EXISTS (SELECT 1 FROM approval_stage_approvers a \
                 WHERE a.stage_id = approval_stages.id AND a.user_id = $2) AS decides \
                 FROM approval_stages WHERE request_id = $1 ORDER BY stage_index"
            ))
            .bind(request)
            .bind(user.map(|u| u.to_string())),
        )
        .await?
        .iter()
        .map(|r| Ok((from_row(r)?, r.boolean("decides")?)))
        .collect()
    }

    /// Requests with a stage in progress that `user` may decide.
    pub async fn requests_awaiting(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            &Sql::new(
                "SELECT s.request_id FROM approval_stage_approvers a JOIN approval_stages s ON s.id = a.stage_id \
                 WHERE a.user_id = $1 AND s.status = 'inProgress' ORDER BY s.request_id DESC",
            )
            .bind(user),
        )
        .await?
        .iter()
        .map(|r| r.uuid("request_id"))
        .collect()
    }
}

impl WriteTx {
    pub async fn insert_stage(&mut self, s: &ApprovalStage) -> StoreResult<()> {
        self.write(
            Sql::new(
                "INSERT INTO approval_stages (id, request_id, stage_index, status, review_result, reviewed_by, reviewed_at, justification, opened_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, NULL, '', $6)",
            )
            .bind(s.id)
            .bind(s.request_id)
            .bind(s.index)
            .bind(s.status.as_str())
            .bind(s.review_result.as_str())
            .bind(s.opened_at.map(micros)),
        )
        .await
    }

    pub async fn stage_for_update(
        &mut self,
        request: Uuid,
        stage: Uuid,
    ) -> StoreResult<ApprovalStage> {
        let sql = match self.backend() {
            Backend::Sqlite => Sql::dynamic(format!(
                "SELECT {COLUMNS} FROM approval_stages WHERE request_id = $1 AND id = $2"
            )),
            Backend::Postgres => Sql::dynamic(format!(
                "SELECT {COLUMNS} FROM approval_stages WHERE request_id = $1 AND id = $2 FOR UPDATE"
            )),
        };
        let row = self
            .fetch_optional(&sql.bind(request).bind(stage))
            .await?
            .ok_or_else(|| {
                crate::StoreError::from(DomainError::not_found(
                    consulate_core::error::ObjectKind::ApprovalStage,
                    stage.to_string(),
                ))
            })?;
        from_row(&row)
    }

    /// Records a decision on a stage still in progress (a conditional write: of several
    /// approvers deciding at once, exactly one wins; the others get a conflict).
    pub async fn decide_stage(
        &mut self,
        stage: Uuid,
        result: &str,
        status: &str,
        by: Option<Uuid>,
        justification: &str,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new(
                    "UPDATE approval_stages SET status = $1, review_result = $2, reviewed_by = $3, reviewed_at = $4, justification = $5 \
                     WHERE id = $6 AND status = 'inProgress'",
                )
                .bind(status)
                .bind(result)
                .bind(by.map(|u| u.to_string()))
                .bind(micros(at))
                .bind(justification)
                .bind(stage),
            )
            .await?;
        if n != 1 {
            return Err(
                DomainError::conflict("this approval stage has been decided already").into(),
            );
        }
        Ok(())
    }

    /// Closes a request's open stage (canceled requests): nobody decides it any more.
    pub async fn close_open_stages(
        &mut self,
        request: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        self.write(
            Sql::new("UPDATE approval_stages SET status = 'expired', reviewed_at = $1 WHERE request_id = $2 AND status IN ('inProgress', 'notStarted')")
                .bind(micros(at))
                .bind(request),
        )
        .await
    }

    /// Opens a stage with its approvers.
    pub async fn open_stage(
        &mut self,
        stage: Uuid,
        approvers: &[Uuid],
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let n = self
            .execute(
                &Sql::new("UPDATE approval_stages SET status = 'inProgress', opened_at = $1 WHERE id = $2 AND status = 'notStarted'")
                    .bind(micros(at))
                    .bind(stage),
            )
            .await?;
        if n != 1 {
            return Err(DomainError::conflict("this approval stage is open already").into());
        }
        for a in approvers {
            self.write(
                Sql::new(
                    "INSERT INTO approval_stage_approvers (stage_id, user_id) VALUES ($1, $2)",
                )
                .bind(stage)
                .bind(*a),
            )
            .await?;
        }
        Ok(())
    }

    /// Adds approvers to an open stage (escalation); those already there stay once.
    pub async fn add_stage_approvers(
        &mut self,
        stage: Uuid,
        approvers: &[Uuid],
    ) -> StoreResult<()> {
        for a in approvers {
            self.write(
                Sql::new(
                    "INSERT INTO approval_stage_approvers (stage_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(stage)
                .bind(*a),
            )
            .await?;
        }
        Ok(())
    }

    /// Enabled member users of a group.
    pub async fn enabled_group_member_ids(&mut self, group: Uuid) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            &Sql::new("SELECT m.user_id FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 AND u.account_enabled = $2")
                .bind(group)
                .bind(true),
        )
        .await?
        .iter()
        .map(|r| r.uuid("user_id"))
        .collect()
    }

    /// Enabled users who sponsor an organization (directly or through a sponsor group).
    pub async fn sponsor_user_ids(
        &mut self,
        org: Uuid,
        kind: SponsorKind,
    ) -> StoreResult<Vec<Uuid>> {
        self.fetch_all(
            &Sql::new(
                "SELECT u.id FROM connected_organization_sponsors s JOIN users u ON u.id = s.user_id \
                 WHERE s.organization_id = $1 AND s.kind = $2 AND u.account_enabled = $3 \
                 UNION SELECT u.id FROM connected_organization_sponsors s JOIN group_members m ON m.group_id = s.group_id \
                 JOIN users u ON u.id = m.user_id WHERE s.organization_id = $1 AND s.kind = $2 AND u.account_enabled = $3",
            )
            .bind(org)
            .bind(kind.as_str())
            .bind(true),
        )
        .await?
        .iter()
        .map(|r| r.uuid("id"))
        .collect()
    }

    /// Whether a user exists and may sign in.
    pub async fn user_enabled(&mut self, user: Uuid) -> StoreResult<bool> {
        Ok(self
            .fetch_optional(
                &Sql::new("SELECT 1 AS one FROM users WHERE id = $1 AND account_enabled = $2")
                    .bind(user)
                    .bind(true),
            )
            .await?
            .is_some())
    }
}
