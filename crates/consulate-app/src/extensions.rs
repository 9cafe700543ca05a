//! Extensions: a `userUpdate` (the target's own, when the policy lets targets extend, with
//! approval when the policy asks for it) or an `adminUpdate` moves an active assignment's end
//! later. The grants stay as they are; only the end moves, so the expiry sweep ends the
//! assignment at its new end.

use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, CallerIdentity, Operation, authorize};
use consulate_core::audit::{Category, ModifiedProperty};
use consulate_core::catalog_roles::{CatalogAction, authorize_in_catalog};
use consulate_core::lifecycle::{
    AssignmentEvent, AssignmentRequest, RequestEvent, RequestState, RequestedBy,
};
use consulate_core::request::{self, RequestType, RequestedSchedule, Schedule};

use crate::lifecycle::NewRequest;

impl App {
    /// Submits an extension of the assignment `new.assignment_id`.
    pub(crate) async fn submit_update(
        &self,
        caller: &Caller,
        by: &RequestedBy,
        new: NewRequest,
        idempotency: Option<&(String, String)>,
    ) -> ServiceResult<AssignmentRequest> {
        let assignment_id = new.assignment_id.ok_or_else(|| {
            DomainError::invalid("assignment", "an extension needs assignment.id")
        })?;
        let current = self.store.assignment(assignment_id).await?;
        if new
            .access_package_id
            .is_some_and(|p| p != current.access_package_id)
        {
            return Err(DomainError::invalid(
                "accessPackage",
                "the assignment is of another access package",
            )
            .into());
        }
        if new.policy_id.is_some_and(|p| p != current.policy_id) {
            return Err(DomainError::invalid(
                "assignmentPolicyId",
                "an extension stays under the assignment's own policy",
            )
            .into());
        }
        let policy = self.store.policy(current.policy_id).await.map_err(|_| {
            DomainError::conflict("the assignment's policy no longer exists; it cannot be extended")
        })?;
        let package = self.store.access_package(current.access_package_id).await?;
        match new.request_type {
            RequestType::UserUpdate => {
                authorize(caller, Operation::RequestOwnAccess)?;
                let mine = matches!(caller.identity, CallerIdentity::User { user_id, .. } if user_id == current.target_id);
                if !mine {
                    return Err(DomainError::forbidden(
                        "userUpdate extends the signed-in user's own assignment",
                    )
                    .into());
                }
                if !policy
                    .requestor_settings
                    .enable_targets_to_self_update_access
                {
                    return Err(DomainError::forbidden(
                        "this access package's policy does not let users extend their access",
                    )
                    .into());
                }
                // The target must still be admitted by the policy, as for a new request.
                let mut requestor = self.requestor_for_user(current.target_id).await?;
                requestor.held_packages.remove(&current.access_package_id);
                let ix = self.eligibility_index().await?;
                let verdicts = ix
                    .explain(&requestor, current.access_package_id)
                    .unwrap_or_default();
                match verdicts.iter().find(|(p, _)| p.id == policy.id) {
                    Some((_, Ok(()))) => {}
                    Some((_, Err(denial))) => {
                        return Err(DomainError::forbidden(format!(
                            "You may not extend this access: {}",
                            denial.message()
                        ))
                        .into());
                    }
                    None => {
                        return Err(DomainError::forbidden(
                            "You may not extend this access: its policy no longer admits you",
                        )
                        .into());
                    }
                }
            }
            _ => authorize_in_catalog(
                caller,
                Operation::WriteAssignments,
                CatalogAction::ManageAssignments,
                current.catalog_id,
            )?,
        }
        if !current.state.is_active() || current.state.apply(AssignmentEvent::Extended).is_err() {
            return Err(DomainError::conflict(format!(
                "only delivered assignments can be extended; this one is {}",
                current.state.as_str()
            ))
            .into());
        }
        let Some(current_end) = current.schedule.end else {
            return Err(DomainError::invalid(
                "assignment",
                "the assignment does not expire; there is nothing to extend",
            )
            .into());
        };
        let now = self.clock.now();
        let justification =
            request::check_justification(&policy, new.request_type, new.justification.as_deref())?;
        let answers = request::check_answers(&policy, &new.answers)?;
        // The extension counts from now; the assignment keeps its start.
        let requested = new.schedule.as_ref().map(|s| RequestedSchedule {
            start: None,
            expiration: s.expiration.clone(),
        });
        let asked =
            request::assignment_schedule(&policy, new.request_type, requested.as_ref(), now)?;
        if asked.end.is_some_and(|e| e <= current_end) {
            return Err(DomainError::invalid(
                "schedule",
                format!(
                    "the extension would end at {}, not after the assignment's current end {current_end}",
                    asked.end.map(|e| e.to_string()).unwrap_or_default()
                ),
            )
            .into());
        }
        let schedule = Schedule {
            start: current.schedule.start,
            end: asked.end,
        };
        let needs_approval = new.request_type == RequestType::UserUpdate
            && policy.approval_settings.is_approval_required_for_update;
        let organization = if needs_approval {
            self.requestor_for_user(current.target_id)
                .await?
                .organization
        } else {
            None
        };
        let mut tx = self.store.begin().await?;
        let a = tx.assignment_for_update(assignment_id).await?;
        if a.state != current.state || a.schedule != current.schedule {
            return Err(DomainError::conflict(
                "the assignment was changed by another operation; retry",
            )
            .into());
        }
        let mut r = AssignmentRequest {
            id: self.ids.new_id(),
            request_type: new.request_type,
            state: RequestState::Submitted,
            access_package_id: a.access_package_id,
            policy_id: policy.id,
            policy_version: policy.version,
            target_id: a.target_id,
            requested_by: by.clone(),
            assignment_id: Some(a.id),
            justification,
            answers,
            schedule,
            created_date_time: now,
            completed_date_time: None,
        };
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
            .push(prop("assignment", None, Some(a.id.to_string())));
        let key = idempotency.map(|(k, h)| (k.as_str(), h.as_str()));
        if needs_approval {
            r.state = RequestState::Submitted.apply(RequestEvent::NeedsApproval)?;
            tx.insert_request(&r, key).await?;
            if !self
                .create_stages(&mut tx, &r, &policy, organization, now)
                .await?
            {
                let denied = r.state.apply(RequestEvent::Denied)?;
                tx.set_request_state(r.id, r.state, denied, Some(now))
                    .await?;
                r.state = denied;
                r.completed_date_time = Some(now);
            }
        } else {
            let delivering = RequestState::Submitted.apply(RequestEvent::Approved)?;
            let props = self.apply_extension(&mut tx, &r, now).await?;
            t.modified_properties.extend(props);
            r.state = delivering.apply(RequestEvent::DeliverySucceeded)?;
            r.completed_date_time = Some(now);
            tx.insert_request(&r, key).await?;
        }
        t.modified_properties
            .push(prop("state", None, Some(r.state.as_str().into())));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Request access package assignment extension",
            "assignmentRequest.create",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(r)
    }

    /// Moves the assignment's end to the approved extension's end. Fails (and the request
    /// with it) when the assignment ended or changed meanwhile.
    pub(crate) async fn apply_extension(
        &self,
        tx: &mut consulate_store::WriteTx,
        r: &AssignmentRequest,
        now: jiff::Timestamp,
    ) -> ServiceResult<Vec<ModifiedProperty>> {
        let id = r.assignment_id.ok_or_else(|| {
            consulate_store::StoreError::Corrupt(format!("extension {} has no assignment", r.id))
        })?;
        let a = tx.assignment_for_update(id).await?;
        a.state.apply(AssignmentEvent::Extended)?;
        if r.schedule.end.is_some() && a.schedule.end.is_some_and(|e| Some(e) >= r.schedule.end) {
            return Err(DomainError::conflict(
                "the assignment already ends at or after the extension's end",
            )
            .into());
        }
        tx.set_assignment_end(&a, r.schedule.end, now).await?;
        Ok(vec![prop(
            "endDateTime",
            a.schedule.end.map(|e| e.to_string()),
            Some(
                r.schedule
                    .end
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "noExpiration".into()),
            ),
        )])
    }
}
