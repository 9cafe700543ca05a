//! The reports an auditor asks for: which partners have access to what, who sponsors their
//! organization, who approved each active assignment and when, and what expires soon.

use crate::connected_orgs::Sponsor;
use crate::{App, ServiceResult};
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::connected_org::SponsorKind;
use std::collections::HashMap;
use uuid::Uuid;

/// Most rows one report holds.
pub const MAX_REPORT_ROWS: i64 = 50_000;

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub organization: String,
    pub organization_state: String,
    pub internal_sponsors: String,
    pub external_sponsors: String,
    pub user: String,
    pub mail: String,
    pub user_principal_name: String,
    pub access_package: String,
    pub state: String,
    pub start: String,
    pub end: String,
    pub approved_by: String,
    pub approved_at: String,
    pub assignment_id: Uuid,
}

fn names(s: &[Sponsor]) -> String {
    s.iter()
        .map(|s| match s {
            Sponsor::User(u) => u.user_principal_name.clone(),
            Sponsor::Group(g) => format!("group {}", g.display_name),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl App {
    /// Active assignments of guests, with their organization, its sponsors and the approval.
    pub async fn partner_access_report(&self, caller: &Caller) -> ServiceResult<Vec<ReportRow>> {
        authorize(caller, Operation::ReadAssignments)?;
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        let rows = self.store.access_rows(true, None, MAX_REPORT_ROWS).await?;
        self.report(caller, rows).await
    }

    /// Active assignments (anyone's) that end within `days` days.
    pub async fn expiring_report(
        &self,
        caller: &Caller,
        days: u32,
    ) -> ServiceResult<Vec<ReportRow>> {
        authorize(caller, Operation::ReadAssignments)?;
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        let by =
            self.clock.now() + jiff::SignedDuration::from_hours(24 * i64::from(days.min(3650)));
        let rows = self
            .store
            .access_rows(false, Some(by), MAX_REPORT_ROWS)
            .await?;
        self.report(caller, rows).await
    }

    async fn report(
        &self,
        caller: &Caller,
        rows: Vec<consulate_store::reports::AccessRow>,
    ) -> ServiceResult<Vec<ReportRow>> {
        let mut approver_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.approved_by).collect();
        approver_ids.sort();
        approver_ids.dedup();
        let approvers: HashMap<Uuid, String> = self
            .store
            .users_by_ids(&approver_ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.user_principal_name))
            .collect();
        // Organizations: recorded for governed guests, else matched from the guest's identity.
        let mut org_of: HashMap<Uuid, Option<Uuid>> = HashMap::new();
        for r in rows.iter().filter(|r| r.guest) {
            if org_of.contains_key(&r.user_id) {
                continue;
            }
            let org = match r.organization_id {
                Some(o) => Some(o),
                None => self
                    .requestor_for_user(r.user_id)
                    .await
                    .ok()
                    .and_then(|x| x.organization)
                    .map(|o| o.id),
            };
            org_of.insert(r.user_id, org);
        }
        let mut orgs: HashMap<Uuid, (String, String, String, String)> = HashMap::new();
        for org in org_of.values().flatten() {
            if orgs.contains_key(org) {
                continue;
            }
            let Ok(o) = self.store.connected_organization(*org).await else {
                continue;
            };
            let internal = self
                .list_sponsors(caller, *org, SponsorKind::Internal, 999, None)
                .await
                .map(|(s, _)| names(&s))
                .unwrap_or_default();
            let external = self
                .list_sponsors(caller, *org, SponsorKind::External, 999, None)
                .await
                .map(|(s, _)| names(&s))
                .unwrap_or_default();
            orgs.insert(
                *org,
                (
                    o.display_name,
                    o.state.as_str().to_owned(),
                    internal,
                    external,
                ),
            );
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let org = org_of
                    .get(&r.user_id)
                    .copied()
                    .flatten()
                    .and_then(|o| orgs.get(&o).cloned())
                    .unwrap_or_default();
                ReportRow {
                    organization: org.0,
                    organization_state: org.1,
                    internal_sponsors: org.2,
                    external_sponsors: org.3,
                    user: r.user,
                    mail: r.mail.unwrap_or_default(),
                    user_principal_name: r.user_principal_name,
                    access_package: r.package,
                    state: r.state,
                    start: r.start.to_string(),
                    end: r.end.map(|e| e.to_string()).unwrap_or_default(),
                    approved_by: r
                        .approved_by
                        .map(|a| approvers.get(&a).cloned().unwrap_or_else(|| a.to_string()))
                        .unwrap_or_else(|| "no approval needed".into()),
                    approved_at: r.approved_at.map(|t| t.to_string()).unwrap_or_default(),
                    assignment_id: r.assignment_id,
                }
            })
            .collect())
    }
}

impl App {
    /// Users and active assignments per connected organization (for the admin center).
    pub async fn organization_counts(
        &self,
        caller: &Caller,
    ) -> ServiceResult<HashMap<Uuid, (i64, i64)>> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        Ok(self.store.organization_counts().await?)
    }
}
