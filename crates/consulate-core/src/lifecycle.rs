//! The states of requests and assignments and the only ways they may change. Every state
//! change the lifecycle engine makes goes through [`RequestState::apply`] or
//! [`AssignmentState::apply`], so an illegal transition is refused before anything is written.

use crate::request::{Answer, RequestType, Schedule};
use crate::{DomainError, DomainResult, Timestamp};
use uuid::Uuid;

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedBy {
    /// A signed-in user (the target, or an administrator acting for it).
    User(Uuid),
    /// An application, by its token's id.
    Application(Uuid),
    /// Consulate itself (expiry, automatic policies).
    System,
}

/// A request for (or to remove) an access package (`accessPackageAssignmentRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRequest {
    pub id: Uuid,
    pub request_type: RequestType,
    pub state: RequestState,
    pub access_package_id: Uuid,
    pub policy_id: Uuid,
    /// The policy version the request was made under.
    pub policy_version: i64,
    pub target_id: Uuid,
    pub requested_by: RequestedBy,
    pub assignment_id: Option<Uuid>,
    pub justification: String,
    pub answers: Vec<Answer>,
    pub schedule: Schedule,
    pub created_date_time: Timestamp,
    pub completed_date_time: Option<Timestamp>,
}

/// An assignment of an access package to a user (`accessPackageAssignment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: Uuid,
    pub access_package_id: Uuid,
    pub policy_id: Uuid,
    pub catalog_id: Uuid,
    pub target_id: Uuid,
    pub state: AssignmentState,
    pub schedule: Schedule,
    pub created_date_time: Timestamp,
    pub modified_date_time: Timestamp,
    pub expired_date_time: Option<Timestamp>,
}

/// `accessPackageRequestState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestState {
    Submitted,
    PendingApproval,
    /// Approved, waiting for its start (`schedule.startDateTime` in the future).
    Scheduled,
    Delivering,
    Delivered,
    PartiallyDelivered,
    DeliveryFailed,
    Denied,
    Canceled,
}

/// What can happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestEvent {
    /// Checks passed; approval is needed.
    NeedsApproval,
    /// Checks passed (or the last stage approved); the assignment starts now.
    Approved,
    /// Approved, but the assignment starts later.
    ApprovedForLater,
    /// The scheduled start has come.
    StartReached,
    /// A stage denied it, nobody decided in time, or eligibility was lost.
    Denied,
    Canceled,
    /// Every resource role was granted (or, for a removal, revoked).
    DeliverySucceeded,
    /// Some, not all, were.
    DeliveryPartial,
    DeliveryFailed,
    /// An administrator retries a failed or partial delivery.
    Reprocess,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::PendingApproval => "pendingApproval",
            Self::Scheduled => "scheduled",
            Self::Delivering => "delivering",
            Self::Delivered => "delivered",
            Self::PartiallyDelivered => "partiallyDelivered",
            Self::DeliveryFailed => "deliveryFailed",
            Self::Denied => "denied",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        use RequestState::*;
        // (The full list lives here once: parse is the inverse of as_str.)
        [
            Submitted,
            PendingApproval,
            Scheduled,
            Delivering,
            Delivered,
            PartiallyDelivered,
            DeliveryFailed,
            Denied,
            Canceled,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| DomainError::invalid("state", format!("'{s}' is not a request state")))
    }

    /// The legacy `status` string Graph reports beside the state.
    pub fn status(self) -> &'static str {
        match self {
            Self::Submitted => "Accepted",
            Self::PendingApproval => "PendingApproval",
            Self::Scheduled => "PendingNotBefore",
            Self::Delivering => "Delivering",
            Self::Delivered => "Delivered",
            Self::PartiallyDelivered => "PartiallyDelivered",
            Self::DeliveryFailed => "DeliveryFailed",
            Self::Denied => "Denied",
            Self::Canceled => "Canceled",
        }
    }

    /// No further change is possible (apart from deleting the request).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Denied | Self::Canceled)
    }

    /// The requestor (or an administrator) may still cancel it.
    pub fn is_cancellable(self) -> bool {
        matches!(
            self,
            Self::Submitted | Self::PendingApproval | Self::Scheduled
        )
    }

    /// The state after `event`, or a conflict naming the illegal transition.
    pub fn apply(self, event: RequestEvent) -> DomainResult<RequestState> {
        use RequestEvent as E;
        use RequestState as S;
        let next = match (self, event) {
            (S::Submitted, E::NeedsApproval) => S::PendingApproval,
            (S::Submitted | S::PendingApproval, E::Approved) => S::Delivering,
            (S::Submitted | S::PendingApproval, E::ApprovedForLater) => S::Scheduled,
            (S::Scheduled, E::StartReached) => S::Delivering,
            (S::Submitted | S::PendingApproval | S::Scheduled, E::Denied) => S::Denied,
            (s, E::Canceled) if s.is_cancellable() => S::Canceled,
            (S::Delivering, E::DeliverySucceeded) => S::Delivered,
            (S::Delivering, E::DeliveryPartial) => S::PartiallyDelivered,
            (S::Delivering, E::DeliveryFailed) => S::DeliveryFailed,
            (S::DeliveryFailed | S::PartiallyDelivered, E::Reprocess) => S::Delivering,
            (s, e) => {
                return Err(DomainError::conflict(format!(
                    "a request that is {} cannot be {}",
                    s.as_str(),
                    event_name(e)
                )));
            }
        };
        Ok(next)
    }
}

fn event_name(e: RequestEvent) -> &'static str {
    match e {
        RequestEvent::NeedsApproval => "sent for approval",
        RequestEvent::Approved | RequestEvent::ApprovedForLater => "approved",
        RequestEvent::StartReached => "started",
        RequestEvent::Denied => "denied",
        RequestEvent::Canceled => "canceled",
        RequestEvent::DeliverySucceeded
        | RequestEvent::DeliveryPartial
        | RequestEvent::DeliveryFailed => "marked delivered",
        RequestEvent::Reprocess => "reprocessed",
    }
}

/// `accessPackageAssignmentState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssignmentState {
    Delivering,
    PartiallyDelivered,
    Delivered,
    DeliveryFailed,
    /// Ended: expired, removed by the target or an administrator, or lost its eligibility.
    Expired,
}

/// What can happen to an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentEvent {
    DeliverySucceeded,
    DeliveryPartial,
    DeliveryFailed,
    Reprocess,
    /// Its end came, or it was removed; its grants are being revoked.
    Ended,
    /// An extension (a `userUpdate`/`adminUpdate`) was delivered.
    Extended,
}

impl AssignmentState {
    pub fn parse(s: &str) -> DomainResult<Self> {
        use AssignmentState::*;
        [
            Delivering,
            PartiallyDelivered,
            Delivered,
            DeliveryFailed,
            Expired,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| DomainError::invalid("state", format!("'{s}' is not an assignment state")))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivering => "delivering",
            Self::PartiallyDelivered => "partiallyDelivered",
            Self::Delivered => "delivered",
            Self::DeliveryFailed => "deliveryFailed",
            Self::Expired => "expired",
        }
    }

    /// The `status` string Graph reports beside the state.
    pub fn status(self) -> &'static str {
        match self {
            Self::Delivering => "Delivering",
            Self::PartiallyDelivered => "PartiallyDelivered",
            Self::Delivered => "Delivered",
            Self::DeliveryFailed => "DeliveryFailed",
            Self::Expired => "Expired",
        }
    }

    /// The assignment still gives (or is giving) access.
    pub fn is_active(self) -> bool {
        self != Self::Expired
    }

    pub fn apply(self, event: AssignmentEvent) -> DomainResult<AssignmentState> {
        use AssignmentEvent as E;
        use AssignmentState as S;
        Ok(match (self, event) {
            (S::Delivering, E::DeliverySucceeded) => S::Delivered,
            (S::Delivering, E::DeliveryPartial) => S::PartiallyDelivered,
            (S::Delivering, E::DeliveryFailed) => S::DeliveryFailed,
            (S::DeliveryFailed | S::PartiallyDelivered | S::Delivered, E::Reprocess) => {
                S::Delivering
            }
            (S::Delivered | S::PartiallyDelivered, E::Extended) => self,
            (s, E::Ended) if s.is_active() => S::Expired,
            (s, e) => {
                return Err(DomainError::conflict(format!(
                    "an assignment that is {} cannot take {e:?}",
                    s.as_str()
                )));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_goes_the_documented_ways() {
        use RequestEvent as E;
        use RequestState as S;
        let auto = S::Submitted.apply(E::Approved).unwrap();
        assert_eq!(auto, S::Delivering);
        assert_eq!(auto.apply(E::DeliverySucceeded).unwrap(), S::Delivered);
        let pending = S::Submitted.apply(E::NeedsApproval).unwrap();
        assert_eq!(pending.status(), "PendingApproval");
        assert_eq!(pending.apply(E::Denied).unwrap(), S::Denied);
        assert_eq!(pending.apply(E::Canceled).unwrap(), S::Canceled);
        let later = pending.apply(E::ApprovedForLater).unwrap();
        assert_eq!(later.apply(E::StartReached).unwrap(), S::Delivering);
        let failed = S::Delivering.apply(E::DeliveryFailed).unwrap();
        assert_eq!(failed.apply(E::Reprocess).unwrap(), S::Delivering);
    }

    #[test]
    fn illegal_request_transitions_are_refused() {
        use RequestEvent as E;
        use RequestState as S;
        let all_states = [
            S::Submitted,
            S::PendingApproval,
            S::Scheduled,
            S::Delivering,
            S::Delivered,
            S::PartiallyDelivered,
            S::DeliveryFailed,
            S::Denied,
            S::Canceled,
        ];
        for s in all_states {
            assert_eq!(RequestState::parse(s.as_str()).unwrap(), s);
            if s.is_final() {
                for e in [
                    E::Approved,
                    E::Denied,
                    E::Canceled,
                    E::DeliverySucceeded,
                    E::Reprocess,
                ] {
                    assert!(s.apply(e).is_err(), "{s:?} + {e:?}");
                }
            }
        }
        assert!(
            S::Delivering.apply(E::Canceled).is_err(),
            "delivery cannot be canceled"
        );
        assert!(S::Denied.apply(E::Approved).is_err(), "a denial is final");
        assert!(matches!(
            S::Delivered.apply(E::Approved),
            Err(DomainError::Conflict { .. })
        ));
    }

    #[test]
    fn assignments_end_once() {
        use AssignmentEvent as E;
        use AssignmentState as S;
        let a = S::Delivering.apply(E::DeliverySucceeded).unwrap();
        assert_eq!(a.apply(E::Extended).unwrap(), S::Delivered);
        let ended = a.apply(E::Ended).unwrap();
        assert_eq!(ended.status(), "Expired");
        assert!(ended.apply(E::Ended).is_err(), "an assignment ends once");
        assert!(ended.apply(E::Reprocess).is_err());
        assert!(S::Delivering.apply(E::Extended).is_err());
    }
}

/// `externalUserLifecycleAction`: what happens to a guest entitlement management created when
/// its last assignment ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalUserLifecycleAction {
    None,
    BlockSignIn,
    BlockSignInAndDelete,
}

impl ExternalUserLifecycleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::BlockSignIn => "blockSignIn",
            Self::BlockSignInAndDelete => "blockSignInAndDelete",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "blocksignin" => Ok(Self::BlockSignIn),
            "blocksigninanddelete" => Ok(Self::BlockSignInAndDelete),
            _ => Err(DomainError::invalid(
                "externalUserLifecycleAction",
                format!("'{s}' is not none, blockSignIn or blockSignInAndDelete"),
            )),
        }
    }
}

/// `entitlementManagementSettings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub external_user_lifecycle_action: ExternalUserLifecycleAction,
    /// How long a blocked guest is kept before it is deleted (`P0D` deletes at once).
    pub duration_until_external_user_deleted_after_blocked: crate::policy::IsoDuration,
}

/// Longest a blocked guest may be kept before deletion.
pub const MAX_DAYS_BEFORE_DELETION: i64 = 365;

/// Checks settings as sent.
pub fn check_settings(s: &Settings) -> DomainResult<()> {
    if s.duration_until_external_user_deleted_after_blocked
        .seconds()
        > MAX_DAYS_BEFORE_DELETION * 86_400
    {
        return Err(DomainError::invalid(
            "durationUntilExternalUserDeletedAfterBlocked",
            format!("at most {MAX_DAYS_BEFORE_DELETION} days"),
        ));
    }
    Ok(())
}
