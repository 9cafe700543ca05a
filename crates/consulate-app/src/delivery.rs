//! The delivery worker: takes due outbox rows (deliveries, revocations, reprocessing, approval
//! timers and escalations) and applies them in one transaction per batch, re-checking
//! eligibility at delivery. A failing batch runs row by row so one poisoned row is set aside
//! with backoff while the rest go through (ADR 9).

use crate::lifecycle::{DELIVER, REPROCESS, REVOKE, STAGE_ESCALATION, STAGE_TIMEOUT, Work};
use crate::provisioning::{DirectoryProvisioner, Provisioner};
use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::Caller;
use consulate_core::audit::Category;
use consulate_core::lifecycle::{AssignmentEvent, AssignmentState, RequestEvent, RequestState};
use consulate_core::request::RequestType;
use consulate_core::resource::Grant;
use std::collections::HashMap;
use uuid::Uuid;

/// Revocations are set-based, so a round takes this many for each row of other work.
const REVOCATIONS_PER_ROW: i64 = 5;
/// Assignments the expiry sweep ends per transaction (set-based writes).
const SWEEP_BATCH: i64 = 1_000;

impl App {
    /// Delivers (or revokes) what is due: up to `limit` queued rows, in one transaction.
    /// Returns how many it handled. Safe to run on several replicas at once. When the batch
    /// fails, its rows run one by one so that one poisoned row cannot hold back the rest; a
    /// row that fails alone is retried later with backoff, its error kept and audited.
    pub async fn deliver_due(&self, limit: i64) -> ServiceResult<usize> {
        let batch_error = match self.deliver_batch(limit, None).await {
            Ok(n) => return Ok(n),
            Err(e) => e,
        };
        let now = self.clock.now();
        let kinds = [STAGE_ESCALATION, STAGE_TIMEOUT, REPROCESS, DELIVER, REVOKE];
        let mut handled = 0;
        for id in self.store.due_outbox_ids(&kinds, now, limit).await? {
            match self.deliver_batch(limit, Some(id)).await {
                Ok(n) => handled += n,
                Err(e) => {
                    tracing::warn!(outbox = %id, error = %e, "outbox row failed; retrying later");
                    match self.retry_later(id, &e.to_string(), now).await {
                        Ok(()) => handled += 1,
                        Err(e) => {
                            tracing::error!(outbox = %id, error = %e, "could not postpone an outbox row");
                        }
                    }
                }
            }
        }
        if handled == 0 {
            return Err(batch_error);
        }
        Ok(handled)
    }

    async fn retry_later(&self, id: Uuid, error: &str, now: jiff::Timestamp) -> ServiceResult<()> {
        let mut tx = self.store.begin().await?;
        let (attempts, next) = tx.outbox_retry_later(id, error, now).await?;
        let mut t = target("outbox", id, None);
        t.modified_properties
            .push(prop("error", None, Some(error.to_owned())));
        t.modified_properties
            .push(prop("attempts", None, Some(attempts.to_string())));
        t.modified_properties
            .push(prop("nextAttempt", None, Some(next.to_string())));
        let event = self.event(
            &Caller::system(),
            Category::EntitlementManagement,
            "Postpone failed delivery work",
            "outbox.retry",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    /// Whether each of these deliveries' requests is still eligible, by request id. A request
    /// that no longer exists (canceled, then deleted) is not: its row closes with nothing done.
    async fn eligibility_of(&self, works: &[Work]) -> ServiceResult<HashMap<Uuid, bool>> {
        let ids: Vec<Uuid> = works.iter().map(|w| w.request).collect();
        let requests = self.store.assignment_requests_by_ids(&ids).await?;
        let mut users: Vec<Uuid> = requests
            .iter()
            .filter(|r| {
                matches!(
                    r.request_type,
                    RequestType::UserAdd | RequestType::UserUpdate
                )
            })
            .map(|r| r.target_id)
            .collect();
        users.sort_unstable();
        users.dedup();
        let requestors = self.requestors_for_users(&users).await?;
        let mut eligible: HashMap<Uuid, bool> = ids.iter().map(|id| (*id, false)).collect();
        for r in &requests {
            let ok = self
                .eligible_as(r, requestors.get(&r.target_id).cloned())
                .await?;
            eligible.insert(r.id, ok);
        }
        Ok(eligible)
    }

    async fn deliver_batch(&self, limit: i64, only: Option<Uuid>) -> ServiceResult<usize> {
        let now = self.clock.now();
        let picked = |id: &Uuid| only.is_none_or(|o| o == *id);
        // Eligibility is read before the writing transaction (reads inside one would hold a
        // second connection while the first holds row locks), set-based: the batch's requests,
        // then their users' facts, in a handful of reads however many rows there are. A failed
        // read leaves the rows for the next round rather than failing the batch.
        let works: Vec<Work> = self
            .store
            .due_outbox_payloads(DELIVER, now, limit)
            .await?
            .iter()
            // A payload that does not decode fails its row in the transaction.
            .filter_map(|p| serde_json::from_str::<Work>(p).ok())
            .collect();
        let eligible = self.eligibility_of(&works).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read delivery eligibility; retrying");
            HashMap::new()
        });
        // Escalations need the request's policy version and organization, read likewise.
        let mut escalations = HashMap::new();
        for payload in self
            .store
            .due_outbox_payloads(STAGE_ESCALATION, now, limit)
            .await?
        {
            if let Ok(w) = serde_json::from_str::<crate::approvals::StageWork>(&payload) {
                let context = match self.store.assignment_request(w.request).await {
                    Ok(r) => Some((
                        match self
                            .store
                            .policy_version(r.policy_id, r.policy_version)
                            .await
                        {
                            Ok(p) => p,
                            Err(_) => continue, // read again next round
                        },
                        self.requestor_for_user(r.target_id)
                            .await
                            .ok()
                            .and_then(|x| x.organization),
                    )),
                    Err(consulate_store::StoreError::Domain(DomainError::NotFound { .. })) => {
                        None // deleted: the row closes with nothing to do
                    }
                    Err(_) => continue, // read again next round
                };
                escalations.insert(w.request, context);
            }
        }
        let mut tx = self.store.begin().await?;
        let mut events = Vec::new();
        let mut handled = 0;
        for (outbox_id, payload) in tx
            .due_outbox(STAGE_ESCALATION, now, limit)
            .await?
            .into_iter()
            .filter(|(id, _)| picked(id))
        {
            let w: crate::approvals::StageWork = decode(&payload)?;
            // A row queued after the read above waits for the next round.
            let Some(context) = escalations.get(&w.request) else {
                continue;
            };
            if let Some((policy, organization)) = context
                && let Some(event) = self
                    .escalate_stage(&mut tx, &w, policy, *organization)
                    .await?
            {
                events.push(event);
            }
            tx.outbox_done(outbox_id, now).await?;
            handled += 1;
        }
        for (outbox_id, payload) in tx
            .due_outbox(STAGE_TIMEOUT, now, limit)
            .await?
            .into_iter()
            .filter(|(id, _)| picked(id))
        {
            let t: crate::approvals::StageWork = decode(&payload)?;
            if let Some(event) = self.expire_stage(&mut tx, &t, now).await? {
                events.push(event);
            }
            tx.outbox_done(outbox_id, now).await?;
            handled += 1;
        }
        for (outbox_id, payload) in tx
            .due_outbox(REPROCESS, now, limit)
            .await?
            .into_iter()
            .filter(|(id, _)| picked(id))
        {
            let id: Uuid = decode(&payload)?;
            events.push(self.reapply_one(&mut tx, id, now).await?);
            tx.outbox_done(outbox_id, now).await?;
            handled += 1;
        }
        let mut deliveries = Vec::new();
        for (outbox_id, payload) in tx
            .due_outbox(DELIVER, now, limit)
            .await?
            .into_iter()
            .filter(|(id, _)| picked(id))
        {
            let work: Work = decode(&payload)?;
            // A row queued after the read above waits for the next round.
            let Some(still) = eligible.get(&work.request).copied() else {
                continue;
            };
            deliveries.push((outbox_id, work, still));
        }
        handled += self
            .deliver_rows(&mut tx, &deliveries, now, &mut events)
            .await?;
        let mut revocations = Vec::new();
        for (outbox_id, payload) in tx
            .due_outbox(REVOKE, now, limit.saturating_mul(REVOCATIONS_PER_ROW))
            .await?
            .into_iter()
            .filter(|(id, _)| picked(id))
        {
            revocations.push((outbox_id, decode::<Work>(&payload)?));
        }
        handled += self
            .revoke_batch(&mut tx, &revocations, now, &mut events)
            .await?;
        if events.is_empty() {
            if handled > 0 {
                // Only stale timeouts: nothing changed but their rows, recorded as such.
                events.push(self.event(
                    &Caller::system(),
                    Category::EntitlementManagement,
                    "Close stale approval timers",
                    "approval.timeout",
                    target("outbox", "approvalStageTimeout", None),
                ));
            } else {
                return Ok(0);
            }
        }
        tx.commit(&events).await?;
        Ok(handled)
    }

    /// Delivers the rows `(outbox row, work, still eligible)`. The common case — the request
    /// scheduled or delivering, its user still eligible, the assignment delivering — is
    /// set-based: one read of the rows' states and grants, one write per kind of row. Any
    /// other row goes through [`Self::deliver_one`] on its own. Returns how many it handled.
    async fn deliver_rows(
        &self,
        tx: &mut consulate_store::WriteTx,
        rows: &[(Uuid, Work, bool)],
        now: jiff::Timestamp,
        events: &mut Vec<consulate_core::audit::AuditEvent>,
    ) -> ServiceResult<usize> {
        if rows.is_empty() {
            return Ok(0);
        }
        let request_ids: Vec<Uuid> = rows.iter().map(|(_, w, _)| w.request).collect();
        let assignment_ids: Vec<Uuid> = rows.iter().map(|(_, w, _)| w.assignment).collect();
        let requests = tx.request_states_for_update(&request_ids).await?;
        let assignments = tx.assignment_states_for_update(&assignment_ids).await?;
        let mut common = Vec::new();
        for (outbox_id, work, still) in rows {
            let usual = *still
                && matches!(
                    requests.get(&work.request),
                    Some(RequestState::Scheduled | RequestState::Delivering)
                )
                && matches!(
                    assignments.get(&work.assignment),
                    Some((_, AssignmentState::Delivering))
                );
            if usual {
                common.push((*outbox_id, work));
            } else {
                let event = self.deliver_one(tx, work, *still, now, events).await?;
                events.push(event);
                tx.outbox_done(*outbox_id, now).await?;
            }
        }
        if common.is_empty() {
            return Ok(rows.len());
        }
        let ids: Vec<Uuid> = common.iter().map(|(_, w)| w.assignment).collect();
        let mut grants: HashMap<Uuid, Vec<_>> = HashMap::new();
        for g in tx.grants_of_assignments(&ids).await? {
            grants.entry(g.assignment_id).or_default().push(g);
        }
        let mut give = Vec::new();
        let mut scheduled = Vec::new();
        for (_, work) in &common {
            let mut t = target("accessPackageAssignment", work.assignment, None);
            for g in grants
                .get(&work.assignment)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if g.state != "pending" {
                    continue;
                }
                give.push((Grant::from_key(&g.grant_key)?, g.target_id));
                t.modified_properties
                    .push(prop("granted", None, Some(g.grant_key.clone())));
            }
            if requests.get(&work.request) == Some(&RequestState::Scheduled) {
                scheduled.push(work.request);
            }
            events.push(self.event(
                &Caller::system(),
                Category::EntitlementManagement,
                "Deliver access package assignment",
                "assignment.deliver",
                t,
            ));
        }
        DirectoryProvisioner.grant_many(tx, &give, now).await?;
        tx.mark_grants_granted(&ids).await?;
        tx.set_assignments_state(
            &ids,
            AssignmentState::Delivering,
            AssignmentState::Delivering.apply(AssignmentEvent::DeliverySucceeded)?,
            now,
        )
        .await?;
        let delivering = RequestState::Scheduled.apply(RequestEvent::StartReached)?;
        if !scheduled.is_empty() {
            tx.set_requests_state(&scheduled, RequestState::Scheduled, delivering, None)
                .await?;
        }
        let requests: Vec<Uuid> = common.iter().map(|(_, w)| w.request).collect();
        tx.set_requests_state(
            &requests,
            delivering,
            delivering.apply(RequestEvent::DeliverySucceeded)?,
            Some(now),
        )
        .await?;
        let outbox: Vec<Uuid> = common.iter().map(|(id, _)| *id).collect();
        tx.outbox_done_many(&outbox, now).await?;
        Ok(rows.len())
    }

    /// The audit event of a delivery with nothing to do.
    fn skipped(&self, request: Uuid, why: String) -> consulate_core::audit::AuditEvent {
        let mut t = target("accessPackageAssignmentRequest", request, None);
        t.modified_properties
            .push(prop("delivery", None, Some(format!("skipped: {why}"))));
        self.event(
            &Caller::system(),
            Category::EntitlementManagement,
            "Skip access package delivery",
            "assignment.deliver",
            t,
        )
    }

    async fn deliver_one(
        &self,
        tx: &mut consulate_store::WriteTx,
        work: &Work,
        still: bool,
        now: jiff::Timestamp,
        events: &mut Vec<consulate_core::audit::AuditEvent>,
    ) -> ServiceResult<consulate_core::audit::AuditEvent> {
        let Some(r) = tx.find_request_for_update(work.request).await? else {
            // Canceled, then deleted, before its start.
            return Ok(self.skipped(work.request, "the request was deleted".into()));
        };
        let a = tx.assignment_for_update(work.assignment).await?;
        if !matches!(r.state, RequestState::Scheduled | RequestState::Delivering) {
            // Canceled before its start: nothing to deliver.
            return Ok(self.skipped(r.id, format!("the request is {}", r.state.as_str())));
        }
        let mut state = r.state;
        if state == RequestState::Scheduled {
            let next = state.apply(RequestEvent::StartReached)?;
            tx.set_request_state(r.id, state, next, None).await?;
            state = next;
        }
        // Eligibility again, at delivery (`still`, read before the transaction): the package,
        // the policy, the user may have changed.
        let mut t = target("accessPackageAssignment", a.id, None);
        if !still || a.state != AssignmentState::Delivering {
            let failed = state.apply(RequestEvent::DeliveryFailed)?;
            tx.set_request_state(r.id, state, failed, Some(now)).await?;
            if a.state.is_active() {
                tx.set_assignment_state(&a, a.state.apply(AssignmentEvent::Ended)?, now)
                    .await?;
                events.extend(self.after_assignment_ended(tx, a.target_id, now).await?);
            }
            t.modified_properties.push(prop(
                "state",
                Some(a.state.as_str().into()),
                Some("expired".into()),
            ));
            t.modified_properties.push(prop(
                "reason",
                None,
                Some(if a.state == AssignmentState::Delivering {
                    "the requestor is no longer eligible".into()
                } else {
                    "the assignment ended before it was delivered".into()
                }),
            ));
            return Ok(self.event(
                &consulate_core::access::Caller::system(),
                Category::EntitlementManagement,
                "Deliver access package assignment",
                "assignment.deliver",
                t,
            ));
        }
        let provisioner = DirectoryProvisioner;
        for g in tx.grants_for_update(a.id).await? {
            if g.state != "pending" {
                continue;
            }
            let grant = Grant::from_key(&g.grant_key)?;
            provisioner.grant(tx, &grant, a.target_id, now).await?;
            tx.set_grant_state(a.id, g.role_id, "granted").await?;
            t.modified_properties
                .push(prop("granted", None, Some(g.grant_key.clone())));
        }
        tx.set_assignment_state(&a, a.state.apply(AssignmentEvent::DeliverySucceeded)?, now)
            .await?;
        tx.set_request_state(
            r.id,
            state,
            state.apply(RequestEvent::DeliverySucceeded)?,
            Some(now),
        )
        .await?;
        Ok(self.event(
            &consulate_core::access::Caller::system(),
            Category::EntitlementManagement,
            "Deliver access package assignment",
            "assignment.deliver",
            t,
        ))
    }

    /// Revokes what the assignments of `rows` granted, set-based: one read each of their
    /// requests, assignments and grants, and of what their users still hold through other
    /// active assignments; then one write per kind of row. What another active assignment of
    /// the same user grants stays. Returns how many rows it handled.
    async fn revoke_batch(
        &self,
        tx: &mut consulate_store::WriteTx,
        rows: &[(Uuid, Work)],
        now: jiff::Timestamp,
        events: &mut Vec<consulate_core::audit::AuditEvent>,
    ) -> ServiceResult<usize> {
        if rows.is_empty() {
            return Ok(0);
        }
        let request_ids: Vec<Uuid> = rows.iter().map(|(_, w)| w.request).collect();
        let assignment_ids: Vec<Uuid> = rows.iter().map(|(_, w)| w.assignment).collect();
        let requests = tx.request_states_for_update(&request_ids).await?;
        let assignments: HashMap<Uuid, Uuid> = tx
            .assignment_states_for_update(&assignment_ids)
            .await?
            .into_iter()
            .map(|(id, (user, _))| (id, user))
            .collect();
        let mut ended = Vec::with_capacity(rows.len());
        let mut by_state: HashMap<RequestState, Vec<Uuid>> = HashMap::new();
        for (_, work) in rows {
            let state = *requests.get(&work.request).ok_or_else(|| {
                DomainError::not_found(
                    consulate_core::error::ObjectKind::AssignmentRequest,
                    work.request.to_string(),
                )
            })?;
            let user = *assignments.get(&work.assignment).ok_or_else(|| {
                DomainError::not_found(
                    consulate_core::error::ObjectKind::Assignment,
                    work.assignment.to_string(),
                )
            })?;
            // The request's move is checked now, so a row that cannot complete fails the batch.
            state.apply(RequestEvent::DeliverySucceeded)?;
            by_state.entry(state).or_default().push(work.request);
            ended.push((work.assignment, user));
        }
        let mut revoked = self.revoke_grants_of(tx, &ended).await?;
        for (_, work) in rows {
            let mut t = target("accessPackageAssignment", work.assignment, None);
            for key in revoked.remove(&work.assignment).unwrap_or_default() {
                t.modified_properties.push(prop("revoked", Some(key), None));
            }
            events.push(self.event(
                &consulate_core::access::Caller::system(),
                Category::EntitlementManagement,
                "Revoke access package assignment",
                "assignment.revoke",
                t,
            ));
        }
        for (from, ids) in &by_state {
            tx.set_requests_state(
                ids,
                *from,
                from.apply(RequestEvent::DeliverySucceeded)?,
                Some(now),
            )
            .await?;
        }
        let outbox: Vec<Uuid> = rows.iter().map(|(id, _)| *id).collect();
        tx.outbox_done_many(&outbox, now).await?;
        Ok(rows.len())
    }

    /// Takes away what the assignments `ended` — (assignment, its user) — granted, set-based:
    /// one read of their grants and one of what their users hold through other active
    /// assignments, then one write per kind of grant. A grant another active assignment of the
    /// same user holds stays. Marks their grant rows revoked and returns, per assignment, the
    /// keys of the grants it took away.
    pub(crate) async fn revoke_grants_of(
        &self,
        tx: &mut consulate_store::WriteTx,
        ended: &[(Uuid, Uuid)],
    ) -> ServiceResult<HashMap<Uuid, Vec<String>>> {
        let assignment_ids: Vec<Uuid> = ended.iter().map(|(a, _)| *a).collect();
        let mut grants: HashMap<Uuid, Vec<_>> = HashMap::new();
        for g in tx.grants_of_assignments(&assignment_ids).await? {
            grants.entry(g.assignment_id).or_default().push(g);
        }
        let mut targets: Vec<Uuid> = ended.iter().map(|(_, u)| *u).collect();
        targets.sort_unstable();
        targets.dedup();
        // Who holds each (user, grant) through an active assignment, kept current as this
        // batch revokes.
        let mut holders: HashMap<(Uuid, String), Vec<Uuid>> = HashMap::new();
        for g in tx.active_grants_of(&targets).await? {
            holders
                .entry((g.target_id, g.grant_key))
                .or_default()
                .push(g.assignment_id);
        }
        // The batch's own assignments hold theirs until their turn below, also when they were
        // marked ended before this read (the expiry sweep): the last one to go revokes.
        for (assignment, user) in ended {
            for g in grants
                .get(assignment)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let held = holders.entry((*user, g.grant_key.clone())).or_default();
                if g.state == "granted" && !held.contains(assignment) {
                    held.push(*assignment);
                }
            }
        }
        let mut revoke = Vec::new();
        let mut revoked: HashMap<Uuid, Vec<String>> = HashMap::new();
        for (assignment, user) in ended {
            for g in grants.remove(assignment).unwrap_or_default() {
                if g.state != "granted" {
                    continue;
                }
                let held = holders.entry((*user, g.grant_key.clone())).or_default();
                held.retain(|x| x != assignment);
                if held.is_empty() {
                    revoke.push((Grant::from_key(&g.grant_key)?, *user));
                    revoked.entry(*assignment).or_default().push(g.grant_key);
                }
            }
        }
        DirectoryProvisioner.revoke_many(tx, &revoke).await?;
        tx.revoke_grant_rows(&assignment_ids).await?;
        Ok(revoked)
    }

    /// Applies a delivered assignment's grants again (each grant is idempotent).
    async fn reapply_one(
        &self,
        tx: &mut consulate_store::WriteTx,
        id: Uuid,
        now: jiff::Timestamp,
    ) -> ServiceResult<consulate_core::audit::AuditEvent> {
        let a = tx.assignment_for_update(id).await?;
        let mut t = target("accessPackageAssignment", a.id, None);
        if a.state == AssignmentState::Delivered {
            let provisioner = DirectoryProvisioner;
            for g in tx.grants_for_update(a.id).await? {
                if g.state == "granted" {
                    provisioner
                        .grant(tx, &Grant::from_key(&g.grant_key)?, a.target_id, now)
                        .await?;
                    t.modified_properties
                        .push(prop("reapplied", None, Some(g.grant_key.clone())));
                }
            }
        } else {
            t.modified_properties.push(prop(
                "reprocess",
                None,
                Some(format!("skipped: the assignment is {}", a.state.as_str())),
            ));
        }
        Ok(self.event(
            &Caller::system(),
            Category::EntitlementManagement,
            "Deliver access package assignment again",
            "assignment.reapply",
            t,
        ))
    }

    /// Runs [`App::deliver_due`] until told to stop: at once when work is queued here, and
    /// every `interval` for work queued elsewhere (other replicas, scheduled starts). Each
    /// round also runs the expiry sweep and writes the token uses noted meanwhile.
    pub async fn run_delivery(
        &self,
        interval: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            if *stop.borrow() {
                self.record_token_uses().await;
                return;
            }
            self.record_token_uses().await;
            // A full batch means more may be due: the next round starts at once.
            let mut busy = match self.expire_due(SWEEP_BATCH).await {
                Ok(n) => n as i64 >= SWEEP_BATCH,
                Err(e) => {
                    tracing::warn!(error = %e, "expiry sweep failed; retrying");
                    false
                }
            };
            if let Err(e) = self.delete_due_external_users(200).await {
                tracing::warn!(error = %e, "external user deletion failed; retrying");
            }
            match self.deliver_due(200).await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "delivery failed; retrying"),
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = self.delivery.notified() => {}
                _ = tokio::time::sleep(interval) => {}
                changed = stop.changed() => {
                    if changed.is_err() {
                        // Nobody can tell this loop to stop any more: it stops now.
                        self.record_token_uses().await;
                        return;
                    }
                }
            }
        }
    }
}

/// An outbox row's payload; one that does not decode fails its row (which is then set aside).
fn decode<T: serde::de::DeserializeOwned>(payload: &str) -> Result<T, consulate_store::StoreError> {
    serde_json::from_str(payload)
        .map_err(|e| consulate_store::StoreError::Corrupt(format!("outbox payload: {e}")))
}
