//! Expiry and the entitlement-management settings: the sweep that ends assignments whose time
//! is up (exactly once, also after downtime), its dry-run preview, and `/settings`.

use crate::{App, ServiceResult, prop, target};
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::lifecycle::{
    Assignment, AssignmentEvent, AssignmentRequest, RequestEvent, RequestState, RequestedBy,
};
use consulate_core::request::RequestType;
use std::collections::HashMap;

impl App {
    /// Ends assignments whose end has come (at most `limit`, in one transaction): each
    /// exactly once, also the ones that came due while the server was down. What each granted
    /// is revoked in the same transaction (every grant is a change to Consulate's own
    /// directory), keeping what another active assignment of the user holds, and a completed
    /// `systemRemove` request records it. One audit event per assignment names what was
    /// revoked. The writes are set-based (one statement per kind of row and chunk), so a large
    /// backlog ends quickly.
    pub async fn expire_due(&self, limit: i64) -> ServiceResult<usize> {
        let now = self.clock.now();
        // A read outside the transaction first, so an idle sweep never takes the writer.
        if self.store.assignments_ending_by(now, 1).await?.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store.begin().await?;
        // Read again under the transaction's lock: another replica (or an administrator)
        // may have ended some meanwhile.
        let due = tx.assignments_due_for_update(now, limit).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut policies: Vec<_> = due.iter().map(|a| a.policy_id).collect();
        policies.sort_unstable();
        policies.dedup();
        let versions = tx.policy_versions(&policies).await?;
        // One conditional update per state the assignments move from.
        let mut by_state: HashMap<_, Vec<uuid::Uuid>> = HashMap::new();
        for a in &due {
            by_state.entry(a.state).or_default().push(a.id);
        }
        let mut ended_state = HashMap::new();
        for (from, ids) in &by_state {
            let to = from.apply(AssignmentEvent::Ended)?;
            tx.set_assignments_state(ids, *from, to, now).await?;
            ended_state.insert(*from, to);
        }
        let ended: Vec<_> = due.iter().map(|a| (a.id, a.target_id)).collect();
        let mut revoked = self.revoke_grants_of(&mut tx, &ended).await?;
        let removed = RequestState::Submitted
            .apply(RequestEvent::Approved)?
            .apply(RequestEvent::DeliverySucceeded)?;
        let mut requests = Vec::with_capacity(due.len());
        let mut events = Vec::with_capacity(due.len());
        for a in &due {
            requests.push(AssignmentRequest {
                id: self.ids.new_id(),
                request_type: RequestType::SystemRemove,
                state: removed,
                access_package_id: a.access_package_id,
                policy_id: a.policy_id,
                policy_version: versions.get(&a.policy_id).copied().unwrap_or(0),
                target_id: a.target_id,
                requested_by: RequestedBy::System,
                assignment_id: Some(a.id),
                justification: "The assignment reached its end".into(),
                answers: Vec::new(),
                schedule: a.schedule,
                created_date_time: now,
                completed_date_time: Some(now),
            });
            let mut t = target("accessPackageAssignment", a.id, None);
            t.modified_properties.push(prop(
                "state",
                Some(a.state.as_str().into()),
                Some(ended_state[&a.state].as_str().into()),
            ));
            t.modified_properties.push(prop(
                "endDateTime",
                None,
                a.schedule.end.map(|e| e.to_string()),
            ));
            for key in revoked.remove(&a.id).unwrap_or_default() {
                t.modified_properties.push(prop("revoked", Some(key), None));
            }
            events.push(self.event(
                &Caller::system(),
                Category::EntitlementManagement,
                "Expire access package assignment",
                "assignment.expire",
                t,
            ));
        }
        tx.insert_requests(&requests).await?;
        // A governed guest whose last assignment this was is blocked (and its deletion
        // scheduled); nobody else is touched.
        let mut targets: Vec<_> = due.iter().map(|a| a.target_id).collect();
        targets.sort_unstable();
        targets.dedup();
        let governed = tx.governed_unblocked(&targets).await?;
        for user in targets.into_iter().filter(|u| governed.contains(u)) {
            events.extend(self.after_assignment_ended(&mut tx, user, now).await?);
        }
        let n = due.len();
        tx.commit(&events).await?;
        Ok(n)
    }

    /// What the next sweep would do now: the assignments it would end.
    pub async fn sweep_preview(&self, caller: &Caller) -> ServiceResult<Vec<Assignment>> {
        authorize(caller, Operation::ReadAssignments)?;
        Ok(self
            .store
            .assignments_ending_by(self.clock.now(), 999)
            .await?)
    }

    pub async fn settings(
        &self,
        caller: &Caller,
    ) -> ServiceResult<consulate_core::lifecycle::Settings> {
        authorize(caller, Operation::ReadCatalogs)?;
        Ok(self.store.settings().await?)
    }

    /// Changes the settings; absent values stay.
    pub async fn update_settings(
        &self,
        caller: &Caller,
        action: Option<consulate_core::lifecycle::ExternalUserLifecycleAction>,
        days: Option<consulate_core::policy::IsoDuration>,
    ) -> ServiceResult<consulate_core::lifecycle::Settings> {
        authorize(caller, Operation::WriteCatalogs)?;
        let mut tx = self.store.begin().await?;
        let before = tx.settings_for_update().await?;
        let mut s = before.clone();
        if let Some(a) = action {
            s.external_user_lifecycle_action = a;
        }
        if let Some(d) = days {
            s.duration_until_external_user_deleted_after_blocked = d;
        }
        consulate_core::lifecycle::check_settings(&s)?;
        if s == before {
            return Ok(s);
        }
        tx.save_settings(&s, self.clock.now()).await?;
        let mut t = target("entitlementManagementSettings", "settings", None);
        t.modified_properties.push(prop(
            "externalUserLifecycleAction",
            Some(before.external_user_lifecycle_action.as_str().into()),
            Some(s.external_user_lifecycle_action.as_str().into()),
        ));
        t.modified_properties.push(prop(
            "durationUntilExternalUserDeletedAfterBlocked",
            Some(
                before
                    .duration_until_external_user_deleted_after_blocked
                    .as_str()
                    .into(),
            ),
            Some(
                s.duration_until_external_user_deleted_after_blocked
                    .as_str()
                    .into(),
            ),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Update entitlement management settings",
            "settings.update",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(s)
    }
}
