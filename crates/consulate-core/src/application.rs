//! Applications registered in Consulate and the app roles they define: the resources an
//! access package can grant an application role of.

use crate::{DomainError, DomainResult, Timestamp, text};
use uuid::Uuid;

/// Most app roles one application may define.
pub const MAX_APP_ROLES: usize = 100;

/// A role an application defines (`appRole`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRole {
    pub id: Uuid,
    pub display_name: String,
    pub description: String,
    /// The value the application sees in tokens (`roles` claim).
    pub value: String,
    pub is_enabled: bool,
}

/// An application (`application`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: Uuid,
    /// The client id applications authenticate with.
    pub app_id: Uuid,
    pub display_name: String,
    pub description: String,
    pub app_roles: Vec<AppRole>,
    pub created_date_time: Timestamp,
}

/// Checks an app role's fields; the value is what tokens carry, so it is limited to the
/// characters Graph allows (no spaces, printable ASCII).
pub fn validate_app_role(role: AppRole) -> DomainResult<AppRole> {
    let value = role.value.trim().to_owned();
    if value.is_empty()
        || value.len() > 120
        || !value.bytes().all(|b| b.is_ascii_graphic())
        || value.starts_with('.')
    {
        return Err(DomainError::invalid(
            "appRoles.value",
            format!(
                "app role value '{value}' must be 1 to 120 printable ASCII characters without spaces"
            ),
        ));
    }
    Ok(AppRole {
        id: role.id,
        display_name: text::display_name("appRoles.displayName", &role.display_name)?,
        description: text::description("appRoles.description", &role.description)?,
        value,
        is_enabled: role.is_enabled,
    })
}

/// Checks a whole set of app roles: bounded, ids and values unique.
pub fn validate_app_roles(roles: Vec<AppRole>) -> DomainResult<Vec<AppRole>> {
    if roles.len() > MAX_APP_ROLES {
        return Err(DomainError::invalid(
            "appRoles",
            format!("at most {MAX_APP_ROLES} app roles are allowed"),
        ));
    }
    let roles = roles
        .into_iter()
        .map(validate_app_role)
        .collect::<DomainResult<Vec<_>>>()?;
    for (i, r) in roles.iter().enumerate() {
        if roles[..i].iter().any(|o| o.id == r.id) {
            return Err(DomainError::invalid(
                "appRoles",
                format!("app role id {} is listed twice", r.id),
            ));
        }
        if roles[..i].iter().any(|o| o.value == r.value) {
            return Err(DomainError::invalid(
                "appRoles",
                format!("app role value '{}' is listed twice", r.value),
            ));
        }
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(value: &str) -> AppRole {
        AppRole {
            id: Uuid::now_v7(),
            display_name: "Reader".into(),
            description: String::new(),
            value: value.into(),
            is_enabled: true,
        }
    }

    #[test]
    fn app_roles_are_checked() {
        assert!(validate_app_roles(vec![role("Survey.Read"), role("Survey.Write")]).is_ok());
        assert!(validate_app_roles(vec![role("a b")]).is_err());
        assert!(validate_app_roles(vec![role("")]).is_err());
        assert!(validate_app_roles(vec![role("x"), role("x")]).is_err());
        let r = role("x");
        assert!(
            validate_app_roles(vec![
                r.clone(),
                AppRole {
                    value: "y".into(),
                    ..r
                }
            ])
            .is_err()
        );
    }
}
