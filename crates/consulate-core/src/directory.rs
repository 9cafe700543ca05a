//! The directory: member and guest users, groups, and the tenant with its verified domains.

use crate::domain_name::DomainName;
use crate::text;
use crate::{DomainError, DomainResult, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserType {
    Member,
    Guest,
}

impl UserType {
    /// The wire value (`Member` / `Guest`, as Graph writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "Member",
            Self::Guest => "Guest",
        }
    }
    pub fn parse(s: &str) -> DomainResult<Self> {
        match s.to_ascii_lowercase().as_str() {
            "member" => Ok(Self::Member),
            "guest" => Ok(Self::Guest),
            _ => Err(DomainError::invalid(
                "userType",
                format!("'{s}' is not a userType; use Member or Guest"),
            )),
        }
    }
}

/// One way a user signs in: (issuer, issuerAssignedId) is the immutable key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectIdentity {
    /// `federated`, `emailAddress`, `userPrincipalName`, `userName`, …
    pub sign_in_type: String,
    pub issuer: String,
    pub issuer_assigned_id: String,
}

/// Most identities one user may hold.
pub const MAX_IDENTITIES: usize = 20;

impl ObjectIdentity {
    pub fn validated(
        sign_in_type: &str,
        issuer: &str,
        issuer_assigned_id: &str,
    ) -> DomainResult<Self> {
        let field = |name: &str, v: &str, max: usize| -> DomainResult<String> {
            let v = v.trim();
            if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    format!("identities.{name}"),
                    format!(
                        "identities.{name} must be 1 to {max} characters without control characters"
                    ),
                ));
            }
            Ok(v.to_owned())
        };
        Ok(Self {
            sign_in_type: field("signInType", sign_in_type, 64)?,
            issuer: field("issuer", issuer, 2048)?,
            issuer_assigned_id: field("issuerAssignedId", issuer_assigned_id, 512)?,
        })
    }
}

/// A user of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: String,
    pub user_type: UserType,
    pub account_enabled: bool,
    pub identities: Vec<ObjectIdentity>,
    /// `Invitation`, `LocalAccount`, `EmailVerified`, … or none for ordinary members.
    pub creation_type: Option<String>,
    /// `PendingAcceptance` or `Accepted` for guests.
    pub external_user_state: Option<String>,
    pub created_date_time: Timestamp,
}

/// A group of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: Uuid,
    pub display_name: String,
    pub description: String,
    pub mail_nickname: String,
    pub security_enabled: bool,
    pub mail_enabled: bool,
    pub created_date_time: Timestamp,
}

/// The organization that runs this Consulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: Uuid,
    pub display_name: String,
    pub verified_domains: Vec<DomainName>,
    pub created_date_time: Timestamp,
}

/// Validates a user principal name (`local@domain`); returns it trimmed.
pub fn user_principal_name(value: &str) -> DomainResult<String> {
    let v = value.trim();
    let err = || {
        DomainError::invalid(
            "userPrincipalName",
            format!(
                "'{}' is not a valid userPrincipalName (local@domain)",
                v.chars().take(64).collect::<String>()
            ),
        )
    };
    if v.len() > 113 + 1 + 253 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err());
    }
    let (local, domain) = v.rsplit_once('@').ok_or_else(err)?;
    if local.is_empty() || local.len() > 113 || local.contains('@') && !local.contains("#EXT#") {
        return Err(err());
    }
    DomainName::parse(domain).map_err(|_| err())?;
    Ok(v.to_owned())
}

/// Validates a mail address (`local@domain`); returns it trimmed.
pub fn mail_address(value: &str) -> DomainResult<String> {
    let v = value.trim();
    if v.len() > 254
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
        || DomainName::of_email(v).is_none()
    {
        return Err(DomainError::invalid(
            "mail",
            format!(
                "'{}' is not a valid mail address",
                v.chars().take(64).collect::<String>()
            ),
        ));
    }
    Ok(v.to_owned())
}

/// Validates a mail nickname (the alias part of a group address).
pub fn mail_nickname(value: &str) -> DomainResult<String> {
    let v = value.trim();
    if v.is_empty()
        || v.len() > 64
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(DomainError::invalid(
            "mailNickname",
            "mailNickname must be 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(v.to_owned())
}

/// Checks an optional short name (given name, surname).
pub fn short_name(target: &str, value: &str) -> DomainResult<String> {
    let v = text::description(target, value.trim())?;
    if v.chars().count() > 64 {
        return Err(DomainError::invalid(
            target,
            format!("{target} must be at most 64 characters"),
        ));
    }
    Ok(v)
}

/// Checks a user's list of identities: bounded and no (issuer, issuerAssignedId) twice.
pub fn validate_identities(ids: &[ObjectIdentity]) -> DomainResult<()> {
    if ids.len() > MAX_IDENTITIES {
        return Err(DomainError::invalid(
            "identities",
            format!("at most {MAX_IDENTITIES} identities are allowed"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for i in ids {
        if !seen.insert((i.issuer.to_ascii_lowercase(), i.issuer_assigned_id.clone())) {
            return Err(DomainError::invalid(
                "identities",
                format!(
                    "identity ({}, {}) is listed twice",
                    i.issuer, i.issuer_assigned_id
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upns_and_mail() {
        assert!(user_principal_name("alice@contoso.com").is_ok());
        assert!(user_principal_name("bob_fabrikam.com#EXT#@contoso.com").is_ok());
        assert!(user_principal_name("alice").is_err());
        assert!(user_principal_name("al ice@contoso.com").is_err());
        assert!(mail_address("a@b.com").is_ok());
        assert!(mail_address("a@b").is_err());
        assert!(mail_nickname("sales-team").is_ok());
        assert!(mail_nickname("sales team").is_err());
    }

    #[test]
    fn identities_are_unique_by_issuer_and_subject() {
        let a = ObjectIdentity::validated("federated", "https://idp.example.com", "sub-1").unwrap();
        let b = ObjectIdentity::validated("federated", "HTTPS://IDP.example.com", "sub-1").unwrap();
        assert!(validate_identities(std::slice::from_ref(&a)).is_ok());
        assert!(validate_identities(&[a, b]).is_err());
        assert!(ObjectIdentity::validated("federated", "", "x").is_err());
    }

    #[test]
    fn user_types_parse_case_insensitively() {
        assert_eq!(UserType::parse("guest").unwrap(), UserType::Guest);
        assert!(UserType::parse("admin").is_err());
    }
}
