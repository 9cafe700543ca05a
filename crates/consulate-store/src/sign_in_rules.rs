//! Sign-in rules and the collaboration domain list.

use crate::sql::{Row, Sql, micros};
use crate::{Store, StoreError, StoreResult, WriteTx};
use consulate_core::domain_name::DomainName;
use consulate_core::sign_in_rules::{CollaborationDomains, RuleTarget, SignInMethod, SignInRule};
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn rule_from_row(r: &Row) -> StoreResult<SignInRule> {
    let ids: BTreeSet<Uuid> = r
        .text("target_ids")?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Uuid::parse_str(s).map_err(corrupt))
        .collect::<StoreResult<_>>()?;
    let target = match r.text("target_kind")?.as_str() {
        "allExternalUsers" => RuleTarget::AllExternalUsers,
        "connectedOrganizations" => RuleTarget::ConnectedOrganizations(ids),
        _ => RuleTarget::AccessPackages(ids),
    };
    Ok(SignInRule {
        id: r.uuid("id")?,
        display_name: r.text("display_name")?,
        target,
        require_mfa: r.boolean("require_mfa")?,
        allowed_methods: r
            .text("allowed_methods")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| SignInMethod::parse(s).map_err(corrupt))
            .collect::<StoreResult<_>>()?,
        max_session: r
            .opt_int("max_session_seconds")?
            .map(|s| Duration::from_secs(s as u64)),
    })
}

impl Store {
    pub async fn sign_in_rules(&self) -> StoreResult<Vec<SignInRule>> {
        self.fetch_all(&Sql::new("SELECT id, display_name, target_kind, target_ids, require_mfa, allowed_methods, max_session_seconds FROM sign_in_rules ORDER BY created_at, id"))
            .await?
            .iter()
            .map(rule_from_row)
            .collect()
    }

    pub async fn collaboration_domains(&self) -> StoreResult<CollaborationDomains> {
        let row = self
            .fetch_optional(&Sql::new(
                "SELECT mode, domains FROM collaboration_domains WHERE id = 1",
            ))
            .await?
            .ok_or_else(|| corrupt("the collaboration domains row is missing"))?;
        let domains: BTreeSet<DomainName> = row
            .text("domains")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|d| DomainName::parse(d).map_err(corrupt))
            .collect::<StoreResult<_>>()?;
        Ok(match row.text("mode")?.as_str() {
            "allowOnly" => CollaborationDomains::AllowOnly(domains),
            "deny" => CollaborationDomains::Deny(domains),
            _ => CollaborationDomains::Any,
        })
    }
}

impl WriteTx {
    pub async fn insert_sign_in_rule(
        &mut self,
        r: &SignInRule,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let (kind, ids) = match &r.target {
            RuleTarget::AllExternalUsers => ("allExternalUsers", String::new()),
            RuleTarget::ConnectedOrganizations(s) => (
                "connectedOrganizations",
                s.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","),
            ),
            RuleTarget::AccessPackages(s) => (
                "accessPackages",
                s.iter().map(Uuid::to_string).collect::<Vec<_>>().join(","),
            ),
        };
        self.write(
            Sql::new(
                "INSERT INTO sign_in_rules (id, display_name, target_kind, target_ids, require_mfa, allowed_methods, max_session_seconds, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(r.id)
            .bind(r.display_name.as_str())
            .bind(kind)
            .bind(ids)
            .bind(r.require_mfa)
            .bind(
                r.allowed_methods
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .bind(r.max_session.map(|d| d.as_secs() as i64))
            .bind(micros(at)),
        )
        .await
    }

    /// Deletes a rule; false when there was none.
    pub async fn delete_sign_in_rule(&mut self, id: Uuid) -> StoreResult<bool> {
        Ok(self
            .execute(&Sql::new("DELETE FROM sign_in_rules WHERE id = $1").bind(id))
            .await?
            == 1)
    }

    pub async fn save_collaboration_domains(
        &mut self,
        c: &CollaborationDomains,
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        let (mode, set) = match c {
            CollaborationDomains::Any => ("any", None),
            CollaborationDomains::AllowOnly(s) => ("allowOnly", Some(s)),
            CollaborationDomains::Deny(s) => ("deny", Some(s)),
        };
        let domains = set
            .map(|s| s.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(","))
            .unwrap_or_default();
        self.write(
            Sql::new("UPDATE collaboration_domains SET mode = $1, domains = $2, modified_at = $3 WHERE id = 1")
                .bind(mode)
                .bind(domains)
                .bind(micros(at)),
        )
        .await
    }
}
