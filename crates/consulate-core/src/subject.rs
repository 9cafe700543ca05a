//! Entitlement management's view of a user (`accessPackageSubject`): whether its lifecycle is
//! governed, where it came from, and the external-user lifecycle decision taken when a
//! governed guest's last assignment ends.

use crate::lifecycle::{ExternalUserLifecycleAction, Settings};
use crate::{DomainError, DomainResult, Timestamp};
use uuid::Uuid;

/// `accessPackageSubjectLifecycle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectLifecycle {
    /// Entitlement management has no record of the user.
    NotDefined,
    /// Known, but not blocked or deleted when its access ends.
    NotGoverned,
    /// Blocked and then deleted when its last assignment ends (as the settings say).
    Governed,
}

impl SubjectLifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotDefined => "notDefined",
            Self::NotGoverned => "notGoverned",
            Self::Governed => "governed",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "notdefined" => Ok(Self::NotDefined),
            "notgoverned" => Ok(Self::NotGoverned),
            "governed" => Ok(Self::Governed),
            _ => Err(DomainError::invalid(
                "subjectLifecycle",
                format!("'{s}' is not a subject lifecycle; use governed or notGoverned"),
            )),
        }
    }
}

/// What entitlement management keeps about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The directory user (`objectId`).
    pub user_id: Uuid,
    pub lifecycle: SubjectLifecycle,
    /// The connected organization the user came from, for guests created on approval.
    pub connected_organization_id: Option<Uuid>,
    /// The request whose approval created the guest.
    pub created_by_request_id: Option<Uuid>,
    /// When its sign-in was blocked because its last assignment ended.
    pub blocked_at: Option<Timestamp>,
    /// When it is due to be deleted.
    pub delete_at: Option<Timestamp>,
}

/// What happens to a governed guest whose last assignment just ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastAssignmentEnded {
    /// The settings say neither block nor delete.
    Keep,
    /// Block sign-in, and delete at the time given (if any).
    Block { delete_at: Option<Timestamp> },
}

/// The decision for a governed guest whose last assignment ended at `now`. The settings in
/// force now apply; later changes do not move a deletion already scheduled.
pub fn on_last_assignment_ended(
    settings: &Settings,
    now: Timestamp,
) -> DomainResult<LastAssignmentEnded> {
    Ok(match settings.external_user_lifecycle_action {
        ExternalUserLifecycleAction::None => LastAssignmentEnded::Keep,
        ExternalUserLifecycleAction::BlockSignIn => LastAssignmentEnded::Block { delete_at: None },
        ExternalUserLifecycleAction::BlockSignInAndDelete => {
            let span = settings
                .duration_until_external_user_deleted_after_blocked
                .span();
            let at = now
                .to_zoned(jiff::tz::TimeZone::UTC)
                .checked_add(span)
                .map_err(|e| {
                    DomainError::invalid(
                        "durationUntilExternalUserDeletedAfterBlocked",
                        format!("out of range: {e}"),
                    )
                })?
                .timestamp();
            LastAssignmentEnded::Block {
                delete_at: Some(at),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::IsoDuration;

    fn settings(action: ExternalUserLifecycleAction, d: &str) -> Settings {
        Settings {
            external_user_lifecycle_action: action,
            duration_until_external_user_deleted_after_blocked: IsoDuration::parse("d", d).unwrap(),
        }
    }

    #[test]
    fn the_settings_decide_block_and_delete() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            on_last_assignment_ended(&settings(ExternalUserLifecycleAction::None, "P30D"), now)
                .unwrap(),
            LastAssignmentEnded::Keep
        );
        assert_eq!(
            on_last_assignment_ended(
                &settings(ExternalUserLifecycleAction::BlockSignIn, "P30D"),
                now
            )
            .unwrap(),
            LastAssignmentEnded::Block { delete_at: None }
        );
        assert_eq!(
            on_last_assignment_ended(
                &settings(ExternalUserLifecycleAction::BlockSignInAndDelete, "P30D"),
                now
            )
            .unwrap(),
            LastAssignmentEnded::Block {
                delete_at: Some("2026-01-31T00:00:00Z".parse().unwrap())
            }
        );
        assert_eq!(
            on_last_assignment_ended(
                &settings(ExternalUserLifecycleAction::BlockSignInAndDelete, "P0D"),
                now
            )
            .unwrap(),
            LastAssignmentEnded::Block {
                delete_at: Some(now)
            }
        );
    }

    #[test]
    fn lifecycle_names_round_trip() {
        for l in [
            SubjectLifecycle::NotDefined,
            SubjectLifecycle::NotGoverned,
            SubjectLifecycle::Governed,
        ] {
            assert_eq!(SubjectLifecycle::parse(l.as_str()).unwrap(), l);
        }
        assert!(SubjectLifecycle::parse("owned").is_err());
    }
}
