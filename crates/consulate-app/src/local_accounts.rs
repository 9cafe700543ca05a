//! Local sign-in for members and administrators: an argon2id password, then (when enrolled) a
//! TOTP code (RFC 6238, each time step used once) or a single-use recovery code. Every
//! attempt is counted before the password is checked, so parallel guesses meet the same
//! growing delays and lock as serial ones; unknown users take as long and get the same answer.

use crate::sign_in::{NewSession, bounded, hash, random_secret};
use crate::{App, ServiceResult, prop, target};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use consulate_core::DomainError;
use consulate_core::access::{Caller, CallerIdentity, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::sign_in::{self, LOCAL_ISSUER, TOTP_STEP_SECONDS};
use rand::RngCore as _;
use std::time::Duration;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

/// Longest user name or password looked at (bounded input; hashing is costly).
const MAX_INPUT: usize = 256;

/// How a password (or second-factor) step ended.
#[derive(Debug)]
pub enum PasswordOutcome {
    SignedIn(NewSession),
    /// The password was right; a TOTP or recovery code is needed next, in this same flow.
    SecondFactor,
    Refused,
    Wait(Duration),
    Locked,
}

/// A TOTP secret being set up: show it (or its URI as a QR code) to the user once.
#[derive(Debug, Clone)]
pub struct TotpEnrollment {
    pub secret: String,
    pub uri: String,
}

fn argon2() -> argon2::Argon2<'static> {
    argon2::Argon2::default()
}

/// An argon2id hash of a password (PHC string), with a random salt.
pub fn hash_password(password: &str) -> ServiceResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| consulate_store::StoreError::Corrupt(format!("salt: {e}")))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| consulate_store::StoreError::Corrupt(format!("hashing: {e}")))?
        .to_string())
}

/// Checks a password against a stored hash, on a blocking thread (it is slow on purpose).
/// Without a stored hash a fixed one is checked, so unknown users take as long.
async fn verify_password(stored: Option<String>, password: String) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let known = stored.is_some();
    let hash = stored.unwrap_or_else(|| {
        DUMMY
            .get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
            .clone()
    });
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    ok && known
}

fn totp(secret: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .ok()?;
    Some(totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        TOTP_STEP_SECONDS as u64,
        bytes,
    ))
}

/// The time step a TOTP code matches (the current one or its neighbours), if any.
pub(crate) fn totp_step(secret: &str, code: &str, now: jiff::Timestamp) -> Option<i64> {
    let t = totp(secret)?;
    let current = now.as_second() / TOTP_STEP_SECONDS;
    let code = code.trim();
    (current - 1..=current + 1).find(|step| {
        let expected = t.generate((step * TOTP_STEP_SECONDS) as u64);
        bool::from(expected.as_bytes().ct_eq(code.as_bytes()))
    })
}

fn recovery_hash(user: Uuid, code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    hash(&format!("recovery:{user}:{normalized}"))
}

impl App {
    /// Sets a user's password (administrators, or the CLI as the system).
    pub async fn set_password(
        &self,
        caller: &Caller,
        user: Uuid,
        password: &str,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteUsers)?;
        sign_in::check_password(password)?;
        self.guard_privileged_credentials(caller, user, "sets the password")
            .await?;
        let hashed = hash_password(password)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let u = tx.user(user).await?;
        tx.set_password_hash(user, &hashed, now).await?;
        // A new password ends the user's sessions.
        tx.revoke_sessions_of(LOCAL_ISSUER, &user.to_string(), now)
            .await?;
        let event = self.event(
            caller,
            Category::UserManagement,
            "Set user password",
            "user.password.set",
            target("user", user, Some(&u.user_principal_name)),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    /// Changing how someone holding a directory role signs in (a password, a sign-in
    /// identity) takes a Global Administrator (or the system): a user administrator must not
    /// make themselves an administrator by giving an admin their own credentials.
    pub(crate) async fn guard_privileged_credentials(
        &self,
        caller: &Caller,
        user: Uuid,
        what: &str,
    ) -> ServiceResult<()> {
        let privileged = match caller.identity {
            CallerIdentity::System => true,
            CallerIdentity::User { .. } => caller
                .roles
                .contains(&consulate_core::access::DirectoryRole::GlobalAdministrator),
            CallerIdentity::Application { .. } => caller
                .scopes
                .contains(&consulate_core::access::Scope::RoleManagementReadWriteDirectory),
            CallerIdentity::External { .. } => false,
        };
        if !privileged && !self.store.user_roles(user).await?.is_empty() {
            return Err(DomainError::forbidden(format!(
                "only a Global Administrator {what} of a user who holds a directory role"
            ))
            .into());
        }
        Ok(())
    }

    /// Checks a user name and password for sign-in flow `flow`.
    pub async fn password_sign_in(
        &self,
        flow: &str,
        user_name: &str,
        password: &str,
    ) -> ServiceResult<PasswordOutcome> {
        bounded(flow)?;
        let name: String = user_name.trim().chars().take(MAX_INPUT).collect();
        // Only members sign in with a password (guests sign in at home or by passcode); the
        // failure budget belongs to the user, however the name was typed.
        let user = self
            .store
            .find_user(&name)
            .await?
            .filter(|u| u.user_type == consulate_core::directory::UserType::Member);
        let ident = match &user {
            Some(u) => format!("pwd:{}", u.id),
            None => format!("pwd:{}", name.to_lowercase()),
        };
        let now = self.clock.now();
        // Counted first: the failure is recorded before the password is looked at, and
        // taken back only when it turns out right.
        let mut tx = self.store.begin().await?;
        let (failures, last) = tx.failures_for_update(&ident).await?;
        if let Some(refusal) = gate(failures, last, now) {
            let event = self.sign_in_event(&name, &refusal, "signIn.password.refused");
            tx.commit(&[event]).await?;
            return Ok(refusal);
        }
        tx.record_failure(&ident, now).await?;
        let event = self.sign_in_event(&name, &PasswordOutcome::Refused, "signIn.password.attempt");
        tx.commit(&[event]).await?;

        let stored = match &user {
            Some(u) => self.store.password_hash(u.id).await?,
            None => None,
        };
        let right = password.len() <= 4 * MAX_INPUT
            && verify_password(stored, password.to_owned()).await
            && user.as_ref().is_some_and(|u| u.account_enabled);
        let mut tx = self.store.begin().await?;
        let Some(u) = user.filter(|_| right) else {
            let event =
                self.sign_in_event(&name, &PasswordOutcome::Refused, "signIn.password.failure");
            tx.commit(&[event]).await?;
            return Ok(PasswordOutcome::Refused);
        };
        tx.clear_failures(&ident).await?;
        let creds = tx.credentials_for_update(u.id).await?;
        let outcome = if creds.totp_enabled {
            let expires =
                now + jiff::SignedDuration::try_from(sign_in::MFA_CHALLENGE).unwrap_or_default();
            tx.insert_mfa_challenge(&hash(flow), u.id, now, expires)
                .await?;
            PasswordOutcome::SecondFactor
        } else {
            PasswordOutcome::SignedIn(
                self.open_session(
                    &mut tx,
                    (LOCAL_ISSUER, &u.id.to_string(), None),
                    "password",
                    now,
                    None,
                )
                .await?,
            )
        };
        let event = self.sign_in_event(&u.user_principal_name, &outcome, "signIn.password");
        tx.commit(&[event]).await?;
        Ok(outcome)
    }

    /// The second step: a TOTP code or a recovery code for the challenge of flow `flow`.
    pub async fn second_factor(
        &self,
        flow: &str,
        totp_code: Option<&str>,
        recovery_code: Option<&str>,
    ) -> ServiceResult<PasswordOutcome> {
        bounded(flow)?;
        let now = self.clock.now();
        let flow_hash = hash(flow);
        let mut tx = self.store.begin().await?;
        let Some(c) = tx.mfa_challenge_for_update(&flow_hash).await? else {
            drop(tx);
            // Not a member's challenge: perhaps a passcode sign-in's.
            return self.external_second_factor(&flow_hash, totp_code).await;
        };
        let u = tx.user(c.user_id).await?;
        // Failures count per user across challenges, before the code is compared, so new
        // challenges (a new password step each) do not reset the budget.
        let ident = format!("mfa:{}", c.user_id);
        let (failures, last) = tx.failures_for_update(&ident).await?;
        if let Some(refusal) = gate(failures, last, now) {
            let event = self.sign_in_event(&u.user_principal_name, &refusal, "signIn.mfa");
            tx.commit(&[event]).await?;
            return Ok(refusal);
        }
        let counted = tx
            .count_mfa_attempt(&flow_hash, now, sign_in::MAX_MFA_ATTEMPTS)
            .await?;
        if counted {
            tx.record_failure(&ident, now).await?;
        }
        let creds = tx.credentials_for_update(c.user_id).await?;
        let mut method = "password+totp";
        let right = counted
            && u.account_enabled
            && match (totp_code, recovery_code, creds.totp_secret.as_deref()) {
                (Some(code), _, Some(secret)) if code.len() <= 16 => {
                    match totp_step(secret, code, now) {
                        Some(step) => tx.use_totp_step(c.user_id, step).await?,
                        None => false,
                    }
                }
                (None, Some(code), _) if code.len() <= 64 => {
                    method = "password+recoveryCode";
                    tx.use_recovery_code(c.user_id, &recovery_hash(c.user_id, code), now)
                        .await?
                }
                _ => false,
            };
        let outcome = if right && tx.complete_mfa_challenge(&flow_hash, now).await? {
            tx.clear_failures(&ident).await?;
            PasswordOutcome::SignedIn(
                self.open_session(
                    &mut tx,
                    (LOCAL_ISSUER, &c.user_id.to_string(), None),
                    method,
                    now,
                    None,
                )
                .await?,
            )
        } else {
            PasswordOutcome::Refused
        };
        let event = self.sign_in_event(&u.user_principal_name, &outcome, "signIn.mfa");
        tx.commit(&[event]).await?;
        Ok(outcome)
    }

    /// Starts TOTP enrolment for the user signed in in this browser: a new secret, not yet
    /// required. Tokens cannot do this, and a registered authenticator is not replaced this
    /// way (an administrator removes it first), so a stolen session cannot swap the factor.
    pub async fn enroll_totp(&self, caller: &Caller) -> ServiceResult<TotpEnrollment> {
        let (user, upn) = signed_in(caller)?;
        if !matches!(caller.identity, CallerIdentity::User { token_id: None, .. }) {
            return Err(DomainError::forbidden(
                "an authenticator is registered in a browser session, not with a token",
            )
            .into());
        }
        let (secret, uri) = self.new_totp_secret(&upn).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if tx.credentials_for_update(user).await?.totp_enabled {
            return Err(DomainError::conflict(
                "an authenticator is registered already; an administrator removes it before a new one is registered",
            )
            .into());
        }
        tx.set_pending_totp(user, &secret, now).await?;
        let event = self.event(
            caller,
            Category::UserManagement,
            "Start authenticator enrolment",
            "user.mfa.enroll",
            target("user", user, Some(&upn)),
        );
        tx.commit(&[event]).await?;
        Ok(TotpEnrollment { uri, secret })
    }

    /// A new TOTP secret and its `otpauth://` URI, labelled with this tenant and `account`.
    pub(crate) async fn new_totp_secret(&self, account: &str) -> ServiceResult<(String, String)> {
        let mut bytes = [0u8; 20];
        rand::rng().fill_bytes(&mut bytes);
        let secret = totp_rs::Secret::Raw(bytes.to_vec())
            .to_encoded()
            .to_string();
        let issuer = self
            .tenant()
            .await?
            .map(|t| t.display_name)
            .unwrap_or_else(|| "Consulate".into());
        let enc = |s: &str| percent_encode(s);
        let uri = format!(
            "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={TOTP_STEP_SECONDS}",
            enc(&issuer),
            enc(account),
            enc(&issuer)
        );
        Ok((secret, uri))
    }

    /// Confirms enrolment with a current code: TOTP becomes required at sign-in, and ten
    /// recovery codes are returned (once; only their hashes are kept).
    pub async fn confirm_totp(&self, caller: &Caller, code: &str) -> ServiceResult<Vec<String>> {
        let (user, upn) = signed_in(caller)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let creds = tx.credentials_for_update(user).await?;
        let secret = creds
            .totp_pending_secret
            .ok_or_else(|| DomainError::conflict("start an enrolment first"))?;
        let step = totp_step(&secret, code, now).ok_or_else(|| {
            DomainError::invalid("code", "the code does not match; check the device's clock")
        })?;
        tx.enable_totp(user, step, now).await?;
        let codes: Vec<String> = (0..sign_in::RECOVERY_CODES)
            .map(|_| {
                let raw = random_secret("");
                let clean: String = raw
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .take(10)
                    .collect::<String>()
                    .to_ascii_lowercase();
                format!("{}-{}", &clean[..5], &clean[5..])
            })
            .collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(user, c)).collect();
        tx.replace_recovery_codes(user, &hashes).await?;
        let mut t = target("user", user, Some(&upn));
        t.modified_properties
            .push(prop("authenticator", None, Some("TOTP".into())));
        let event = self.event(
            caller,
            Category::UserManagement,
            "Register authenticator",
            "user.mfa.register",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(codes)
    }

    fn sign_in_event(
        &self,
        name: &str,
        outcome: &PasswordOutcome,
        op: &str,
    ) -> consulate_core::audit::AuditEvent {
        let (activity, result) = match outcome {
            PasswordOutcome::SignedIn(_) => ("Sign in with password", "signed in"),
            PasswordOutcome::SecondFactor => ("Sign in with password", "second factor needed"),
            PasswordOutcome::Refused if op == "signIn.password.attempt" => {
                ("Attempt sign-in with password", "checking")
            }
            PasswordOutcome::Refused => ("Refuse sign-in", "refused"),
            PasswordOutcome::Wait(_) => ("Refuse sign-in", "too soon after failures"),
            PasswordOutcome::Locked => ("Refuse sign-in: locked", "locked"),
        };
        let mut t = target("signIn", name, Some(name));
        t.modified_properties
            .push(prop("result", None, Some(result.into())));
        self.event(&Caller::system(), Category::UserManagement, activity, op, t)
    }
}

/// Refuses an attempt that comes too soon after failures, or while locked.
pub(crate) fn gate(
    failures: i64,
    last: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> Option<PasswordOutcome> {
    let since = last.map(|l| now.duration_since(l))?;
    match sign_in::delay_after_failures(failures) {
        None if since < jiff::SignedDuration::try_from(sign_in::LOCK_DURATION).ok()? => {
            Some(PasswordOutcome::Locked)
        }
        Some(d) if since < jiff::SignedDuration::try_from(d).ok()? => {
            let left = jiff::SignedDuration::try_from(d).ok()? - since;
            Some(PasswordOutcome::Wait(Duration::try_from(left).unwrap_or(d)))
        }
        _ => None,
    }
}

fn signed_in(caller: &Caller) -> ServiceResult<(Uuid, String)> {
    match &caller.identity {
        CallerIdentity::User {
            user_id,
            user_principal_name,
            ..
        } => Ok((*user_id, user_principal_name.clone())),
        _ => {
            Err(DomainError::invalid("caller", "sign in as a user of this directory first").into())
        }
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(Some(h.clone()), "correct horse battery".into()).await);
        assert!(!verify_password(Some(h), "wrong horse battery".into()).await);
        assert!(!verify_password(None, "not a password of anyone".into()).await);
    }

    #[test]
    fn totp_codes_match_their_step_and_neighbours() {
        let secret = totp_rs::Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        // RFC 6238 appendix B, SHA-1, time 59: 94287082 (8 digits); 6 digits: 287082.
        let t: jiff::Timestamp = jiff::Timestamp::from_second(59).unwrap();
        assert_eq!(totp_step(&secret, "287082", t), Some(1));
        let later = jiff::Timestamp::from_second(59 + 30).unwrap();
        assert_eq!(totp_step(&secret, "287082", later), Some(1));
        let much_later = jiff::Timestamp::from_second(59 + 90).unwrap();
        assert_eq!(totp_step(&secret, "287082", much_later), None);
        assert_eq!(totp_step(&secret, "000000", t), None);
    }

    #[test]
    fn recovery_codes_ignore_case_and_dashes() {
        let u = Uuid::nil();
        assert_eq!(
            recovery_hash(u, "abcde-12345"),
            recovery_hash(u, "ABCDE12345")
        );
        assert_ne!(
            recovery_hash(u, "abcde-12345"),
            recovery_hash(Uuid::max(), "abcde-12345")
        );
    }
}
