//! Bounded, cleaned text properties (display names, descriptions).

use crate::{DomainError, DomainResult};

/// Longest display name accepted (Graph's directory limit is 256 characters).
pub const MAX_DISPLAY_NAME: usize = 256;
/// Longest description accepted.
pub const MAX_DESCRIPTION: usize = 1024;

/// Trims a required display name and checks it is non-empty, bounded and free of control
/// characters. `target` names the property in the error.
pub fn display_name(target: &str, value: &str) -> DomainResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(
            target,
            format!("{target} is required and must not be blank"),
        ));
    }
    bounded(target, v, MAX_DISPLAY_NAME)
}

/// Checks an optional free-text property (bounded, no control characters but newlines/tabs).
pub fn description(target: &str, value: &str) -> DomainResult<String> {
    bounded(target, value, MAX_DESCRIPTION)
}

fn bounded(target: &str, v: &str, max: usize) -> DomainResult<String> {
    let n = v.chars().count();
    if n > max {
        return Err(DomainError::invalid(
            target,
            format!("{target} is {n} characters long; at most {max} are allowed"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::invalid(
            target,
            format!("{target} must not contain control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// The case-folded form used for case-insensitive comparison, sorting and search.
pub fn fold(value: &str) -> String {
    value.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_bounded_and_clean() {
        assert_eq!(
            display_name("displayName", "  Contoso ").unwrap(),
            "Contoso"
        );
        assert!(display_name("displayName", "   ").is_err());
        assert!(display_name("displayName", &"x".repeat(257)).is_err());
        assert!(display_name("displayName", &"é".repeat(256)).is_ok());
        assert!(display_name("displayName", "a\u{1b}[31mb").is_err());
        assert!(description("description", "line one\nline two").is_ok());
    }
}
