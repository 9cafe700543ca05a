//! Terms of use for people from outside. Administrators set one text; someone signed in from
//! outside accepts its current version once (in the portal, at their first request after it
//! changed) and cannot request access until they have. Members are not asked. Each change and
//! each acceptance is in the audit trail, with the version (a hash of the text) it concerns.

use crate::sign_in::hash;
use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;

/// Longest terms text, in characters.
pub const MAX_TERMS_CHARS: usize = 20_000;

/// The current terms of use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsOfUse {
    pub text: String,
    /// Identifies this text (a hash of it): an acceptance is of one version.
    pub version: String,
}

/// Checks a terms text: trimmed, bounded, printable (line breaks and tabs allowed).
pub fn validate_terms(text: &str) -> Result<String, DomainError> {
    let t = text.trim().replace("\r\n", "\n");
    if t.chars().count() > MAX_TERMS_CHARS {
        return Err(DomainError::invalid(
            "text",
            format!("terms of use are at most {MAX_TERMS_CHARS} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(DomainError::invalid(
            "text",
            "terms of use may not contain control characters",
        ));
    }
    Ok(t)
}

impl App {
    /// The current terms, if any (anyone signed in may read them).
    pub async fn terms_of_use(&self) -> ServiceResult<Option<TermsOfUse>> {
        Ok(self
            .store
            .terms_of_use()
            .await?
            .map(|(text, version)| TermsOfUse { text, version }))
    }

    /// Sets the terms (an empty text removes them). Administrators only.
    pub async fn set_terms_of_use(
        &self,
        caller: &Caller,
        text: &str,
    ) -> ServiceResult<Option<TermsOfUse>> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let text = validate_terms(text)?;
        let terms = (!text.is_empty()).then(|| TermsOfUse {
            version: hash(&format!("terms:{text}"))[..16].to_owned(),
            text,
        });
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let old = tx.terms_of_use().await?;
        tx.set_terms_of_use(
            terms
                .as_ref()
                .map(|t| (t.text.as_str(), t.version.as_str())),
            now,
        )
        .await?;
        let mut t = target("termsOfUse", "current", Some("Terms of use"));
        t.modified_properties.push(prop(
            "version",
            old.map(|(_, v)| v),
            terms.as_ref().map(|t| t.version.clone()),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            if terms.is_some() {
                "Update terms of use"
            } else {
                "Remove terms of use"
            },
            "termsOfUse.update",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(terms)
    }

    /// The terms the caller still has to accept before requesting: for people signed in from
    /// outside, the current terms when they have not accepted this version.
    pub async fn terms_pending(&self, caller: &Caller) -> ServiceResult<Option<TermsOfUse>> {
        let Some(ctx) = &caller.sign_in else {
            return Ok(None);
        };
        let Some(terms) = self.terms_of_use().await? else {
            return Ok(None);
        };
        Ok((!self
            .store
            .terms_accepted(&ctx.issuer, &ctx.subject, &terms.version)
            .await?)
            .then_some(terms))
    }

    /// Refuses a request while terms are pending.
    pub(crate) async fn require_terms(&self, caller: &Caller) -> ServiceResult<()> {
        if self.terms_pending(caller).await?.is_some() {
            return Err(DomainError::forbidden(
                "Accept the terms of use first: open the access package in My Access, read them and tick that you accept.",
            )
            .into());
        }
        Ok(())
    }

    /// Records that the caller accepts the terms of `version` (which must be the current).
    pub async fn accept_terms(&self, caller: &Caller, version: &str) -> ServiceResult<()> {
        let Some(ctx) = &caller.sign_in else {
            return Err(DomainError::invalid(
                "version",
                "terms of use are for people signed in from outside",
            )
            .into());
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let current = tx.terms_of_use().await?;
        match current {
            Some((_, v)) if v == version.trim() => {}
            Some(_) => {
                return Err(DomainError::conflict(
                    "the terms of use changed while you read them; read the new text and accept again",
                )
                .into());
            }
            None => {
                return Err(DomainError::conflict("there are no terms of use to accept").into());
            }
        }
        if !tx
            .accept_terms((&ctx.issuer, &ctx.subject), version.trim(), now)
            .await?
        {
            return Ok(()); // accepted already
        }
        let name = match &caller.identity {
            consulate_core::access::CallerIdentity::User {
                user_principal_name,
                ..
            } => Some(user_principal_name.clone()),
            consulate_core::access::CallerIdentity::External { email, .. } => email.clone(),
            _ => None,
        };
        let mut t = target("externalPrincipal", &ctx.subject, name.as_deref());
        t.modified_properties
            .push(prop("termsOfUseVersion", None, Some(version.trim().into())));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Accept terms of use",
            "termsOfUse.accept",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_bounded_and_printable() {
        assert_eq!(
            validate_terms("  Be nice.\r\nNo sharing.  ").unwrap(),
            "Be nice.\nNo sharing."
        );
        assert!(validate_terms(&"x".repeat(MAX_TERMS_CHARS + 1)).is_err());
        assert!(validate_terms("bell\u{7}").is_err());
        assert_eq!(validate_terms("").unwrap(), "");
    }
}
