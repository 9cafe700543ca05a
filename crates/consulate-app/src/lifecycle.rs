//! Requests and assignments. A request is checked against its policy (and, for the target's
//! own requests, against eligibility) and committed in one transaction with its audit event
//! and, when it needs no approval, the assignment and an outbox row; the delivery worker
//! (`delivery`) then grants or revokes each resource role. Cancel, delete, reprocess, lists.

use crate::external_users::PendingGuest;
use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, CallerIdentity, Operation, authorize};
use consulate_core::audit::{AuditEvent, Category};
use consulate_core::catalog_roles::{CatalogAction, authorize_in_catalog};
use consulate_core::filter::{AssignmentField, AssignmentRequestField};
use consulate_core::lifecycle::{
    Assignment, AssignmentEvent, AssignmentRequest, AssignmentState, RequestEvent, RequestState,
    RequestedBy,
};
use consulate_core::request::{self, Answer, RequestType, RequestedSchedule};
use consulate_core::resource::Grant;
use consulate_store::access_packages::GrantedRole;
use consulate_store::lifecycle::{AssignmentScope, RequestScope};
use consulate_store::list::{ListQuery, Page};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Outbox kinds the delivery worker handles.
pub(crate) const DELIVER: &str = "deliverAssignment";
pub(crate) const REVOKE: &str = "revokeAssignment";
pub(crate) const REPROCESS: &str = "reprocessAssignment";
/// An approval stage's time is up.
pub(crate) const STAGE_TIMEOUT: &str = "approvalStageTimeout";
pub(crate) const STAGE_ESCALATION: &str = "approvalStageEscalation";

/// A request as asked for.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub request_type: RequestType,
    pub access_package_id: Option<Uuid>,
    pub policy_id: Option<Uuid>,
    /// The user to assign (admin requests); the caller for the target's own.
    pub target_id: Option<Uuid>,
    /// The assignment to remove or extend.
    pub assignment_id: Option<Uuid>,
    pub justification: Option<String>,
    pub answers: Vec<Answer>,
    pub schedule: Option<RequestedSchedule>,
}

/// What a new assignment grants, and what is known of its target.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Granting<'a> {
    pub(crate) catalog_id: Uuid,
    pub(crate) grants: &'a [(Uuid, String)],
    /// No `accessPackageSubject` record existed for the target when the request was read,
    /// so it is no guest to unblock or accept (one is never made for an existing user
    /// without an assignment).
    pub(crate) subject_absent: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Work {
    pub(crate) request: Uuid,
    pub(crate) assignment: Uuid,
}

/// (role, grant key) for each resource role a package grants.
pub(crate) fn grant_keys(roles: &[GrantedRole]) -> ServiceResult<Vec<(Uuid, String)>> {
    Ok(roles
        .iter()
        .map(|r| {
            Grant::from_origins(r.origin_system, &r.resource_origin_id, &r.role_origin_id)
                .map(|g| (r.role_id, g.key()))
        })
        .collect::<Result<_, _>>()?)
}

fn requested_by(caller: &Caller) -> RequestedBy {
    match &caller.identity {
        CallerIdentity::User { user_id, .. } => RequestedBy::User(*user_id),
        CallerIdentity::Application { token_id, .. } => RequestedBy::Application(*token_id),
        // Outside callers request as the guest they become (see `submit_external`).
        CallerIdentity::External { .. } | CallerIdentity::System => RequestedBy::System,
    }
}

impl App {
    /// Submits a request. With an idempotency key, a retry with the same body returns the
    /// request made the first time; the same key with another body is refused.
    pub async fn submit_request(
        &self,
        caller: &Caller,
        new: NewRequest,
        idempotency: Option<(String, String)>,
    ) -> ServiceResult<AssignmentRequest> {
        if let CallerIdentity::External {
            issuer,
            subject,
            email,
        } = &caller.identity
        {
            let who = (issuer.clone(), subject.clone(), email.clone());
            return self.submit_external(caller, who, new).await;
        }
        let by = requested_by(caller);
        if let Some((key, hash)) = &idempotency {
            let mut tx = self.store.begin().await?;
            if let Some((earlier, earlier_hash)) = tx.request_by_idempotency_key(&by, key).await? {
                if &earlier_hash != hash {
                    return Err(DomainError::Unprocessable {
                        message: "this Idempotency-Key was used with a different request body"
                            .into(),
                    }
                    .into());
                }
                return Ok(earlier);
            }
        }
        let result = if new.request_type.is_update() {
            self.submit_update(caller, &by, new, idempotency.as_ref())
                .await
        } else if new.request_type.adds_access() {
            self.submit_add(caller, &by, new, idempotency.as_ref(), None)
                .await
        } else {
            self.submit_remove(caller, &by, new, idempotency.as_ref())
                .await
        };
        if result.is_ok() {
            self.delivery.notify_one();
        }
        result
    }

    pub(crate) async fn submit_add(
        &self,
        caller: &Caller,
        by: &RequestedBy,
        new: NewRequest,
        idempotency: Option<&(String, String)>,
        pending: Option<PendingGuest>,
    ) -> ServiceResult<AssignmentRequest> {
        let package_id = new.access_package_id.ok_or_else(|| {
            DomainError::invalid("accessPackage", "the request needs accessPackage.id")
        })?;
        let (package, roles) = self
            .store
            .access_package_with_roles(package_id)
            .await
            .map_err(|e| match e {
                consulate_store::StoreError::Domain(DomainError::NotFound { .. }) => {
                    consulate_store::StoreError::Domain(DomainError::invalid(
                        "accessPackage",
                        format!("access package {package_id} does not exist"),
                    ))
                }
                other => other,
            })?;
        let now = self.clock.now();
        // For the target's own request, the requestor (and whether it has a subject record).
        let (target_id, policy, own) = match new.request_type {
            RequestType::UserAdd => {
                authorize(caller, Operation::RequestOwnAccess)?;
                let CallerIdentity::User { user_id, .. } = caller.identity else {
                    return Err(DomainError::invalid(
                        "requestType",
                        "userAdd is for signed-in users; applications use adminAdd",
                    )
                    .into());
                };
                if new.target_id.is_some_and(|t| t != user_id) {
                    return Err(DomainError::invalid(
                        "target",
                        "userAdd requests access for the signed-in user only",
                    )
                    .into());
                }
                let (requestor, subject) = match &pending {
                    Some(g) => (self.external_requestor(&g.issuer, &g.subject).await?, true),
                    None => self.requestor_with_subject(user_id).await?,
                };
                // Sign-in rules for this package apply again, to sessions from outside.
                self.judge_request(caller, package_id, true).await?;
                self.require_terms(caller).await?;
                let ix = self.eligibility_index().await?;
                let verdicts = ix.explain(&requestor, package_id).unwrap_or_default();
                let chosen = match new.policy_id {
                    Some(p) => verdicts.iter().find(|(x, _)| x.id == p).ok_or_else(|| {
                        DomainError::invalid(
                            "assignmentPolicyId",
                            format!("policy {p} is not a policy of this access package"),
                        )
                    })?,
                    None => {
                        let allowed: Vec<_> = verdicts.iter().filter(|(_, v)| v.is_ok()).collect();
                        match allowed.as_slice() {
                            [one] => *one,
                            [] => verdicts.first().ok_or_else(|| {
                                DomainError::forbidden(
                                    "this access package has no policy you may request under",
                                )
                            })?,
                            _ => {
                                return Err(DomainError::invalid(
                                    "assignmentPolicyId",
                                    "several policies let you request this package; name one with assignmentPolicyId",
                                )
                                .into());
                            }
                        }
                    }
                };
                if let Err(denial) = &chosen.1 {
                    return Err(DomainError::forbidden(format!(
                        "You may not request this access package: {}",
                        denial.message()
                    ))
                    .into());
                }
                (user_id, chosen.0.clone(), Some((requestor, subject)))
            }
            _ => {
                authorize_in_catalog(
                    caller,
                    Operation::WriteAssignments,
                    CatalogAction::ManageAssignments,
                    package.catalog_id,
                )?;
                let target = new.target_id.ok_or_else(|| {
                    DomainError::invalid("target", "adminAdd needs the user to assign (targetId)")
                })?;
                self.store.user(target).await.map_err(|_| {
                    DomainError::invalid("target", format!("user {target} does not exist"))
                })?;
                let policy_id = new.policy_id.ok_or_else(|| {
                    DomainError::invalid("assignmentPolicyId", "adminAdd needs assignmentPolicyId")
                })?;
                let policy = self.store.policy(policy_id).await.map_err(|_| {
                    DomainError::invalid(
                        "assignmentPolicyId",
                        format!("policy {policy_id} does not exist"),
                    )
                })?;
                if policy.access_package_id != package_id {
                    return Err(DomainError::invalid(
                        "assignmentPolicyId",
                        "the policy belongs to another access package",
                    )
                    .into());
                }
                (target, policy, None)
            }
        };
        let justification =
            request::check_justification(&policy, new.request_type, new.justification.as_deref())?;
        let answers = request::check_answers(&policy, &new.answers)?;
        let schedule =
            request::assignment_schedule(&policy, new.request_type, new.schedule.as_ref(), now)?;
        let needs_approval = new.request_type == RequestType::UserAdd
            && policy.approval_settings.is_approval_required_for_add;
        let later = schedule.start > now;
        let state = if needs_approval {
            RequestState::Submitted.apply(RequestEvent::NeedsApproval)?
        } else if later {
            RequestState::Submitted.apply(RequestEvent::ApprovedForLater)?
        } else {
            RequestState::Submitted.apply(RequestEvent::Approved)?
        };
        let grants = if needs_approval {
            Vec::new()
        } else {
            grant_keys(&roles)?
        };
        let organization = match (&pending, needs_approval) {
            (Some(g), _) => g.organization,
            (None, true) => match &own {
                Some((requestor, _)) => requestor.organization,
                None => self.requestor_for_user(target_id).await?.organization,
            },
            (None, false) => None,
        };
        // Without a subject record the target is no guest to unblock or accept.
        let subject_absent = matches!(own, Some((_, false)));
        let mut events = Vec::new();
        let mut tx = self.store.begin().await?;
        // Without approval, the new assignment's insert is the check (a unique index).
        if needs_approval && tx.active_assignment(package_id, target_id).await?.is_some() {
            return Err(DomainError::conflict("the user already has this access package").into());
        }
        let mut r = AssignmentRequest {
            id: self.ids.new_id(),
            request_type: new.request_type,
            state,
            access_package_id: package_id,
            policy_id: policy.id,
            policy_version: policy.version,
            target_id,
            requested_by: by.clone(),
            assignment_id: None,
            justification,
            answers,
            schedule,
            created_date_time: now,
            completed_date_time: None,
        };
        if let Some(g) = &pending {
            events.push(self.insert_pending_guest(&mut tx, g, r.id).await?);
        }
        if needs_approval {
            // The request is stored first: its stages refer to it.
            tx.insert_request(&r, idempotency.map(|(k, h)| (k.as_str(), h.as_str())))
                .await?;
            let stages = self
                .create_stages(&mut tx, &r, &policy, organization, now)
                .await?;
            if !stages {
                // Nobody can approve it: denied at once rather than left to time out.
                let denied = r.state.apply(RequestEvent::Denied)?;
                tx.set_request_state(r.id, r.state, denied, Some(now))
                    .await?;
                r.state = denied;
                r.completed_date_time = Some(now);
            }
        } else {
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
            tx.insert_request(&r, idempotency.map(|(k, h)| (k.as_str(), h.as_str())))
                .await?;
        }
        let mut t = target(
            "accessPackageAssignmentRequest",
            r.id,
            Some(&package.display_name),
        );
        t.modified_properties.push(prop(
            "requestType",
            None,
            Some(r.request_type.as_str().into()),
        ));
        t.modified_properties
            .push(prop("state", None, Some(r.state.as_str().into())));
        t.modified_properties
            .push(prop("target", None, Some(target_id.to_string())));
        t.modified_properties.push(prop(
            "policy",
            None,
            Some(format!("{} (version {})", policy.id, policy.version)),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Request access package assignment",
            "assignmentRequest.create",
            t,
        );
        events.insert(0, event);
        tx.commit(&events).await?;
        Ok(r)
    }

    /// What a package's assignments grant: (role, grant key) per resource role. Read before
    /// a writing transaction begins (reads inside one would hold two connections).
    pub async fn package_grants(&self, package: Uuid) -> ServiceResult<Vec<(Uuid, String)>> {
        grant_keys(&self.store.access_package_with_roles(package).await?.1)
    }

    /// The assignment an approved request creates, with its grants and queued delivery (at
    /// the schedule's start).
    pub(crate) async fn create_assignment(
        &self,
        tx: &mut consulate_store::WriteTx,
        r: &mut AssignmentRequest,
        granting: Granting<'_>,
        now: jiff::Timestamp,
        events: &mut Vec<AuditEvent>,
    ) -> ServiceResult<()> {
        let Granting {
            catalog_id,
            grants,
            subject_absent,
        } = granting;
        // At most one active assignment per (package, user) is a unique index; a second one
        // fails its insert with a conflict ("the user already has this access package").
        let assignment = Assignment {
            id: self.ids.new_id(),
            access_package_id: r.access_package_id,
            policy_id: r.policy_id,
            catalog_id,
            target_id: r.target_id,
            state: AssignmentState::Delivering,
            schedule: r.schedule,
            created_date_time: now,
            modified_date_time: now,
            expired_date_time: None,
        };
        r.assignment_id = Some(assignment.id);
        if !subject_absent {
            events.extend(self.before_assignment_created(tx, r.target_id, now).await?);
        }
        tx.insert_assignment(&assignment, grants).await?;
        let work = serde_json::to_string(&Work {
            request: r.id,
            assignment: assignment.id,
        })
        .expect("serialises");
        tx.enqueue(self.ids.new_id(), DELIVER, &work, r.schedule.start)
            .await?;
        Ok(())
    }

    async fn submit_remove(
        &self,
        caller: &Caller,
        by: &RequestedBy,
        new: NewRequest,
        idempotency: Option<&(String, String)>,
    ) -> ServiceResult<AssignmentRequest> {
        let assignment_id = new
            .assignment_id
            .ok_or_else(|| DomainError::invalid("assignment", "a removal needs assignment.id"))?;
        let current = self.store.assignment(assignment_id).await?;
        match new.request_type {
            RequestType::UserRemove => {
                authorize(caller, Operation::RequestOwnAccess)?;
                let policy = self.store.policy(current.policy_id).await?;
                let mine = matches!(caller.identity, CallerIdentity::User { user_id, .. } if user_id == current.target_id);
                if !mine {
                    return Err(DomainError::forbidden(
                        "userRemove removes the signed-in user's own assignment",
                    )
                    .into());
                }
                if !policy
                    .requestor_settings
                    .enable_targets_to_self_remove_access
                {
                    return Err(DomainError::forbidden(
                        "this access package's policy does not let users remove their own access",
                    )
                    .into());
                }
            }
            _ => authorize_in_catalog(
                caller,
                Operation::WriteAssignments,
                CatalogAction::ManageAssignments,
                current.catalog_id,
            )?,
        }
        let now = self.clock.now();
        let policy_version = self
            .store
            .policy(current.policy_id)
            .await
            .map(|p| p.version)
            .unwrap_or(0);
        let mut tx = self.store.begin().await?;
        let a = tx.assignment_for_update(assignment_id).await?;
        let ended = a.state.apply(AssignmentEvent::Ended)?;
        tx.set_assignment_state(&a, ended, now).await?;
        let blocked = self
            .after_assignment_ended(&mut tx, a.target_id, now)
            .await?;
        let r = AssignmentRequest {
            id: self.ids.new_id(),
            request_type: new.request_type,
            state: RequestState::Submitted.apply(RequestEvent::Approved)?,
            access_package_id: a.access_package_id,
            policy_id: a.policy_id,
            policy_version,
            target_id: a.target_id,
            requested_by: by.clone(),
            assignment_id: Some(a.id),
            justification: request::justification_text(new.justification.as_deref())?,
            answers: Vec::new(),
            schedule: a.schedule,
            created_date_time: now,
            completed_date_time: None,
        };
        tx.insert_request(&r, idempotency.map(|(k, h)| (k.as_str(), h.as_str())))
            .await?;
        let work = serde_json::to_string(&Work {
            request: r.id,
            assignment: a.id,
        })
        .expect("serialises");
        tx.enqueue(self.ids.new_id(), REVOKE, &work, now).await?;
        let mut t = target("accessPackageAssignment", a.id, None);
        t.modified_properties.push(prop(
            "state",
            Some(a.state.as_str().into()),
            Some(ended.as_str().into()),
        ));
        t.modified_properties.push(prop(
            "requestType",
            None,
            Some(r.request_type.as_str().into()),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Remove access package assignment",
            "assignment.remove",
            t,
        );
        let events: Vec<_> = std::iter::once(event).chain(blocked).collect();
        tx.commit(&events).await?;
        Ok(r)
    }

    /// Cancels a request that is not decided yet: by its target (for their own requests) or by
    /// whoever manages the package's assignments.
    pub async fn cancel_request(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let current = self.store.assignment_request(id).await?;
        // Only a request the caller made for themselves is theirs to cancel: a target does not
        // cancel what an administrator assigned (that is a removal, under the policy's rules).
        let own = matches!(caller.identity, CallerIdentity::User { user_id, .. }
            if user_id == current.target_id && current.requested_by == RequestedBy::User(user_id));
        if own {
            authorize(caller, Operation::RequestOwnAccess)?;
        } else {
            let p = self.store.access_package(current.access_package_id).await?;
            authorize_in_catalog(
                caller,
                Operation::WriteAssignments,
                CatalogAction::ManageAssignments,
                p.catalog_id,
            )?;
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let r = tx.request_for_update(id).await?;
        if !r.state.is_cancellable() {
            return Err(DomainError::conflict(format!(
                "a request that is {} cannot be canceled",
                r.state.as_str()
            ))
            .into());
        }
        let canceled = r.state.apply(RequestEvent::Canceled)?;
        tx.set_request_state(r.id, r.state, canceled, Some(now))
            .await?;
        tx.close_open_stages(r.id, now).await?;
        // A request approved for a later start already holds its (undelivered) assignment.
        if let Some(a) = r.assignment_id {
            let a = tx.assignment_for_update(a).await?;
            if a.state.is_active() {
                tx.set_assignment_state(&a, a.state.apply(AssignmentEvent::Ended)?, now)
                    .await?;
            }
        }
        let mut t = target("accessPackageAssignmentRequest", r.id, None);
        t.modified_properties.push(prop(
            "state",
            Some(r.state.as_str().into()),
            Some(canceled.as_str().into()),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Cancel access package request",
            "assignmentRequest.cancel",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    /// Deletes a finished request (denied, canceled or delivered) whose assignment, if any,
    /// has ended.
    pub async fn delete_request(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let current = self.store.assignment_request(id).await?;
        let p = self.store.access_package(current.access_package_id).await?;
        authorize_in_catalog(
            caller,
            Operation::WriteAssignments,
            CatalogAction::ManageAssignments,
            p.catalog_id,
        )?;
        let mut tx = self.store.begin().await?;
        let r = tx.request_for_update(id).await?;
        if !(r.state.is_final() || r.state == RequestState::DeliveryFailed) {
            return Err(DomainError::conflict(format!(
                "a request that is {} cannot be deleted; cancel it first",
                r.state.as_str()
            ))
            .into());
        }
        let active = match r.assignment_id {
            Some(a) => match tx.assignment_for_update(a).await {
                Ok(a) => a.state.is_active(),
                Err(consulate_store::StoreError::Domain(DomainError::NotFound { .. })) => false,
                Err(e) => return Err(e.into()),
            },
            None => false,
        };
        if active {
            return Err(DomainError::conflict(
                "the request's assignment is active; remove it first",
            )
            .into());
        }
        tx.delete_request(id).await?;
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Delete access package request",
            "assignmentRequest.delete",
            target("accessPackageAssignmentRequest", id, None),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn get_request(&self, caller: &Caller, id: Uuid) -> ServiceResult<AssignmentRequest> {
        let r = self.store.assignment_request(id).await?;
        self.authorize_subject_read(caller, r.target_id, r.access_package_id)
            .await?;
        Ok(r)
    }

    pub async fn get_assignment(&self, caller: &Caller, id: Uuid) -> ServiceResult<Assignment> {
        let a = self.store.assignment(id).await?;
        self.authorize_subject_read(caller, a.target_id, a.access_package_id)
            .await?;
        Ok(a)
    }

    /// A page of requests, oldest first: everyone's, or with `on` the caller's own
    /// (`target`), those the caller made (`createdBy`) or may decide (`approver`).
    pub async fn list_requests(
        &self,
        caller: &Caller,
        on: Option<&str>,
        q: &ListQuery<AssignmentRequestField>,
    ) -> ServiceResult<Page<AssignmentRequest>> {
        let scope = match on {
            None => {
                self.list_scope(caller, false)?;
                RequestScope::All
            }
            Some(on) => {
                let me = self.list_scope(caller, true)?.expect("a user's own scope");
                match on {
                    "target" => RequestScope::Target(me),
                    "createdBy" => RequestScope::CreatedBy(me),
                    "approver" => RequestScope::Approver(me),
                    _ => {
                        return Err(DomainError::invalid(
                            "on",
                            "filterByCurrentUser here takes on='target', 'createdBy' or 'approver'",
                        )
                        .into());
                    }
                }
            }
        };
        Ok(self.store.list_assignment_requests(scope, q).await?)
    }

    /// A page of assignments (the caller's own with `mine`), oldest first.
    pub async fn list_assignments(
        &self,
        caller: &Caller,
        mine: bool,
        q: &ListQuery<AssignmentField>,
    ) -> ServiceResult<Page<Assignment>> {
        let scope = match self.list_scope(caller, mine)? {
            Some(t) => AssignmentScope::Target(t),
            None => AssignmentScope::All,
        };
        Ok(self.store.list_assignments(scope, q).await?)
    }

    /// Graph's `additionalAccess`: active assignments of `access_package` whose targets also
    /// hold `incompatible_access_package` (to find who holds both of two incompatible packages).
    pub async fn additional_access(
        &self,
        caller: &Caller,
        access_package: Uuid,
        incompatible_access_package: Uuid,
        q: &ListQuery<AssignmentField>,
    ) -> ServiceResult<Page<Assignment>> {
        authorize(caller, Operation::ReadAssignments)?;
        if access_package == incompatible_access_package {
            return Err(DomainError::invalid(
                "incompatibleAccessPackageId",
                "the two access package ids must be distinct",
            )
            .into());
        }
        for id in [access_package, incompatible_access_package] {
            self.store.access_package(id).await?;
        }
        Ok(self
            .store
            .list_assignments(
                AssignmentScope::AdditionalAccess {
                    access_package,
                    incompatible_access_package,
                },
                q,
            )
            .await?)
    }

    fn list_scope(&self, caller: &Caller, mine: bool) -> ServiceResult<Option<Uuid>> {
        if mine {
            authorize(caller, Operation::ReadOwnAccess)?;
            match caller.identity {
                CallerIdentity::User { user_id, .. } => Ok(Some(user_id)),
                // Someone from outside with no user yet holds and asked for nothing.
                CallerIdentity::External { .. } => Ok(Some(Uuid::nil())),
                _ => Err(DomainError::invalid(
                    "caller",
                    "filterByCurrentUser answers for a signed-in user",
                )
                .into()),
            }
        } else {
            authorize(caller, Operation::ReadAssignments)?;
            Ok(None)
        }
    }

    /// The target reads their own; others need to read assignments of the package's catalog.
    async fn authorize_subject_read(
        &self,
        caller: &Caller,
        target: Uuid,
        package: Uuid,
    ) -> ServiceResult<()> {
        if matches!(caller.identity, CallerIdentity::User { user_id, .. } if user_id == target) {
            return Ok(());
        }
        let p = self.store.access_package(package).await?;
        authorize_in_catalog(
            caller,
            Operation::ReadAssignments,
            CatalogAction::Read,
            p.catalog_id,
        )?;
        Ok(())
    }
}
