//! Approvals: the stages of a request that needs one, opened in turn with approvers resolved
//! from the policy version the request was made under, decided by exactly one approver each,
//! denied when nobody decides in time.

use crate::lifecycle::{Granting, STAGE_ESCALATION, STAGE_TIMEOUT, grant_keys};
use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, CallerIdentity, Operation};
use consulate_core::audit::{AuditEvent, Category};
use consulate_core::catalog_roles::{CatalogAction, authorize_in_catalog};
use consulate_core::connected_org::SponsorKind;
use consulate_core::eligibility::RequestorOrganization;
use consulate_core::lifecycle::{AssignmentRequest, RequestEvent};
use consulate_core::policy::{AssignmentPolicy, SubjectSet};
use consulate_core::request::RequestType;
use consulate_store::WriteTx;
use consulate_store::approvals::ApprovalStage;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The default time a stage waits for a decision.
const DEFAULT_DECISION_SECONDS: i64 = 14 * 86_400;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StageWork {
    pub(crate) request: Uuid,
    pub(crate) stage: Uuid,
}

/// A stage with whether the caller may decide it.
#[derive(Debug, Clone)]
pub struct StageView {
    pub stage: ApprovalStage,
    pub assigned_to_me: bool,
}

impl App {
    /// Users a list of subject sets names, for this request (enabled users, never the target).
    async fn resolve_sets(
        &self,
        tx: &mut WriteTx,
        r: &AssignmentRequest,
        organization: Option<RequestorOrganization>,
        sets: &[SubjectSet],
    ) -> ServiceResult<BTreeSet<Uuid>> {
        let mut out = BTreeSet::new();
        for s in sets {
            match s {
                SubjectSet::SingleUser { user_id, .. } if tx.user_enabled(*user_id).await? => {
                    out.insert(*user_id);
                }
                SubjectSet::GroupMembers { group_id, .. } => {
                    out.extend(tx.enabled_group_member_ids(*group_id).await?);
                }
                SubjectSet::InternalSponsors | SubjectSet::ExternalSponsors => {
                    if let Some(org) = organization {
                        let kind = if matches!(s, SubjectSet::InternalSponsors) {
                            SponsorKind::Internal
                        } else {
                            SponsorKind::External
                        };
                        out.extend(tx.sponsor_user_ids(org.id, kind).await?);
                    }
                }
                // Requests needing approval are the target's own: the requestor is the target.
                SubjectSet::RequestorManager { .. } => {
                    out.extend(tx.enabled_manager_ids(r.target_id).await?);
                }
                SubjectSet::TargetUserSponsors => {
                    out.extend(tx.enabled_user_sponsor_ids(r.target_id).await?);
                }
                _ => {}
            }
        }
        out.remove(&r.target_id);
        Ok(out)
    }

    /// Opens stage `index` of a request: its approvers (primary, or fallback when none), and
    /// its timer. Returns false when nobody can decide it.
    async fn open_stage(
        &self,
        tx: &mut WriteTx,
        r: &AssignmentRequest,
        policy: &AssignmentPolicy,
        organization: Option<RequestorOrganization>,
        stage: &ApprovalStage,
        now: jiff::Timestamp,
    ) -> ServiceResult<bool> {
        let settings = &policy.approval_settings.stages[stage.index as usize];
        let mut approvers = self
            .resolve_sets(tx, r, organization, &settings.primary_approvers)
            .await?;
        if approvers.is_empty() {
            approvers = self
                .resolve_sets(tx, r, organization, &settings.fallback_primary_approvers)
                .await?;
        }
        if approvers.is_empty() {
            return Ok(false);
        }
        let list: Vec<Uuid> = approvers.into_iter().collect();
        tx.open_stage(stage.id, &list, now).await?;
        let wait = settings
            .duration_before_automatic_denial
            .as_ref()
            .map_or(DEFAULT_DECISION_SECONDS, |d| d.seconds());
        let due = now
            .checked_add(jiff::SignedDuration::from_secs(wait))
            .unwrap_or(now);
        let work = serde_json::to_string(&StageWork {
            request: r.id,
            stage: stage.id,
        })
        .expect("serialises");
        tx.enqueue(self.ids.new_id(), STAGE_TIMEOUT, &work, due)
            .await?;
        if settings.is_escalation_enabled
            && let Some(after) = &settings.duration_before_escalation
            && let Ok(at) = now.checked_add(jiff::SignedDuration::from_secs(after.seconds()))
            && at < due
        {
            tx.enqueue(self.ids.new_id(), STAGE_ESCALATION, &work, at)
                .await?;
        }
        Ok(true)
    }

    /// Nobody decided a stage within `durationBeforeEscalation`: its escalation approvers (or
    /// their fallback) may decide it too. `None` when the stage is no longer open.
    pub(crate) async fn escalate_stage(
        &self,
        tx: &mut WriteTx,
        w: &StageWork,
        policy: &AssignmentPolicy,
        organization: Option<RequestorOrganization>,
    ) -> ServiceResult<Option<AuditEvent>> {
        // The request is locked before its stage, in the order decisions and cancels take.
        let Some(r) = tx.find_request_for_update(w.request).await? else {
            return Ok(None); // deleted
        };
        let s = tx.stage_for_update(w.request, w.stage).await?;
        if s.status != "inProgress" {
            return Ok(None);
        }
        let Some(settings) = policy.approval_settings.stages.get(s.index as usize) else {
            return Ok(None);
        };
        let mut approvers = self
            .resolve_sets(tx, &r, organization, &settings.escalation_approvers)
            .await?;
        if approvers.is_empty() {
            approvers = self
                .resolve_sets(
                    tx,
                    &r,
                    organization,
                    &settings.fallback_escalation_approvers,
                )
                .await?;
        }
        let list: Vec<Uuid> = approvers.into_iter().collect();
        tx.add_stage_approvers(s.id, &list).await?;
        let mut t = target("accessPackageAssignmentRequest", r.id, None);
        t.modified_properties.push(prop(
            &format!("stage {} approvers", s.index + 1),
            None,
            Some(if list.is_empty() {
                "no escalation approver could be found; the primary approvers still decide".into()
            } else {
                list.iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        ));
        Ok(Some(self.event(
            &Caller::system(),
            Category::EntitlementManagement,
            "Escalate access package request",
            "approval.escalate",
            t,
        )))
    }

    /// Creates a request's stages and opens the first. False when nobody can approve it.
    pub(crate) async fn create_stages(
        &self,
        tx: &mut WriteTx,
        r: &AssignmentRequest,
        policy: &AssignmentPolicy,
        organization: Option<RequestorOrganization>,
        now: jiff::Timestamp,
    ) -> ServiceResult<bool> {
        let mut first = None;
        for (i, _) in policy.approval_settings.stages.iter().enumerate() {
            let s = ApprovalStage {
                id: self.ids.new_id(),
                request_id: r.id,
                index: i as i64,
                status: "notStarted".into(),
                review_result: "NotReviewed".into(),
                reviewed_by: None,
                reviewed_at: None,
                justification: String::new(),
                opened_at: None,
            };
            tx.insert_stage(&s).await?;
            first.get_or_insert(s);
        }
        match first {
            Some(s) => self.open_stage(tx, r, policy, organization, &s, now).await,
            None => Ok(false),
        }
    }

    /// Decides a stage: Approve or Deny, by one of its approvers (never the target).
    pub async fn decide_stage(
        &self,
        caller: &Caller,
        request: Uuid,
        stage: Uuid,
        approve: bool,
        justification: Option<String>,
    ) -> ServiceResult<()> {
        consulate_core::access::authorize(caller, Operation::RequestOwnAccess)?;
        let CallerIdentity::User { user_id, .. } = caller.identity else {
            return Err(
                DomainError::invalid("caller", "approvals are decided by signed-in users").into(),
            );
        };
        let now = self.clock.now();
        let justification = consulate_core::request::justification_text(justification.as_deref())?;
        // Everything read from the store is read before the writing transaction begins.
        let current = self.store.assignment_request(request).await?;
        let policy = self
            .store
            .policy_version(current.policy_id, current.policy_version)
            .await?;
        let (package, roles) = self
            .store
            .access_package_with_roles(current.access_package_id)
            .await?;
        // Eligibility again at every decision: the user, the package or the policy may have
        // changed since the request was made.
        let (requestor, subject_absent) = match self.requestor_with_subject(current.target_id).await
        {
            Ok((r, subject)) => (Some(r), !subject),
            Err(_) => (None, false),
        };
        let organization = requestor.as_ref().and_then(|r| r.organization);
        let eligible = !approve || self.eligible_as(&current, requestor).await?;
        let grants = grant_keys(&roles)?;
        // A request's stages and a stage's approvers are fixed when the request is made and
        // the stage opens (escalation only adds approvers), so they are read here too. The
        // writes below are conditional: the stage must still be in progress and the request
        // in the state read here, so of several deciders exactly one wins.
        let stages = self
            .store
            .approval_stages_for(request, Some(user_id))
            .await?;
        let (s, decides) = stages
            .iter()
            .find(|(x, _)| x.id == stage)
            .cloned()
            .ok_or_else(|| {
                DomainError::not_found(
                    consulate_core::error::ObjectKind::ApprovalStage,
                    stage.to_string(),
                )
            })?;
        let stages: Vec<ApprovalStage> = stages.into_iter().map(|(x, _)| x).collect();
        if current.target_id == user_id || !decides {
            return Err(DomainError::forbidden("you are not an approver of this stage").into());
        }
        if s.status != "inProgress" {
            return Err(
                DomainError::conflict("this approval stage has been decided already").into(),
            );
        }
        let mut r = current.clone();
        let mut events = Vec::new();
        let mut tx = self.store.begin().await?;
        let settings = &policy.approval_settings.stages[s.index as usize];
        if settings.is_approver_justification_required && justification.is_empty() {
            return Err(DomainError::invalid(
                "justification",
                "this stage asks approvers for a justification",
            )
            .into());
        }
        let result = if approve { "Approve" } else { "Deny" };
        tx.decide_stage(
            stage,
            result,
            "completed",
            Some(user_id),
            &justification,
            now,
        )
        .await?;
        let mut t = target("accessPackageAssignmentRequest", r.id, None);
        t.modified_properties.push(prop(
            &format!("stage {}", s.index + 1),
            Some("NotReviewed".into()),
            Some(result.into()),
        ));
        let next = if !approve || !eligible {
            if !eligible {
                t.modified_properties.push(prop(
                    "reason",
                    None,
                    Some("the requestor is no longer eligible".into()),
                ));
            }
            RequestEvent::Denied
        } else {
            match stages.iter().find(|x| x.index == s.index + 1) {
                Some(following) => {
                    if self
                        .open_stage(&mut tx, &r, &policy, organization, following, now)
                        .await?
                    {
                        RequestEvent::NeedsApproval
                    } else {
                        t.modified_properties.push(prop(
                            "reason",
                            None,
                            Some("nobody can approve the next stage".into()),
                        ));
                        RequestEvent::Denied
                    }
                }
                None if r.schedule.start > now => RequestEvent::ApprovedForLater,
                None => RequestEvent::Approved,
            }
        };
        if next != RequestEvent::NeedsApproval {
            let to = r.state.apply(next)?;
            let completed = (next == RequestEvent::Denied).then_some(now);
            tx.set_request_state(r.id, r.state, to, completed).await?;
            r.state = to;
            if r.request_type.is_update() && next == RequestEvent::Approved {
                // An extension: the end moves, the grants stay.
                let outcome = match self.apply_extension(&mut tx, &r, now).await {
                    Ok(props) => {
                        t.modified_properties.extend(props);
                        RequestEvent::DeliverySucceeded
                    }
                    Err(crate::ServiceError::Domain(DomainError::Conflict { message })) => {
                        t.modified_properties
                            .push(prop("reason", None, Some(message)));
                        RequestEvent::DeliveryFailed
                    }
                    Err(e) => return Err(e),
                };
                let done = r.state.apply(outcome)?;
                tx.set_request_state(r.id, r.state, done, Some(now)).await?;
                r.state = done;
            } else if matches!(
                next,
                RequestEvent::Approved | RequestEvent::ApprovedForLater
            ) {
                self.create_assignment(
                    &mut tx,
                    &mut r,
                    Granting {
                        catalog_id: package.catalog_id,
                        grants: &grants,
                        subject_absent,
                    },
                    now,
                    &mut events,
                )
                .await?;
                tx.set_request_assignment(r.id, r.assignment_id).await?;
            }
        }
        t.modified_properties
            .push(prop("state", None, Some(r.state.as_str().into())));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Decide access package request",
            "approval.decide",
            t,
        );
        events.insert(0, event);
        tx.commit(&events).await?;
        self.delivery.notify_one();
        Ok(())
    }

    /// Whether the request's target may still have what it asked for, at a decision and at
    /// delivery (for its own requests: the policy still admits it, given the target's requestor
    /// facts as read, `None` when they could not be; for administrators' requests: the policy
    /// still exists).
    pub(crate) async fn eligible_as(
        &self,
        r: &AssignmentRequest,
        requestor: Option<consulate_core::eligibility::Requestor>,
    ) -> ServiceResult<bool> {
        if !matches!(
            r.request_type,
            RequestType::UserAdd | RequestType::UserUpdate
        ) {
            return Ok(self.store.policy(r.policy_id).await.is_ok());
        }
        let Some(mut requestor) = requestor else {
            return Ok(false);
        };
        requestor.held_packages.remove(&r.access_package_id);
        let ix = self.eligibility_index().await?;
        Ok(ix
            .explain(&requestor, r.access_package_id)
            .unwrap_or_default()
            .iter()
            .any(|(p, v)| p.id == r.policy_id && v.is_ok()))
    }

    /// A stage's time is up: if nobody decided it, the request is denied.
    pub(crate) async fn expire_stage(
        &self,
        tx: &mut WriteTx,
        w: &StageWork,
        now: jiff::Timestamp,
    ) -> ServiceResult<Option<AuditEvent>> {
        let Some(r) = tx.find_request_for_update(w.request).await? else {
            return Ok(None); // deleted
        };
        let s = tx.stage_for_update(w.request, w.stage).await?;
        if s.status != "inProgress" {
            return Ok(None);
        }
        tx.decide_stage(s.id, "NotReviewed", "expired", None, "", now)
            .await?;
        let denied = r.state.apply(RequestEvent::Denied)?;
        tx.set_request_state(r.id, r.state, denied, Some(now))
            .await?;
        let mut t = target("accessPackageAssignmentRequest", r.id, None);
        t.modified_properties.push(prop(
            "state",
            Some(r.state.as_str().into()),
            Some(denied.as_str().into()),
        ));
        t.modified_properties.push(prop(
            "reason",
            None,
            Some(format!("nobody decided stage {} in time", s.index + 1)),
        ));
        Ok(Some(self.event(
            &Caller::system(),
            Category::EntitlementManagement,
            "Deny access package request",
            "approval.expire",
            t,
        )))
    }

    /// A request's stages, for its approvers, its target, and readers of its catalog.
    pub async fn approval_stages(
        &self,
        caller: &Caller,
        request: Uuid,
    ) -> ServiceResult<Vec<StageView>> {
        let r = self.store.assignment_request(request).await?;
        let me = match caller.identity {
            CallerIdentity::User { user_id, .. } => Some(user_id),
            _ => None,
        };
        let stages = self.store.approval_stages_for(request, me).await?;
        let mut out = Vec::with_capacity(stages.len());
        let mut is_approver = false;
        for (s, mine) in stages {
            is_approver |= mine;
            out.push(StageView {
                stage: s,
                assigned_to_me: mine,
            });
        }
        if !is_approver && me != Some(r.target_id) {
            let p = self.store.access_package(r.access_package_id).await?;
            authorize_in_catalog(
                caller,
                Operation::ReadAssignments,
                CatalogAction::Read,
                p.catalog_id,
            )?;
        }
        Ok(out)
    }

    /// `filterByCurrentUser(on='approver')`: requests with a stage the caller may decide.
    pub async fn my_approvals(&self, caller: &Caller) -> ServiceResult<Vec<AssignmentRequest>> {
        consulate_core::access::authorize(caller, Operation::ReadOwnAccess)?;
        let CallerIdentity::User { user_id, .. } = caller.identity else {
            return Err(DomainError::invalid(
                "caller",
                "filterByCurrentUser answers for a signed-in user",
            )
            .into());
        };
        let mut out = Vec::new();
        for id in self.store.requests_awaiting(user_id).await? {
            out.push(self.store.assignment_request(id).await?);
        }
        Ok(out)
    }
}
