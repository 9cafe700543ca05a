//! The tenant (this organization) and its verified domains.

use crate::sql::{Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::directory::Tenant;
use consulate_core::domain_name::DomainName;

impl Store {
    /// The tenant, or `None` before the first start completed.
    pub async fn tenant(&self) -> StoreResult<Option<Tenant>> {
        let Some(row) = self
            .fetch_optional(&Sql::new(
                "SELECT id, display_name, created_at FROM tenant LIMIT 1",
            ))
            .await?
        else {
            return Ok(None);
        };
        let domains = self
            .fetch_all(&Sql::new(
                "SELECT domain FROM tenant_domains ORDER BY is_default DESC, domain",
            ))
            .await?;
        Ok(Some(Tenant {
            id: row.uuid("id")?,
            display_name: row.text("display_name")?,
            verified_domains: domains
                .iter()
                .map(|r| {
                    DomainName::parse(&r.text("domain")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))
                })
                .collect::<StoreResult<_>>()?,
            created_date_time: row.timestamp("created_at")?,
        }))
    }
}

impl WriteTx {
    /// True when the tenant already exists (another replica bootstrapped first).
    pub async fn tenant_exists(&mut self) -> StoreResult<bool> {
        Ok(self
            .fetch_optional(&Sql::new("SELECT id FROM tenant LIMIT 1"))
            .await?
            .is_some())
    }

    pub async fn insert_tenant(&mut self, t: &Tenant) -> StoreResult<()> {
        self.execute(
            &Sql::new("INSERT INTO tenant (id, display_name, created_at) VALUES ($1, $2, $3)")
                .bind(t.id)
                .bind(t.display_name.as_str())
                .bind(micros(t.created_date_time)),
        )
        .await?;
        for (i, d) in t.verified_domains.iter().enumerate() {
            self.execute(
                &Sql::new("INSERT INTO tenant_domains (domain, is_default, created_at) VALUES ($1, $2, $3)").bind(d.as_str()).bind(i == 0).bind(micros(t.created_date_time)),
            )
            .await?;
        }
        Ok(())
    }
}

impl WriteTx {
    /// Serialises first-start bootstrap across replicas (PostgreSQL advisory transaction lock;
    /// SQLite's `BEGIN IMMEDIATE` already serialises writers).
    pub async fn lock_bootstrap(&mut self) -> StoreResult<()> {
        if self.backend() == crate::Backend::Postgres {
            self.fetch_all(&Sql::new("SELECT pg_advisory_xact_lock(7242600001)"))
                .await?;
        }
        Ok(())
    }
}
