//! Rules for people from outside: which domains may collaborate at all (an allow or deny list
//! that overrides everything else), and sign-in rules that target all external users, some
//! connected organizations or some access packages, and require multi-factor
//! authentication, restrict the sign-in methods, or cap the session. Evaluated at sign-in and
//! again at request time; a refusal says why in plain words.

use crate::domain_name::DomainName;
use crate::{DomainError, DomainResult, text};
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;

/// How someone from outside signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignInMethod {
    EmailOneTimePasscode,
    IdentityProvider,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailOneTimePasscode => "emailOneTimePasscode",
            Self::IdentityProvider => "identityProvider",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "emailonetimepasscode" => Ok(Self::EmailOneTimePasscode),
            "identityprovider" => Ok(Self::IdentityProvider),
            _ => Err(DomainError::invalid(
                "allowedMethods",
                format!(
                    "'{s}' is not a sign-in method; use emailOneTimePasscode or identityProvider"
                ),
            )),
        }
    }
}

/// Whom a rule is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleTarget {
    AllExternalUsers,
    ConnectedOrganizations(BTreeSet<Uuid>),
    AccessPackages(BTreeSet<Uuid>),
}

/// One sign-in rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRule {
    pub id: Uuid,
    pub display_name: String,
    pub target: RuleTarget,
    pub require_mfa: bool,
    /// Empty: any method.
    pub allowed_methods: BTreeSet<SignInMethod>,
    pub max_session: Option<Duration>,
}

/// Longest session a rule may allow.
pub const MAX_SESSION_CAP: Duration = Duration::from_secs(24 * 3600);
/// Most targets one rule may name.
pub const MAX_TARGETS: usize = 100;

impl SignInRule {
    /// Checks a rule as sent.
    pub fn validated(mut self) -> DomainResult<Self> {
        self.display_name = text::display_name("displayName", &self.display_name)?;
        let n = match &self.target {
            RuleTarget::AllExternalUsers => 1,
            RuleTarget::ConnectedOrganizations(s) | RuleTarget::AccessPackages(s) => s.len(),
        };
        if n == 0 || n > MAX_TARGETS {
            return Err(DomainError::invalid(
                "targets",
                format!("a rule targets 1 to {MAX_TARGETS} organizations or packages"),
            ));
        }
        if self
            .max_session
            .is_some_and(|d| d < Duration::from_secs(300) || d > MAX_SESSION_CAP)
        {
            return Err(DomainError::invalid(
                "maxSessionMinutes",
                "a session cap is 5 minutes to 24 hours",
            ));
        }
        if !self.require_mfa && self.allowed_methods.is_empty() && self.max_session.is_none() {
            return Err(DomainError::invalid(
                "rule",
                "a rule must require MFA, restrict the methods or cap the session",
            ));
        }
        Ok(self)
    }

    fn applies(&self, a: &Attempt) -> bool {
        match &self.target {
            RuleTarget::AllExternalUsers => true,
            RuleTarget::ConnectedOrganizations(ids) => {
                a.organization.is_some_and(|o| ids.contains(&o))
            }
            RuleTarget::AccessPackages(ids) => a.package.is_some_and(|p| ids.contains(&p)),
        }
    }
}

/// Which domains may collaborate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CollaborationDomains {
    #[default]
    Any,
    /// Only these domains (and their subdomains).
    AllowOnly(BTreeSet<DomainName>),
    /// Any domain but these (and their subdomains).
    Deny(BTreeSet<DomainName>),
}

impl CollaborationDomains {
    /// Whether people from `domain` may collaborate.
    pub fn admits(&self, domain: &DomainName) -> bool {
        let listed = |set: &BTreeSet<DomainName>| {
            set.iter()
                .any(|d| domain == d || domain.as_str().ends_with(&format!(".{}", d.as_str())))
        };
        match self {
            Self::Any => true,
            Self::AllowOnly(set) => listed(set),
            Self::Deny(set) => !listed(set),
        }
    }
}

/// A sign-in, or a request, being decided.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub method: SignInMethod,
    /// Whether the sign-in included a second factor.
    pub mfa: bool,
    pub organization: Option<Uuid>,
    /// The domains the person comes from: the proven address's, or the provider's.
    pub domains: &'a [DomainName],
    /// At request time: the access package asked for.
    pub package: Option<Uuid>,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow { max_session: Option<Duration> },
    Refuse { rule: Option<Uuid>, reason: String },
}

/// Decides an attempt: the domain list first (it overrides everything), then every rule that
/// applies; the shortest session cap wins.
pub fn evaluate(rules: &[SignInRule], domains: &CollaborationDomains, a: &Attempt) -> Verdict {
    let unknown_under_allow_list =
        a.domains.is_empty() && matches!(domains, CollaborationDomains::AllowOnly(_));
    if unknown_under_allow_list
        || (!a.domains.is_empty() && !a.domains.iter().any(|d| domains.admits(d)))
    {
        return Verdict::Refuse {
            rule: None,
            reason: match a.domains.first() {
                Some(d) => format!("Collaboration with {d} is not allowed by this organization."),
                None => "This organization collaborates only with listed domains, and yours is not known.".into(),
            },
        };
    }
    let mut cap: Option<Duration> = None;
    for r in rules.iter().filter(|r| r.applies(a)) {
        if !r.allowed_methods.is_empty() && !r.allowed_methods.contains(&a.method) {
            let how = match a.method {
                SignInMethod::EmailOneTimePasscode => {
                    "Sign in through your organization's identity provider for this; an email passcode is not accepted."
                }
                SignInMethod::IdentityProvider => {
                    "Sign in with an email passcode for this; your organization's sign-in is not accepted here."
                }
            };
            return Verdict::Refuse {
                rule: Some(r.id),
                reason: format!("{how} (rule: {})", r.display_name),
            };
        }
        if r.require_mfa && !a.mfa {
            let how = match a.method {
                SignInMethod::EmailOneTimePasscode => {
                    "This needs multi-factor authentication: sign in again with your email passcode and a code from your authenticator app."
                }
                SignInMethod::IdentityProvider => {
                    "This needs multi-factor authentication: sign in again at your organization and complete its second factor."
                }
            };
            return Verdict::Refuse {
                rule: Some(r.id),
                reason: format!("{how} (rule: {})", r.display_name),
            };
        }
        if let Some(m) = r.max_session {
            cap = Some(cap.map_or(m, |c| c.min(m)));
        }
    }
    Verdict::Allow { max_session: cap }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: RuleTarget) -> SignInRule {
        SignInRule {
            id: Uuid::nil(),
            display_name: "r".into(),
            target,
            require_mfa: false,
            allowed_methods: BTreeSet::new(),
            max_session: None,
        }
    }

    fn d(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    #[test]
    fn domain_lists_override_everything() {
        let deny = CollaborationDomains::Deny([d("evil.example")].into());
        assert!(!deny.admits(&d("evil.example")));
        assert!(!deny.admits(&d("mail.evil.example")));
        assert!(deny.admits(&d("notevil.example")));
        let allow = CollaborationDomains::AllowOnly([d("partner.example")].into());
        assert!(allow.admits(&d("eu.partner.example")));
        assert!(!allow.admits(&d("other.example")));
        let a = Attempt {
            method: SignInMethod::IdentityProvider,
            mfa: true,
            organization: None,
            domains: &[d("evil.example")],
            package: None,
        };
        assert!(matches!(
            evaluate(&[], &deny, &a),
            Verdict::Refuse { rule: None, .. }
        ));
    }

    #[test]
    fn rules_restrict_methods_require_mfa_and_cap_sessions() {
        let org = Uuid::from_u128(7);
        let pkg = Uuid::from_u128(9);
        let mut federated_only = rule(RuleTarget::AccessPackages([pkg].into()));
        federated_only.allowed_methods = [SignInMethod::IdentityProvider].into();
        let mut mfa = rule(RuleTarget::ConnectedOrganizations([org].into()));
        mfa.require_mfa = true;
        let mut short = rule(RuleTarget::AllExternalUsers);
        short.max_session = Some(Duration::from_secs(3600));
        let rules = [federated_only, mfa, short];
        let domains = [d("partner.example")];
        let otp = Attempt {
            method: SignInMethod::EmailOneTimePasscode,
            mfa: false,
            organization: None,
            domains: &domains,
            package: None,
        };
        assert_eq!(
            evaluate(&rules, &CollaborationDomains::Any, &otp),
            Verdict::Allow {
                max_session: Some(Duration::from_secs(3600))
            }
        );
        let for_package = Attempt {
            package: Some(pkg),
            ..otp
        };
        assert!(matches!(
            evaluate(&rules, &CollaborationDomains::Any, &for_package),
            Verdict::Refuse { .. }
        ));
        let from_org = Attempt {
            organization: Some(org),
            ..otp
        };
        let Verdict::Refuse { reason, .. } =
            evaluate(&rules, &CollaborationDomains::Any, &from_org)
        else {
            panic!("MFA is required");
        };
        assert!(reason.contains("multi-factor"), "{reason}");
        let with_mfa = Attempt {
            method: SignInMethod::IdentityProvider,
            mfa: true,
            ..from_org
        };
        assert!(matches!(
            evaluate(&rules, &CollaborationDomains::Any, &with_mfa),
            Verdict::Allow { .. }
        ));
    }

    #[test]
    fn rules_are_validated() {
        assert!(rule(RuleTarget::AllExternalUsers).validated().is_err());
        assert!(
            rule(RuleTarget::AccessPackages(BTreeSet::new()))
                .validated()
                .is_err()
        );
        let mut r = rule(RuleTarget::AllExternalUsers);
        r.max_session = Some(Duration::from_secs(60));
        assert!(r.clone().validated().is_err());
        r.max_session = Some(Duration::from_secs(3600));
        assert!(r.validated().is_ok());
    }
}
