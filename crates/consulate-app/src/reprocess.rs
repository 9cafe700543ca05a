//! Reprocessing: a delivered assignment's grants applied again (drift repair), and a request
//! whose delivery failed delivered anew, within 14 days of its completion.

use crate::lifecycle::{Granting, REPROCESS};
use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation};
use consulate_core::audit::Category;
use consulate_core::catalog_roles::{CatalogAction, authorize_in_catalog};
use consulate_core::lifecycle::{AssignmentState, RequestEvent, RequestState};
use uuid::Uuid;

/// How long after its completion a failed request may be reprocessed (as Graph says).
const REPROCESS_WINDOW_DAYS: i64 = 14;

impl App {
    /// Queues a delivered assignment to have its grants applied again (a membership removed
    /// behind Consulate's back comes back). Graph's `reprocess`.
    pub async fn reprocess_assignment(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let current = self.store.assignment(id).await?;
        authorize_in_catalog(
            caller,
            Operation::WriteAssignments,
            CatalogAction::ManageAssignments,
            current.catalog_id,
        )?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let a = tx.assignment_for_update(id).await?;
        if a.state != AssignmentState::Delivered {
            return Err(DomainError::conflict(format!(
                "only delivered assignments are reprocessed; this one is {}",
                a.state.as_str()
            ))
            .into());
        }
        let work = serde_json::to_string(&id).expect("serialises");
        tx.enqueue(self.ids.new_id(), REPROCESS, &work, now).await?;
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Reprocess access package assignment",
            "assignment.reprocess",
            target("accessPackageAssignment", id, None),
        );
        tx.commit(&[event]).await?;
        self.delivery.notify_one();
        Ok(())
    }

    /// Delivers a request whose delivery failed (or was partial) anew: a new assignment is
    /// created and queued, and the delivery worker checks eligibility again. Graph's
    /// `assignmentRequests/{id}/reprocess`.
    pub async fn reprocess_request(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        let current = self.store.assignment_request(id).await?;
        let package = self.store.access_package(current.access_package_id).await?;
        authorize_in_catalog(
            caller,
            Operation::WriteAssignments,
            CatalogAction::ManageAssignments,
            package.catalog_id,
        )?;
        let now = self.clock.now();
        let check = |r: &consulate_core::lifecycle::AssignmentRequest| -> ServiceResult<()> {
            if !matches!(
                r.state,
                RequestState::DeliveryFailed | RequestState::PartiallyDelivered
            ) {
                return Err(DomainError::conflict(format!(
                    "only requests whose delivery failed are reprocessed; this one is {}",
                    r.state.as_str()
                ))
                .into());
            }
            if !r.request_type.adds_access() || r.request_type.is_update() {
                return Err(DomainError::conflict(
                    "only requests for access are reprocessed; send a new request instead",
                )
                .into());
            }
            let window = jiff::SignedDuration::from_hours(24 * REPROCESS_WINDOW_DAYS);
            if r.completed_date_time
                .is_some_and(|c| now.duration_since(c) > window)
            {
                return Err(DomainError::conflict(format!(
                    "requests are reprocessed within {REPROCESS_WINDOW_DAYS} days of their completion"
                ))
                .into());
            }
            if r.schedule.end.is_some_and(|e| e <= now) {
                return Err(DomainError::conflict(
                    "the schedule the request asked for has ended; send a new request",
                )
                .into());
            }
            Ok(())
        };
        check(&current)?;
        let grants = self.package_grants(current.access_package_id).await?;
        let mut tx = self.store.begin().await?;
        let mut r = tx.request_for_update(id).await?;
        check(&r)?;
        let next = r.state.apply(RequestEvent::Reprocess)?;
        tx.set_request_state(r.id, r.state, next, None).await?;
        r.state = next;
        let before = r.assignment_id;
        let mut events = Vec::new();
        self.create_assignment(
            &mut tx,
            &mut r,
            Granting {
                catalog_id: package.catalog_id,
                grants: &grants,
                subject_absent: false,
            },
            now,
            &mut events,
        )
        .await?;
        tx.set_request_assignment(r.id, r.assignment_id).await?;
        let mut t = target(
            "accessPackageAssignmentRequest",
            r.id,
            Some(&package.display_name),
        );
        t.modified_properties.push(prop(
            "assignment",
            before.map(|a| a.to_string()),
            r.assignment_id.map(|a| a.to_string()),
        ));
        t.modified_properties.push(prop(
            "state",
            Some(current.state.as_str().into()),
            Some(next.as_str().into()),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Reprocess access package request",
            "assignmentRequest.reprocess",
            t,
        );
        events.insert(0, event);
        tx.commit(&events).await?;
        self.delivery.notify_one();
        Ok(())
    }
}
