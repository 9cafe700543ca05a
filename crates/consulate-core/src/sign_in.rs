//! Sign-in rules that need no I/O: email one-time passcode limits and the delay that grows
//! with failures, session lifetimes, and the post-sign-in redirect check.

use crate::{DomainError, DomainResult};
use std::time::Duration;

/// The issuer Consulate records for identities proven by an email one-time passcode. The
/// subject is the lower-cased address: the only case where an email is the identity, because
/// the server itself proved control of the mailbox.
pub const EMAIL_OTP_ISSUER: &str = "mail";

/// Email one-time passcode settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpSettings {
    /// Digits in a code (6 to 10; 8 by default).
    pub digits: u32,
    /// How long a code is valid (at most 30 minutes; 10 by default).
    pub validity: Duration,
}

impl Default for OtpSettings {
    fn default() -> Self {
        OtpSettings {
            digits: 8,
            validity: Duration::from_secs(600),
        }
    }
}

/// Submissions checked per code; later ones are refused without comparing.
pub const MAX_ATTEMPTS_PER_CODE: i64 = 5;
/// Codes issued per address in 24 hours.
pub const MAX_CODES_PER_DAY: i64 = 10;
/// Consecutive failures after which an address is locked for [`LOCK_DURATION`].
pub const MAX_CONSECUTIVE_FAILURES: i64 = 100;
/// How long a locked address stays locked (unless an administrator resets it).
pub const LOCK_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Failures allowed before delays start.
const FREE_FAILURES: i64 = 5;
/// Longest delay between attempts before the lock.
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

pub fn check_otp_settings(s: &OtpSettings) -> DomainResult<()> {
    if !(6..=10).contains(&s.digits) {
        return Err(DomainError::invalid(
            "otpDigits",
            "a one-time passcode has 6 to 10 digits",
        ));
    }
    if s.validity.is_zero() || s.validity > Duration::from_secs(1800) {
        return Err(DomainError::invalid(
            "otpValidity",
            "a one-time passcode is valid for 1 second to 30 minutes",
        ));
    }
    Ok(())
}

/// How long an address must wait after `failures` consecutive failures: nothing for the
/// first few, then doubling from 2 seconds up to 15 minutes; `None` once it is locked.
pub fn delay_after_failures(failures: i64) -> Option<Duration> {
    if failures >= MAX_CONSECUTIVE_FAILURES {
        return None;
    }
    if failures < FREE_FAILURES {
        return Some(Duration::ZERO);
    }
    let exp = (failures - FREE_FAILURES).min(20) as u32;
    Some(Duration::from_secs(2u64 << exp).min(MAX_DELAY))
}

/// Normalizes an email address used as a sign-in identifier: trimmed, one address, lower-cased.
pub fn email_identifier(value: &str) -> DomainResult<String> {
    let v = crate::directory::mail_address(value).map_err(|_| {
        DomainError::invalid("email", "enter one email address, like name@example.com")
    })?;
    if v.contains(',') || v.contains(';') || v.matches('@').count() != 1 {
        return Err(DomainError::invalid(
            "email",
            "enter one email address, like name@example.com",
        ));
    }
    Ok(v.to_lowercase())
}

/// Session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    pub idle: Duration,
    pub absolute: Duration,
}

/// External users: a day at most, two hours idle.
pub const EXTERNAL_SESSION: SessionLifetime = SessionLifetime {
    idle: Duration::from_secs(2 * 3600),
    absolute: Duration::from_secs(24 * 3600),
};

/// Members and administrators: twelve hours at most, thirty minutes idle.
pub const MEMBER_SESSION: SessionLifetime = SessionLifetime {
    idle: Duration::from_secs(30 * 60),
    absolute: Duration::from_secs(12 * 3600),
};

/// The issuer of local (password) sign-ins; the subject is the user's object id.
pub const LOCAL_ISSUER: &str = "consulate";
/// Submissions checked per second-factor challenge.
pub const MAX_MFA_ATTEMPTS: i64 = 5;
/// How long a second-factor challenge waits for its code.
pub const MFA_CHALLENGE: Duration = Duration::from_secs(5 * 60);
/// Recovery codes issued when a second factor is set up.
pub const RECOVERY_CODES: usize = 10;
/// TOTP time step (RFC 6238's default).
pub const TOTP_STEP_SECONDS: i64 = 30;

/// Checks a new password: 12 to 256 characters, not only spaces.
pub fn check_password(password: &str) -> DomainResult<()> {
    let n = password.chars().count();
    if !(12..=256).contains(&n) || password.trim().is_empty() {
        return Err(DomainError::invalid(
            "password",
            "a password has 12 to 256 characters",
        ));
    }
    Ok(())
}

/// Where to go after signing in: only a local path (one leading `/`, no scheme, no host, no
/// backslash or control characters). Anything else goes to `/`.
pub fn safe_redirect(target: &str) -> &str {
    let ok = target.starts_with('/')
        && !target.starts_with("//")
        && !target.starts_with("/\\")
        && target.len() <= 2048
        && !target
            .chars()
            .any(|c| c.is_control() || c == '\\' || c.is_whitespace())
        && !target.to_ascii_lowercase().contains("%2f%2f")
        && !target.contains("/..")
        && !target.contains("%5c")
        && !target.contains("%5C");
    if ok { target } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_lock() {
        assert_eq!(delay_after_failures(0), Some(Duration::ZERO));
        assert_eq!(delay_after_failures(4), Some(Duration::ZERO));
        assert_eq!(delay_after_failures(5), Some(Duration::from_secs(2)));
        assert_eq!(delay_after_failures(6), Some(Duration::from_secs(4)));
        assert_eq!(delay_after_failures(40), Some(MAX_DELAY));
        assert_eq!(delay_after_failures(99), Some(MAX_DELAY));
        assert_eq!(delay_after_failures(100), None);
    }

    #[test]
    fn settings_are_bounded() {
        assert!(check_otp_settings(&OtpSettings::default()).is_ok());
        for digits in [5, 11] {
            let s = OtpSettings {
                digits,
                ..OtpSettings::default()
            };
            assert!(check_otp_settings(&s).is_err());
        }
        let s = OtpSettings {
            validity: Duration::from_secs(1801),
            ..OtpSettings::default()
        };
        assert!(check_otp_settings(&s).is_err());
    }

    #[test]
    fn one_address_only() {
        assert_eq!(
            email_identifier(" Ana@Partner.Example ").unwrap(),
            "ana@partner.example"
        );
        for bad in [
            "",
            "ana",
            "ana@partner.example,eve@evil.example",
            "ana@partner.example;eve@evil.example",
            "a@b@evil.example",
            "ana @partner.example",
        ] {
            assert!(email_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirects_stay_local() {
        for good in ["/", "/access-packages/abc", "/my-access?tab=active"] {
            assert_eq!(safe_redirect(good), good);
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "https:evil.com",
            "https://app@evil.com",
            "https://a@b@evil.com",
            "https://app.example.com.evil.com",
            "/..;/",
            "/%2f%2fevil.com",
            "/%2F%2Fevil.com",
            "/\tevil",
            "/\r\nLocation: https://evil.com",
            "javascript:alert(1)",
            "evil.com",
            "/%5cevil.com",
            "",
        ] {
            assert_eq!(safe_redirect(bad), "/", "{bad:?}");
        }
    }
}
