//! Reading and verifying the audit chain (events are written by [`crate::WriteTx::commit`]).

use crate::filter_sql::push_filter;
use crate::sql::Sql;
use crate::{Store, StoreError, StoreResult};
use consulate_core::audit::{AuditEvent, ChainError, ChainedEvent, GENESIS_HASH, verify_chain};
use consulate_core::filter::{AuditField, Filter};

/// A page of audit events, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub events: Vec<(i64, AuditEvent)>,
    /// The sequence to continue below, if there are more.
    pub next_before: Option<i64>,
}

/// The outcome of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStatus {
    /// Every event verified; `events` of them, ending at `head_hash`.
    Intact { events: i64, head_hash: String },
    /// The first bad event.
    Broken(ChainError),
    /// The chain verified but the stored head does not match its end (truncated tail).
    HeadMismatch { chain_end: i64, head_sequence: i64 },
}

impl Store {
    pub async fn list_audit_events(
        &self,
        filter: Option<&Filter<AuditField>>,
        top: u32,
        before: Option<i64>,
    ) -> StoreResult<AuditPage> {
        let mut sql =
            Sql::dynamic("SELECT a.sequence, a.canonical FROM audit_events a WHERE 1 = 1".into());
        if let Some(f) = filter {
            sql.push(" AND ");
            push_filter(&mut sql, f)?;
        }
        if let Some(b) = before {
            let p = sql.placeholder(b);
            sql.push(&format!(" AND a.sequence < {p}"));
        }
        let top = top.clamp(1, crate::list::MAX_PAGE_SIZE);
        let p = sql.placeholder(i64::from(top) + 1);
        sql.push(&format!(" ORDER BY a.sequence DESC LIMIT {p}"));
        let rows = self.fetch_all(&sql).await?;
        let mut events = rows
            .iter()
            .map(|r| {
                let c = r.text("canonical")?;
                let e: AuditEvent = serde_json::from_str(&c)
                    .map_err(|e| StoreError::Corrupt(format!("audit event does not parse: {e}")))?;
                Ok((r.int("sequence")?, e))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let next_before = if events.len() > top as usize {
            events.truncate(top as usize);
            events.last().map(|(s, _)| *s)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_before,
        })
    }

    /// One audit event by id, with its sequence.
    pub async fn audit_event(&self, id: &str) -> StoreResult<Option<(i64, AuditEvent)>> {
        let row = self
            .fetch_optional(
                &Sql::new("SELECT sequence, canonical FROM audit_events WHERE id = $1").bind(id),
            )
            .await?;
        row.map(|r| {
            let e = serde_json::from_str(&r.text("canonical")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((r.int("sequence")?, e))
        })
        .transpose()
    }

    /// Walks the whole chain in batches and checks every link and the stored head.
    pub async fn verify_audit_chain(&self) -> StoreResult<ChainStatus> {
        let mut state = (0i64, GENESIS_HASH.to_owned());
        loop {
            let rows = self
                .fetch_all(&Sql::new("SELECT sequence, prev_hash, hash, canonical FROM audit_events WHERE sequence > $1 ORDER BY sequence LIMIT 2000").bind(state.0))
                .await?;
            if rows.is_empty() {
                break;
            }
            let batch: Vec<ChainedEvent> = rows
                .iter()
                .map(|r| {
                    Ok(ChainedEvent {
                        sequence: r.int("sequence")?,
                        prev_hash: r.text("prev_hash")?,
                        hash: r.text("hash")?,
                        canonical: r.text("canonical")?,
                    })
                })
                .collect::<StoreResult<_>>()?;
            match verify_chain(state.clone(), &batch) {
                Ok(next) => state = next,
                Err(e) => return Ok(ChainStatus::Broken(e)),
            }
        }
        let head = self
            .fetch_optional(&Sql::new(
                "SELECT sequence, hash FROM audit_chain_head WHERE id = 1",
            ))
            .await?
            .ok_or_else(|| StoreError::Corrupt("audit chain head is missing".into()))?;
        let (head_seq, head_hash) = (head.int("sequence")?, head.text("hash")?);
        if head_seq != state.0 || head_hash != state.1 {
            return Ok(ChainStatus::HeadMismatch {
                chain_end: state.0,
                head_sequence: head_seq,
            });
        }
        Ok(ChainStatus::Intact {
            events: state.0,
            head_hash: state.1,
        })
    }

    /// Pending outbox rows (for the queue-depth metric).
    pub async fn outbox_depth(&self) -> StoreResult<i64> {
        Ok(self
            .fetch_optional(&Sql::new(
                "SELECT COUNT(*) AS n FROM outbox WHERE done_at IS NULL",
            ))
            .await?
            .map(|r| r.int("n"))
            .transpose()?
            .unwrap_or(0))
    }
}
