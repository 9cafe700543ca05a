//! Consulate's use cases. Each public method authorizes the caller, applies the domain rules
//! from `consulate-core`, writes through one store transaction and commits it together with its
//! audit event. HTTP handlers and CLI commands call exactly one of these.
#![forbid(unsafe_code)]

pub mod access_packages;
pub mod applications;
pub mod approvals;
pub mod audit_log;
pub mod auth;
pub mod bootstrap;
pub mod catalog_roles;
pub mod catalogs;
pub mod connected_orgs;
mod delivery;
pub mod directory;
pub mod eligibility;
mod expiry;
mod extensions;
mod external_mfa;
pub mod external_users;
pub mod identity_providers;
pub mod lifecycle;
pub mod local_accounts;
pub mod mail;
pub mod oidc;
pub mod personal_tokens;
pub mod policies;
pub mod provisioning;
pub mod reports;
mod reprocess;
pub mod resources;
pub mod sign_in;
pub mod sign_in_rules;
pub mod terms;
mod user_relations;

use consulate_core::audit::{AuditEvent, Category, TargetResource};
use consulate_core::{DomainError, Timestamp, access::Caller};
use consulate_store::{Store, StoreError};
use std::sync::Arc;
use uuid::Uuid;

/// The source of "now". Injected so tests control time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The wall clock, truncated to microseconds (the stored precision).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
    }
}

/// The source of new object ids (time-ordered UUIDv7).
pub trait IdGen: Send + Sync {
    fn new_id(&self) -> Uuid;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct UuidV7;

impl IdGen for UuidV7 {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// What a use case can fail with: a domain refusal (a 4xx) or an internal fault (a 500).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Internal(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => ServiceError::Domain(d),
            other => ServiceError::Internal(other),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// The application: the store plus the injected clock and id source. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    org_index: Arc<connected_orgs::IndexCache>,
    eligibility: Arc<eligibility::EligibilityCache>,
    /// Wakes the delivery worker when work is queued here.
    delivery: Arc<tokio::sync::Notify>,
    tenant: Arc<std::sync::RwLock<Option<consulate_core::directory::Tenant>>>,
    /// Where sign-in codes and notices are mailed.
    mailer: Arc<mail::Mailer>,
    otp: consulate_core::sign_in::OtpSettings,
    oidc: Arc<oidc::OidcCache>,
    /// Token uses not written yet: token → when (see [`App::record_token_uses`]).
    token_uses: Arc<std::sync::Mutex<std::collections::HashMap<uuid::Uuid, jiff::Timestamp>>>,
}

impl App {
    pub fn new(store: Store, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Self {
        App {
            store,
            clock,
            ids,
            org_index: Arc::default(),
            eligibility: Arc::default(),
            delivery: Arc::default(),
            tenant: Arc::default(),
            mailer: Arc::new(mail::Mailer::disabled()),
            otp: consulate_core::sign_in::OtpSettings::default(),
            oidc: Arc::default(),
            token_uses: Arc::default(),
        }
    }

    /// Sends mail through `mailer`, and issues one-time passcodes as `otp` says.
    pub fn with_mail(
        mut self,
        mailer: mail::Mailer,
        otp: consulate_core::sign_in::OtpSettings,
    ) -> Result<Self, DomainError> {
        consulate_core::sign_in::check_otp_settings(&otp)?;
        self.mailer = Arc::new(mailer);
        self.otp = otp;
        Ok(self)
    }

    /// Where mail goes, for logs.
    pub fn mail_destination(&self) -> &str {
        self.mailer.describe()
    }

    /// Wakes the delivery loop (after the clock moved, for instance).
    pub fn wake_delivery(&self) {
        self.delivery.notify_one();
    }

    /// An app on the system clock and UUIDv7 ids.
    pub fn with_system_clock(store: Store) -> Self {
        Self::new(store, Arc::new(SystemClock), Arc::new(UuidV7))
    }

    /// The tenant (this organization), read once and kept: it is created at first start and
    /// its id and verified domains do not change at run time.
    pub async fn tenant(&self) -> ServiceResult<Option<consulate_core::directory::Tenant>> {
        if let Some(t) = self.tenant.read().expect("tenant lock").as_ref() {
            return Ok(Some(t.clone()));
        }
        let t = self.store.tenant().await?;
        if let Some(t) = &t {
            *self.tenant.write().expect("tenant lock") = Some(t.clone());
        }
        Ok(t)
    }

    /// A successful audit event for one target, stamped now.
    pub(crate) fn event(
        &self,
        caller: &Caller,
        category: Category,
        activity: &str,
        operation: &str,
        target: TargetResource,
    ) -> AuditEvent {
        AuditEvent::success(
            self.ids.new_id(),
            self.clock.now(),
            caller,
            category,
            activity,
            operation,
            target,
        )
    }
}

/// A target-resource record for an audit event.
pub(crate) fn target(kind: &str, id: impl ToString, display_name: Option<&str>) -> TargetResource {
    TargetResource {
        id: id.to_string(),
        display_name: display_name.map(str::to_owned),
        kind: kind.to_owned(),
        modified_properties: Vec::new(),
    }
}

/// One changed property of an audit target.
pub(crate) fn prop(
    name: &str,
    old: Option<String>,
    new: Option<String>,
) -> consulate_core::audit::ModifiedProperty {
    consulate_core::audit::ModifiedProperty {
        display_name: name.to_owned(),
        old_value: old,
        new_value: new,
    }
}

/// Narrows a list to the catalogs the caller may read: nothing changes for callers who read
/// every catalog; others see the catalogs their catalog roles reach (`field` holds the
/// catalog id of each listed object).
pub(crate) fn within_readable_catalogs<F: Copy>(
    caller: &Caller,
    op: consulate_core::access::Operation,
    field: F,
    filter: Option<consulate_core::filter::Filter<F>>,
) -> ServiceResult<Option<consulate_core::filter::Filter<F>>> {
    use consulate_core::filter::{Filter, Value};
    let Some(ids) = consulate_core::catalog_roles::readable_catalogs(caller, op)? else {
        return Ok(filter);
    };
    let only = Filter::In {
        field,
        values: ids.iter().map(|id| Value::String(id.to_string())).collect(),
    };
    Ok(Some(match filter {
        Some(f) => Filter::And(Box::new(only), Box::new(f)),
        None => only,
    }))
}
