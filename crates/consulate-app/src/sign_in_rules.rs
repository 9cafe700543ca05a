//! Sign-in rules and the collaboration domain list: kept by administrators, applied to people
//! from outside when they sign in and again when they request a package.

use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::domain_name::DomainName;
use consulate_core::identity_provider::ProviderKind;
use consulate_core::sign_in::EMAIL_OTP_ISSUER;
use consulate_core::sign_in_rules::{
    self, Attempt, CollaborationDomains, SignInMethod, SignInRule, Verdict,
};
use uuid::Uuid;

impl App {
    pub async fn sign_in_rules(&self, caller: &Caller) -> ServiceResult<Vec<SignInRule>> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        Ok(self.store.sign_in_rules().await?)
    }

    pub async fn create_sign_in_rule(
        &self,
        caller: &Caller,
        mut rule: SignInRule,
    ) -> ServiceResult<SignInRule> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        rule.id = self.ids.new_id();
        let rule = rule.validated()?;
        let mut tx = self.store.begin().await?;
        tx.insert_sign_in_rule(&rule, self.clock.now()).await?;
        let mut t = target("signInRule", rule.id, Some(&rule.display_name));
        t.modified_properties.push(prop(
            "rule",
            None,
            Some(format!(
                "target {:?}, MFA {}, methods {:?}, session cap {:?}",
                rule.target, rule.require_mfa, rule.allowed_methods, rule.max_session
            )),
        ));
        let event = self.event(
            caller,
            Category::DirectoryManagement,
            "Create sign-in rule",
            "signInRule.create",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(rule)
    }

    pub async fn delete_sign_in_rule(&self, caller: &Caller, id: Uuid) -> ServiceResult<()> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let mut tx = self.store.begin().await?;
        if !tx.delete_sign_in_rule(id).await? {
            return Err(DomainError::not_found(
                consulate_core::error::ObjectKind::DirectoryObject,
                format!("sign-in rule {id}"),
            )
            .into());
        }
        let event = self.event(
            caller,
            Category::DirectoryManagement,
            "Delete sign-in rule",
            "signInRule.delete",
            target("signInRule", id, None),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    pub async fn collaboration_domains(
        &self,
        caller: &Caller,
    ) -> ServiceResult<CollaborationDomains> {
        authorize(caller, Operation::ReadConnectedOrganizations)?;
        Ok(self.store.collaboration_domains().await?)
    }

    pub async fn set_collaboration_domains(
        &self,
        caller: &Caller,
        domains: CollaborationDomains,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        if let CollaborationDomains::AllowOnly(s) | CollaborationDomains::Deny(s) = &domains
            && (s.is_empty() || s.len() > 1000)
        {
            return Err(DomainError::invalid("domains", "list 1 to 1000 domains").into());
        }
        let mut tx = self.store.begin().await?;
        tx.save_collaboration_domains(&domains, self.clock.now())
            .await?;
        let mut t = target("collaborationDomains", "settings", None);
        t.modified_properties
            .push(prop("domains", None, Some(format!("{domains:?}"))));
        let event = self.event(
            caller,
            Category::DirectoryManagement,
            "Update collaboration domains",
            "collaborationDomains.update",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    /// The domains someone from outside comes from: the proven address's for a passcode, the
    /// registered provider's for a federated sign-in.
    async fn principal_domains(
        &self,
        issuer: &str,
        subject: &str,
    ) -> ServiceResult<Vec<DomainName>> {
        if issuer == EMAIL_OTP_ISSUER {
            return Ok(DomainName::of_email(subject).into_iter().collect());
        }
        let base = issuer
            .split_once(crate::sign_in::TENANT_SEPARATOR)
            .map_or(issuer, |(i, _)| i);
        Ok(self
            .store
            .identity_providers()
            .await?
            .into_iter()
            .find(|p| match &p.kind {
                ProviderKind::Federation { issuer_uri } => issuer_uri == base,
                ProviderKind::Tenant { tenant_id } => base.contains(tenant_id.as_str()),
            })
            .map(|p| p.domains)
            .unwrap_or_default())
    }

    /// Decides a sign-in (no package) or a request (its package) of someone from outside.
    pub(crate) async fn judge_external(
        &self,
        (issuer, subject): (&str, &str),
        method: SignInMethod,
        mfa: bool,
        package: Option<Uuid>,
    ) -> ServiceResult<Verdict> {
        let domains = self.principal_domains(issuer, subject).await?;
        let organization = self
            .external_requestor(issuer, subject)
            .await?
            .organization
            .map(|o| o.id);
        let rules = self.store.sign_in_rules().await?;
        let list = self.store.collaboration_domains().await?;
        Ok(sign_in_rules::evaluate(
            &rules,
            &list,
            &Attempt {
                method,
                mfa,
                organization,
                domains: &domains,
                package,
            },
        ))
    }

    /// Whether an address's domain may collaborate at all.
    pub(crate) async fn domain_admitted(&self, email: &str) -> ServiceResult<bool> {
        let list = self.store.collaboration_domains().await?;
        Ok(DomainName::of_email(email).is_some_and(|d| list.admits(&d)))
    }

    /// At request time: the rules for the package asked for, for a session from outside.
    /// With `record`, a refusal is written to the audit trail (a request was attempted).
    pub(crate) async fn judge_request(
        &self,
        caller: &Caller,
        package: Uuid,
        record: bool,
    ) -> ServiceResult<()> {
        let Some(ctx) = &caller.sign_in else {
            return Ok(());
        };
        match self
            .judge_external(
                (&ctx.issuer, &ctx.subject),
                ctx.method,
                ctx.mfa,
                Some(package),
            )
            .await?
        {
            Verdict::Allow { .. } => Ok(()),
            Verdict::Refuse { reason, rule } => {
                if record {
                    let mut t = crate::target("accessPackage", package, None);
                    t.modified_properties.push(crate::prop(
                        "refusedBy",
                        None,
                        Some(
                            rule.map_or_else(|| "collaboration domains".into(), |r| r.to_string()),
                        ),
                    ));
                    t.modified_properties
                        .push(crate::prop("reason", None, Some(reason.clone())));
                    let event = self.event(
                        caller,
                        consulate_core::audit::Category::EntitlementManagement,
                        "Refuse request: sign-in rule",
                        "signInRule.refuseRequest",
                        t,
                    );
                    let tx = self.store.begin().await?;
                    tx.commit(&[event]).await?;
                }
                Err(DomainError::forbidden(reason).into())
            }
        }
    }
}
