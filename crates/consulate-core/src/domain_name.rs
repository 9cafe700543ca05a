//! DNS domain names as they appear in identity sources and email addresses: validated and
//! normalised to lowercase ASCII (IDNA/punycode), so that `Contoso.COM`, `contoso.com.` and
//! `bücher.example` / `xn--bcher-kva.example` each compare equal to their one canonical form.

use crate::{DomainError, DomainResult};

/// A validated, normalised domain name (lowercase ASCII, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    /// Parses and normalises `input`. Requires at least two labels, each 1–63 characters of
    /// letters, digits and inner hyphens, at most 253 characters in all, and an alphabetic
    /// top-level label (no IP addresses).
    pub fn parse(input: &str) -> DomainResult<Self> {
        let err = |why: &str| {
            DomainError::invalid(
                "domainName",
                format!("'{}' is not a valid domain name: {why}", truncate(input)),
            )
        };
        let trimmed = input.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Err(err("it is empty"));
        }
        if trimmed.len() > 1024 {
            return Err(err("it is too long"));
        }
        let ascii = idna::domain_to_ascii_strict(trimmed)
            .map_err(|_| err("it is not a valid internationalised domain name"))?;
        let ascii = ascii.to_ascii_lowercase();
        if ascii.len() > 253 {
            return Err(err("it is longer than 253 characters"));
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() < 2 {
            return Err(err("it needs at least two labels, like example.com"));
        }
        for label in &labels {
            if label.is_empty() || label.len() > 63 {
                return Err(err("every label must be 1 to 63 characters"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                || label.starts_with('-')
                || label.ends_with('-')
            {
                return Err(err(
                    "labels may hold letters, digits and inner hyphens only",
                ));
            }
        }
        let tld = labels[labels.len() - 1];
        if !(tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--")) {
            return Err(err("the top-level label must be alphabetic"));
        }
        Ok(DomainName(ascii))
    }

    /// The domain part of an email address, normalised; `None` when the address is malformed.
    pub fn of_email(email: &str) -> Option<Self> {
        let (local, domain) = email.trim().rsplit_once('@')?;
        if local.is_empty() || local.contains('@') {
            return None;
        }
        DomainName::parse(domain).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_trailing_dot_and_idna() {
        assert_eq!(
            DomainName::parse("Contoso.COM").unwrap().as_str(),
            "contoso.com"
        );
        assert_eq!(
            DomainName::parse("contoso.com.").unwrap().as_str(),
            "contoso.com"
        );
        assert_eq!(
            DomainName::parse("bücher.example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            DomainName::parse("XN--BCHER-KVA.example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn rejects_malformed_domains() {
        for bad in [
            "",
            "localhost",
            "-a.com",
            "a-.com",
            "a..com",
            "a b.com",
            "1.2.3.4",
            "user@contoso.com",
            "contoso.com/x",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn email_domains() {
        assert_eq!(
            DomainName::of_email("Jo@PARTNER.com").unwrap().as_str(),
            "partner.com"
        );
        assert!(DomainName::of_email("no-at-sign").is_none());
        assert!(DomainName::of_email("@partner.com").is_none());
    }
}
