//! Reading and verifying the audit log.

use crate::{App, ServiceResult};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::AuditEvent;
use consulate_core::error::ObjectKind;
use consulate_core::filter::{AuditField, Filter};
use consulate_store::audit::{AuditPage, ChainStatus};

impl App {
    pub async fn list_audit_events(
        &self,
        caller: &Caller,
        filter: Option<&Filter<AuditField>>,
        top: u32,
        before: Option<i64>,
    ) -> ServiceResult<AuditPage> {
        authorize(caller, Operation::ReadAuditLogs)?;
        Ok(self.store.list_audit_events(filter, top, before).await?)
    }

    pub async fn get_audit_event(
        &self,
        caller: &Caller,
        id: &str,
    ) -> ServiceResult<(i64, AuditEvent)> {
        authorize(caller, Operation::ReadAuditLogs)?;
        self.store
            .audit_event(id)
            .await?
            .ok_or_else(|| DomainError::not_found(ObjectKind::AuditEvent, id).into())
    }

    /// Walks the whole chain.
    pub async fn verify_audit_chain(&self) -> ServiceResult<ChainStatus> {
        Ok(self.store.verify_audit_chain().await?)
    }
}
