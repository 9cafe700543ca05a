//! Audit events and the hash chain over them.
//!
//! Every change writes one event in the same transaction as the change. Events are numbered
//! (`sequence`) and chained: `hash = SHA-256(prev_hash ‖ canonical(event))`, so that editing,
//! deleting or reordering a stored event breaks every later hash. [`verify_chain`] walks it.

use crate::Timestamp;
use crate::access::{Caller, CallerIdentity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash that precedes the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Graph `directoryAudit.category` values Consulate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    EntitlementManagement,
    UserManagement,
    GroupManagement,
    DirectoryManagement,
    ApplicationManagement,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::EntitlementManagement => "EntitlementManagement",
            Category::UserManagement => "UserManagement",
            Category::GroupManagement => "GroupManagement",
            Category::DirectoryManagement => "DirectoryManagement",
            Category::ApplicationManagement => "ApplicationManagement",
        }
    }
}

/// Who initiated an audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Initiator {
    /// `app`, `user` or `system`.
    pub kind: String,
    pub id: Option<String>,
    pub display_name: String,
}

impl Initiator {
    pub fn of(caller: &Caller) -> Self {
        match &caller.identity {
            CallerIdentity::Application { token_id, name } => Initiator {
                kind: "app".into(),
                id: Some(token_id.to_string()),
                display_name: name.clone(),
            },
            CallerIdentity::User {
                user_id,
                user_principal_name,
                ..
            } => Initiator {
                kind: "user".into(),
                id: Some(user_id.to_string()),
                display_name: user_principal_name.clone(),
            },
            CallerIdentity::External { email, subject, .. } => Initiator {
                kind: "external".into(),
                id: None,
                display_name: email.clone().unwrap_or_else(|| subject.clone()),
            },
            CallerIdentity::System => Initiator {
                kind: "system".into(),
                id: None,
                display_name: "Consulate".into(),
            },
        }
    }
}

/// A property changed by the audited operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedProperty {
    pub display_name: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// An object the audited operation acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    pub id: String,
    pub display_name: Option<String>,
    /// `connectedOrganization`, `user`, `group`, `apiToken`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub modified_properties: Vec<ModifiedProperty>,
}

/// One audit event, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: Uuid,
    pub activity_date_time: Timestamp,
    pub activity_display_name: String,
    pub category: String,
    /// A short machine name of the operation (`connectedOrganization.create`).
    pub operation_type: String,
    pub initiated_by: Initiator,
    pub target_resources: Vec<TargetResource>,
    /// `success` or `failure`.
    pub result: String,
    pub result_reason: String,
    pub correlation_id: Option<String>,
}

impl AuditEvent {
    /// A successful event with one target.
    pub fn success(
        id: Uuid,
        at: Timestamp,
        caller: &Caller,
        category: Category,
        activity: &str,
        operation: &str,
        target: TargetResource,
    ) -> Self {
        AuditEvent {
            id,
            activity_date_time: at,
            activity_display_name: activity.to_owned(),
            category: category.as_str().to_owned(),
            operation_type: operation.to_owned(),
            initiated_by: Initiator::of(caller),
            target_resources: vec![target],
            result: "success".into(),
            result_reason: String::new(),
            correlation_id: None,
        }
    }

    /// The bytes that are hashed: the event's JSON with fields in declaration order.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("audit events always serialise")
    }
}

/// A stored event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEvent {
    pub sequence: i64,
    pub prev_hash: String,
    pub hash: String,
    /// The canonical JSON as stored.
    pub canonical: String,
}

/// The chain hash of an event that follows `prev_hash`.
pub fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Why a chain failed verification, pointing at the first bad event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("event {sequence}: sequence gap (expected {expected})")]
    Gap { sequence: i64, expected: i64 },
    #[error("event {sequence}: prev_hash does not match the hash of the event before it")]
    BrokenLink { sequence: i64 },
    #[error("event {sequence}: content does not match its hash (edited)")]
    Tampered { sequence: i64 },
}

/// Verifies a run of events that starts after `(sequence, hash)` of a trusted predecessor
/// (`(0, GENESIS_HASH)` for the whole chain). Returns the new head.
pub fn verify_chain<'a>(
    start: (i64, String),
    events: impl IntoIterator<Item = &'a ChainedEvent>,
) -> Result<(i64, String), ChainError> {
    let (mut seq, mut hash) = start;
    for e in events {
        if e.sequence != seq + 1 {
            return Err(ChainError::Gap {
                sequence: e.sequence,
                expected: seq + 1,
            });
        }
        if e.prev_hash != hash {
            return Err(ChainError::BrokenLink {
                sequence: e.sequence,
            });
        }
        if chain_hash(&e.prev_hash, &e.canonical) != e.hash {
            return Err(ChainError::Tampered {
                sequence: e.sequence,
            });
        }
        seq = e.sequence;
        hash = e.hash.clone();
    }
    Ok((seq, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainedEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|i| {
                let canonical = format!("{{\"n\":{i}}}");
                let hash = chain_hash(&prev, &canonical);
                let e = ChainedEvent {
                    sequence: i,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                    canonical,
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let (seq, hash) = verify_chain((0, GENESIS_HASH.into()), &c).unwrap();
        assert_eq!(seq, 5);
        assert_eq!(hash, c[4].hash);
    }

    #[test]
    fn edits_deletions_and_reorders_are_detected_at_the_first_bad_event() {
        let mut edited = chain(5);
        edited[2].canonical = "{\"n\":99}".into();
        assert_eq!(
            verify_chain((0, GENESIS_HASH.into()), &edited),
            Err(ChainError::Tampered { sequence: 3 })
        );

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(
            verify_chain((0, GENESIS_HASH.into()), &deleted),
            Err(ChainError::Gap {
                sequence: 3,
                expected: 2
            })
        );

        let mut reordered = chain(5);
        reordered.swap(1, 2);
        reordered[1].sequence = 2;
        reordered[2].sequence = 3;
        assert_eq!(
            verify_chain((0, GENESIS_HASH.into()), &reordered),
            Err(ChainError::BrokenLink { sequence: 2 })
        );

        let mut rehashed = chain(5);
        rehashed[1].canonical = "{\"n\":42}".into();
        rehashed[1].hash = chain_hash(&rehashed[1].prev_hash, &rehashed[1].canonical);
        assert_eq!(
            verify_chain((0, GENESIS_HASH.into()), &rehashed),
            Err(ChainError::BrokenLink { sequence: 3 })
        );
    }
}
