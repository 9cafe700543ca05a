//! The rows of the auditor's reports: active assignments with their package, holder,
//! holder's organization and the approval that let them in.

use crate::sql::{Sql, micros};
use crate::{Store, StoreResult};
use uuid::Uuid;

/// One active assignment, as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub assignment_id: Uuid,
    pub package_id: Uuid,
    pub package: String,
    pub user_id: Uuid,
    pub user: String,
    pub mail: Option<String>,
    pub user_principal_name: String,
    pub guest: bool,
    pub state: String,
    pub start: jiff::Timestamp,
    pub end: Option<jiff::Timestamp>,
    /// The connected organization entitlement management recorded for the holder.
    pub organization_id: Option<Uuid>,
    /// The last approver of the request that created the assignment, and when.
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<jiff::Timestamp>,
}

impl Store {
    /// Active assignments, soonest end first: only guests' with `guests_only`, only those
    /// ending by `ending_by` when given; at most `limit`.
    pub async fn access_rows(
        &self,
        guests_only: bool,
        ending_by: Option<jiff::Timestamp>,
        limit: i64,
    ) -> StoreResult<Vec<AccessRow>> {
        let approval = "FROM assignment_requests r JOIN approval_stages st ON st.request_id = r.id \
                        WHERE r.assignment_id = a.id AND st.review_result = 'Approve' ORDER BY st.stage_index DESC LIMIT 1";
        let mut sql = Sql::dynamic(format!(
            "SELECT a.id, a.access_package_id, p.display_name AS package, a.target_id, u.display_name AS user_name, u.mail, \
             u.user_principal_name, u.user_type, a.state, a.start_at, a.end_at, s.connected_organization_id, \
             (SELECT st.reviewed_by {approval}) AS approved_by, (SELECT st.reviewed_at {approval}) AS approved_at \
             FROM assignments a JOIN access_packages p ON p.id = a.access_package_id JOIN users u ON u.id = a.target_id \
             LEFT JOIN access_package_subjects s ON s.user_id = a.target_id WHERE a.state <> 'expired'"
        ));
        if guests_only {
            sql.push(" AND u.user_type = 'Guest'");
        }
        if let Some(by) = ending_by {
            let p = sql.placeholder(micros(by));
            sql.push(&format!(" AND a.end_at IS NOT NULL AND a.end_at <= {p}"));
        }
        let p = sql.placeholder(limit);
        sql.push(&format!(
            " ORDER BY CASE WHEN a.end_at IS NULL THEN 1 ELSE 0 END, a.end_at, a.id LIMIT {p}"
        ));
        let opt_uuid = |v: Option<String>| v.and_then(|s| Uuid::parse_str(&s).ok());
        self.fetch_all_long(&sql)
            .await?
            .iter()
            .map(|r| {
                Ok(AccessRow {
                    assignment_id: r.uuid("id")?,
                    package_id: r.uuid("access_package_id")?,
                    package: r.text("package")?,
                    user_id: r.uuid("target_id")?,
                    user: r.text("user_name")?,
                    mail: r.opt_text("mail")?,
                    user_principal_name: r.text("user_principal_name")?,
                    guest: r.text("user_type")? == "Guest",
                    state: r.text("state")?,
                    start: r.timestamp("start_at")?,
                    end: r.opt_timestamp("end_at")?,
                    organization_id: opt_uuid(r.opt_text("connected_organization_id")?),
                    approved_by: opt_uuid(r.opt_text("approved_by")?),
                    approved_at: r.opt_timestamp("approved_at")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Per connected organization: the users entitlement management records as coming from
    /// it, and their active assignments.
    pub async fn organization_counts(
        &self,
    ) -> StoreResult<std::collections::HashMap<Uuid, (i64, i64)>> {
        self.fetch_all_long(&Sql::new(
            "SELECT s.connected_organization_id AS org, COUNT(DISTINCT s.user_id) AS users, COUNT(a.id) AS assignments \
             FROM access_package_subjects s LEFT JOIN assignments a ON a.target_id = s.user_id AND a.state <> 'expired' \
             WHERE s.connected_organization_id IS NOT NULL GROUP BY s.connected_organization_id",
        ))
        .await?
        .iter()
        .map(|r| Ok((r.uuid("org")?, (r.int("users")?, r.int("assignments")?))))
        .collect()
    }
}
