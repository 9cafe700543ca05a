//! Which connected organization an authenticated principal belongs to.
//!
//! A principal matches an organization only through the sign-in path the organization is
//! defined by (security bar §2.2):
//!
//! | principal signed in through…      | matches a source of kind…                          |
//! |-----------------------------------|----------------------------------------------------|
//! | its home tenant (validated `tid`) | (cross-cloud) tenant with that id                  |
//! | a federated IdP (exact issuer)    | external domain federation with that issuer       |
//! | email one-time passcode           | email domain, exact, and only if no known tenant   |
//! |                                   | or IdP is authoritative for that domain            |
//! | a social provider                 | social source of that provider for the domain      |
//!
//! Never by an email claim alone: a social or OTP account whose address has a partner tenant's
//! domain is not that partner. The index is built once from all organizations so a lookup is a
//! few hash probes.

use crate::connected_org::{ConnectedOrganizationState, IdentitySource, SocialIdentitySourceType};
use crate::domain_name::DomainName;
use crate::text;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// How a principal proved who it is, with the values that path makes trustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInPath {
    /// A tenant-aware OIDC sign-in: the token's `tid` was validated against the issuer.
    Tenant {
        tenant_id: String,
        object_id: String,
    },
    /// A directly federated IdP: `iss` matched exactly and the signature verified.
    Federated { issuer: String, subject: String },
    /// Email one-time passcode: the server proved control of this mailbox.
    EmailOneTimePasscode { email: String },
    /// A social provider; `email` is whatever the provider asserted, if anything.
    Social {
        provider: SocialIdentitySourceType,
        subject: String,
        email: Option<String>,
    },
    /// A consumer (personal Microsoft) account: never a partner organization.
    ConsumerAccount { subject: String },
    /// A local account of this directory.
    Local { user_id: Uuid },
}

/// What the index needs to know about one organization.
#[derive(Debug, Clone)]
pub struct OrganizationEntry {
    pub id: Uuid,
    pub state: ConnectedOrganizationState,
    pub identity_sources: Vec<IdentitySource>,
}

/// The result of a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrganizationMatch {
    pub organization_id: Uuid,
    pub state: ConnectedOrganizationState,
}

/// Lookup tables over every connected organization, plus the domains that a known tenant or
/// federated IdP is authoritative for (those never match email-OTP or social sign-ins).
#[derive(Debug, Default, Clone)]
pub struct OrganizationIndex {
    by_tenant: HashMap<String, OrganizationMatch>,
    by_issuer: HashMap<String, OrganizationMatch>,
    by_otp_domain: HashMap<DomainName, OrganizationMatch>,
    by_social: HashMap<(SocialIdentitySourceType, String), OrganizationMatch>,
    authoritative_domains: HashSet<DomainName>,
}

impl OrganizationIndex {
    /// Builds the index. `authoritative_domains` are the verified domains of known tenants and
    /// federated IdPs (and of this tenant itself).
    pub fn build(
        orgs: impl IntoIterator<Item = OrganizationEntry>,
        authoritative_domains: impl IntoIterator<Item = DomainName>,
    ) -> Self {
        let mut index = OrganizationIndex {
            authoritative_domains: authoritative_domains.into_iter().collect(),
            ..Default::default()
        };
        for org in orgs {
            let m = OrganizationMatch {
                organization_id: org.id,
                state: org.state,
            };
            for source in org.identity_sources {
                match source {
                    IdentitySource::AzureActiveDirectoryTenant { tenant_id, .. }
                    | IdentitySource::CrossCloudAzureActiveDirectoryTenant { tenant_id, .. } => {
                        index.by_tenant.insert(tenant_id, m);
                    }
                    IdentitySource::ExternalDomainFederation {
                        issuer_uri,
                        domain_name,
                        ..
                    } => {
                        index.by_issuer.insert(issuer_uri, m);
                        index.authoritative_domains.insert(domain_name);
                    }
                    IdentitySource::DomainIdentitySource { domain_name, .. } => {
                        index.by_otp_domain.insert(domain_name, m);
                    }
                    IdentitySource::SocialIdentitySource {
                        display_name,
                        social_identity_source_type,
                    } => {
                        index
                            .by_social
                            .insert((social_identity_source_type, text::fold(&display_name)), m);
                    }
                }
            }
        }
        index
    }

    /// The organization `principal` belongs to, if any.
    pub fn match_principal(&self, principal: &SignInPath) -> Option<OrganizationMatch> {
        match principal {
            SignInPath::Tenant { tenant_id, .. } => {
                self.by_tenant.get(&tenant_id.to_ascii_lowercase()).copied()
            }
            SignInPath::Federated { issuer, .. } => self.by_issuer.get(issuer).copied(),
            SignInPath::EmailOneTimePasscode { email } => {
                let domain = DomainName::of_email(email)?;
                if self.authoritative_domains.contains(&domain) {
                    return None;
                }
                self.by_otp_domain.get(&domain).copied()
            }
            SignInPath::Social {
                provider, email, ..
            } => {
                let domain = DomainName::of_email(email.as_deref()?)?;
                self.by_social
                    .get(&(*provider, domain.as_str().to_owned()))
                    .copied()
            }
            SignInPath::ConsumerAccount { .. } | SignInPath::Local { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connected_org::ConnectedOrganizationState::{Configured, Proposed};

    const PARTNER_TENANT: &str = "0ab4f2b5-1c64-4e13-a9f7-2b5f3c9f8a01";
    const OTHER_TENANT: &str = "11111111-2222-4333-8444-555555555555";

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }
    fn d(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    /// partner.com is a tenant org (1); contoso.com an OTP-domain org (2); fabrikam.com a
    /// federated org (3); gmail-ish social org for example.org (4, proposed); partner.com is also
    /// a verified domain of the partner tenant in the registry.
    fn index() -> OrganizationIndex {
        OrganizationIndex::build(
            [
                OrganizationEntry {
                    id: id(1),
                    state: Configured,
                    identity_sources: vec![IdentitySource::AzureActiveDirectoryTenant {
                        tenant_id: PARTNER_TENANT.into(),
                        display_name: "Partner".into(),
                    }],
                },
                OrganizationEntry {
                    id: id(2),
                    state: Configured,
                    identity_sources: vec![IdentitySource::DomainIdentitySource {
                        domain_name: d("contoso.com"),
                        display_name: "contoso.com".into(),
                    }],
                },
                OrganizationEntry {
                    id: id(3),
                    state: Configured,
                    identity_sources: vec![IdentitySource::ExternalDomainFederation {
                        domain_name: d("fabrikam.com"),
                        display_name: "Fabrikam".into(),
                        issuer_uri: "https://idp.fabrikam.com/".into(),
                    }],
                },
                OrganizationEntry {
                    id: id(4),
                    state: Proposed,
                    identity_sources: vec![IdentitySource::SocialIdentitySource {
                        display_name: "example.org".into(),
                        social_identity_source_type: SocialIdentitySourceType::Facebook,
                    }],
                },
            ],
            [d("partner.com")],
        )
    }

    fn otp(email: &str) -> SignInPath {
        SignInPath::EmailOneTimePasscode {
            email: email.into(),
        }
    }

    #[test]
    fn security_bar_2_2_table() {
        let idx = index();
        let cases: Vec<(&str, SignInPath, Option<u128>)> = vec![
            (
                "tenant sign-in matches its tenant org",
                SignInPath::Tenant {
                    tenant_id: PARTNER_TENANT.into(),
                    object_id: "o1".into(),
                },
                Some(1),
            ),
            (
                "tenant id compared case-insensitively",
                SignInPath::Tenant {
                    tenant_id: PARTNER_TENANT.to_uppercase(),
                    object_id: "o1".into(),
                },
                Some(1),
            ),
            (
                "another tenant does not match",
                SignInPath::Tenant {
                    tenant_id: OTHER_TENANT.into(),
                    object_id: "o1".into(),
                },
                None,
            ),
            (
                "OTP with a tenant org's domain is not that tenant",
                otp("user@partner.com"),
                None,
            ),
            (
                "social account with a tenant org's domain is not that tenant",
                SignInPath::Social {
                    provider: SocialIdentitySourceType::Facebook,
                    subject: "s".into(),
                    email: Some("user@partner.com".into()),
                },
                None,
            ),
            (
                "consumer account never matches",
                SignInPath::ConsumerAccount {
                    subject: "msa".into(),
                },
                None,
            ),
            (
                "OTP matches the domain org, case-folded",
                otp("user@CONTOSO.com"),
                Some(2),
            ),
            (
                "subdomain does not match",
                otp("user@sub.contoso.com"),
                None,
            ),
            (
                "look-alike suffix does not match",
                otp("user@contoso.com.evil.tld"),
                None,
            ),
            (
                "look-alike prefix does not match",
                otp("user@evilcontoso.com"),
                None,
            ),
            ("malformed address does not match", otp("contoso.com"), None),
            (
                "federated issuer matches exactly",
                SignInPath::Federated {
                    issuer: "https://idp.fabrikam.com/".into(),
                    subject: "s".into(),
                },
                Some(3),
            ),
            (
                "federated issuer without trailing slash differs",
                SignInPath::Federated {
                    issuer: "https://idp.fabrikam.com".into(),
                    subject: "s".into(),
                },
                None,
            ),
            (
                "OTP with a federated org's domain does not match",
                otp("user@fabrikam.com"),
                None,
            ),
            (
                "social matches its provider and domain",
                SignInPath::Social {
                    provider: SocialIdentitySourceType::Facebook,
                    subject: "s".into(),
                    email: Some("x@Example.org".into()),
                },
                Some(4),
            ),
            (
                "social without an email does not match",
                SignInPath::Social {
                    provider: SocialIdentitySourceType::Facebook,
                    subject: "s".into(),
                    email: None,
                },
                None,
            ),
            (
                "OTP for a social org's domain does not match it",
                otp("x@example.org"),
                None,
            ),
            (
                "local accounts are not partners",
                SignInPath::Local { user_id: id(9) },
                None,
            ),
        ];
        for (name, principal, expected) in cases {
            assert_eq!(
                idx.match_principal(&principal).map(|m| m.organization_id),
                expected.map(id),
                "{name}"
            );
        }
    }

    #[test]
    fn proposed_orgs_match_but_are_out_of_all_configured_scope() {
        let idx = index();
        let m = idx
            .match_principal(&SignInPath::Social {
                provider: SocialIdentitySourceType::Facebook,
                subject: "s".into(),
                email: Some("x@example.org".into()),
            })
            .unwrap();
        assert_eq!(m.state, Proposed);
        assert!(!m.state.in_all_configured_scope());
    }

    #[test]
    fn random_principals_match_only_through_a_compatible_path() {
        // A small deterministic generator: for many random emails, an OTP match requires a
        // domain-source org for exactly that domain; social and tenant paths never match a
        // domain-source org, and email never leads to a tenant or federated org.
        let idx = index();
        let domains = [
            "contoso.com",
            "partner.com",
            "fabrikam.com",
            "example.org",
            "sub.contoso.com",
            "contoso.co",
            "CONTOSO.COM",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let dom = domains[(seed % domains.len() as u64) as usize];
            let email = format!("u{}@{dom}", seed % 1000);
            if let Some(m) = idx.match_principal(&otp(&email)) {
                assert_eq!(m.organization_id, id(2));
                assert_eq!(dom.to_ascii_lowercase(), "contoso.com");
            }
            let social = SignInPath::Social {
                provider: SocialIdentitySourceType::Facebook,
                subject: "s".into(),
                email: Some(email.clone()),
            };
            if let Some(m) = idx.match_principal(&social) {
                assert_eq!(m.organization_id, id(4));
            }
        }
    }
}
