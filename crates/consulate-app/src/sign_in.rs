//! Sign-in for people from outside, by email one-time passcode, and the sessions that turn a
//! cookie into a caller. A code is issued for one sign-in flow (the pre-sign-in cookie), stored
//! hashed, counted before it is compared, and used once; the answer to "send me a code" is the
//! same whether or not the address may sign in. Identity is (issuer, subject): for a passcode
//! the subject is the address the server proved control of.

use crate::external_mfa::PasscodePlan;
use crate::{App, ServiceResult, prop, target};
use base64::Engine as _;
use consulate_core::DomainError;
use consulate_core::access::{Caller, CallerIdentity, Scope};
use consulate_core::audit::Category;
use consulate_core::eligibility::{Requestor, RequestorKind, RequestorOrganization};
use consulate_core::matching::SignInPath;
use consulate_core::sign_in::{self, EMAIL_OTP_ISSUER, EXTERNAL_SESSION};
use consulate_core::sign_in_rules::SignInMethod;
use consulate_store::sign_in::{OtpCode, SessionRecord};
use rand::{Rng as _, RngCore as _};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;
use subtle::ConstantTimeEq as _;

/// Prefix of session ids (so leaked ones are recognisable).
pub const SESSION_PREFIX: &str = "css_";
/// Longest flow or session secret accepted before any lookup.
const MAX_SECRET_LEN: usize = 128;
/// How a code check ended, as the person may be told.
#[derive(Debug)]
pub enum OtpOutcome {
    SignedIn(NewSession),
    /// Wrong, expired, used or over its attempts: one generic answer.
    Refused,
    /// Too many failures lately: try again after this long.
    Wait(Duration),
    /// Too many failures: locked for a day (or until an administrator resets it).
    Locked,
    /// The code was right, but a sign-in rule or the domain list refuses: why, in plain words.
    Blocked(String),
    /// The code was right; a code from an authenticator app is needed next, in this same
    /// flow. The first time, the app to register (shown once).
    SecondFactor(Option<crate::local_accounts::TotpEnrollment>),
}

/// A session just created: the cookie value and the CSRF token, shown once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub csrf_token: String,
    pub expires_at: jiff::Timestamp,
}

/// How a session of someone from outside was signed in (none for local sign-ins).
fn outside_context(s: &SessionRecord) -> Option<consulate_core::access::SignInContext> {
    let (method, mfa) = match s.method.as_str() {
        "emailOtp" => (SignInMethod::EmailOneTimePasscode, false),
        "emailOtp+mfa" => (SignInMethod::EmailOneTimePasscode, true),
        "oidc" => (SignInMethod::IdentityProvider, false),
        "oidc+mfa" => (SignInMethod::IdentityProvider, true),
        _ => return None,
    };
    Some(consulate_core::access::SignInContext {
        method,
        mfa,
        issuer: s.issuer.clone(),
        subject: s.subject.clone(),
    })
}

/// Separates a multi-tenant issuer from the tenant in a principal's issuer key.
pub const TENANT_SEPARATOR: &str = "#tid=";

/// How a principal from outside signed in, for connected-organization matching: by passcode
/// (the proven address), at a tenant of a multi-tenant issuer (tenant id, object id), or at a
/// federated provider (issuer, subject). Never by an email claim.
pub fn external_sign_in_path(issuer: &str, subject: &str) -> SignInPath {
    if issuer == EMAIL_OTP_ISSUER {
        return SignInPath::EmailOneTimePasscode {
            email: subject.to_owned(),
        };
    }
    match issuer.split_once(TENANT_SEPARATOR) {
        Some((_, tenant)) => SignInPath::Tenant {
            tenant_id: tenant.to_owned(),
            object_id: subject.to_owned(),
        },
        None => SignInPath::Federated {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
        },
    }
}

/// A random 256-bit secret, URL-safe.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A session's CSRF token: derived from the session id, so pages can show it again, and
/// useless without the cookie.
pub fn csrf_token_of(session_secret: &str) -> String {
    hash(&format!("csrf:{session_secret}"))
}

pub(crate) fn hash(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A code's hash, salted with the code's own id.
fn code_hash(id: uuid::Uuid, code: &str) -> String {
    hash(&format!("{id}:{code}"))
}

pub(crate) fn bounded(secret: &str) -> ServiceResult<()> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(DomainError::Unauthenticated {
            message: "The sign-in session is missing or has expired.".into(),
        }
        .into());
    }
    Ok(())
}

fn otp_identifier(email: &str) -> String {
    format!("otp:{email}")
}

impl App {
    /// Whether an address may sign in with a passcode: its domain is not this tenant's nor
    /// claimed by a known identity provider, and it could request something (or already
    /// holds a guest account).
    async fn passcode_allowed(&self, email: &str) -> ServiceResult<bool> {
        let domain = email.rsplit('@').next().unwrap_or_default();
        let (_, lookup) = match self.lookup_domain(&Caller::system(), domain).await {
            Ok(found) => found,
            Err(_) => return Ok(false),
        };
        if lookup != crate::identity_providers::DomainLookup::OneTimePasscode {
            return Ok(false);
        }
        if self
            .store
            .user_by_identity(EMAIL_OTP_ISSUER, email)
            .await?
            .is_some()
        {
            return Ok(true);
        }
        let requestor = self.external_requestor(EMAIL_OTP_ISSUER, email).await?;
        Ok(!self
            .eligibility_index()
            .await?
            .requestable(&requestor, false)
            .is_empty())
    }

    /// The eligibility view of someone signed in from outside as (issuer, subject), with no
    /// directory user yet.
    pub(crate) async fn external_requestor(
        &self,
        issuer: &str,
        subject: &str,
    ) -> ServiceResult<Requestor> {
        // People signed in at a social provider are individuals: no organization.
        let social = issuer != EMAIL_OTP_ISSUER && self.store.is_social_issuer(issuer).await?;
        let organization = if social {
            None
        } else {
            self.match_principal(&external_sign_in_path(issuer, subject))
                .await?
                .map(|m| RequestorOrganization {
                    id: m.organization_id,
                    state: m.state,
                })
        };
        Ok(Requestor {
            kind: RequestorKind::External,
            user_id: None,
            groups: HashSet::new(),
            organization,
            held_packages: HashSet::new(),
        })
    }

    /// Issues a passcode for `email` in sign-in flow `flow` and mails it (in the background,
    /// so the answer takes as long whatever happens). Addresses that may not sign in, and
    /// addresses over their daily limit, get a code that is never sent and never matches.
    pub async fn start_email_otp(&self, flow: &str, email: &str) -> ServiceResult<()> {
        bounded(flow)?;
        let email = sign_in::email_identifier(email)?;
        let allowed = self.passcode_allowed(&email).await? && self.domain_admitted(&email).await?;
        let now = self.clock.now();
        let digits = self.otp.digits;
        let code: String = {
            let mut rng = rand::rng();
            (0..digits)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect()
        };
        let id = self.ids.new_id();
        let validity = jiff::SignedDuration::try_from(self.otp.validity).unwrap_or_default();
        let mut tx = self.store.begin().await?;
        // The address's row serializes issuing, so a burst cannot pass the daily limit.
        tx.failures_for_update(&otp_identifier(&email)).await?;
        let issued = tx
            .codes_issued_since(&email, now - jiff::SignedDuration::from_hours(24))
            .await?;
        let capped = issued >= sign_in::MAX_CODES_PER_DAY;
        let deliverable = allowed && !capped;
        tx.insert_code(
            &OtpCode {
                id,
                email: email.clone(),
                code_hash: code_hash(id, &code),
                deliverable,
                created_at: now,
                expires_at: now + validity,
                attempts: 0,
                consumed_at: None,
            },
            &hash(flow),
        )
        .await?;
        let mut t = target("emailOneTimePasscode", id, Some(&email));
        t.modified_properties.push(prop(
            "delivery",
            None,
            Some(
                if capped {
                    "not sent: daily limit reached"
                } else if allowed {
                    "sent"
                } else {
                    "not sent: this address may not sign in with a passcode"
                }
                .into(),
            ),
        ));
        let event = self.event(
            &Caller::system(),
            Category::UserManagement,
            "Issue email one-time passcode",
            "signIn.otp.issue",
            t,
        );
        tx.commit(&[event]).await?;
        if deliverable {
            let mailer = self.mailer.clone();
            let minutes = self.otp.validity.as_secs().div_ceil(60);
            tokio::spawn(async move {
                let text = format!(
                    "Your sign-in code is {code}\n\nIt works once, for {minutes} minutes. If you did not ask for it, ignore this message.\n"
                );
                if let Err(e) = mailer.send(&email, "Your sign-in code", &text).await {
                    tracing::warn!(error = %e, "could not send a sign-in code");
                }
            });
        }
        Ok(())
    }

    /// Checks a passcode submitted in sign-in flow `flow`. At most five submissions per code
    /// are compared, even when they arrive at once; failures slow the address down and, after
    /// a hundred in a row, lock it for a day.
    /// With `step_up`, a second factor is asked for even when no rule needs it yet (a
    /// package's rule will).
    pub async fn verify_email_otp(
        &self,
        flow: &str,
        code: &str,
        step_up: bool,
    ) -> ServiceResult<OtpOutcome> {
        bounded(flow)?;
        let now = self.clock.now();
        let presented: String = code.trim().chars().take(16).collect();
        // The rules for this address, decided before the transaction (they read the store).
        let judged_email = self.store.code_email_of_flow(&hash(flow)).await?;
        let plan = match &judged_email {
            Some(email) => Some(self.plan_passcode_sign_in(email, step_up).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        let Some(stored) = tx.latest_code_of_flow(&hash(flow)).await? else {
            return Ok(OtpOutcome::Refused);
        };
        let ident = otp_identifier(&stored.email);
        let (failures, last) = tx.failures_for_update(&ident).await?;
        let since_last = last.map(|l| now.duration_since(l));
        let mut t = target("emailOneTimePasscode", stored.id, Some(&stored.email));
        let refuse = |t: &mut consulate_core::audit::TargetResource, why: &str| {
            t.modified_properties
                .push(prop("result", None, Some(why.to_owned())));
        };
        let outcome = match sign_in::delay_after_failures(failures) {
            None if since_last.is_some_and(|s| {
                s < jiff::SignedDuration::try_from(sign_in::LOCK_DURATION).unwrap_or_default()
            }) =>
            {
                refuse(&mut t, "locked after too many failures");
                OtpOutcome::Locked
            }
            Some(delay)
                if since_last.is_some_and(|s| {
                    s < jiff::SignedDuration::try_from(delay).unwrap_or_default()
                }) =>
            {
                let wait = jiff::SignedDuration::try_from(delay).unwrap_or_default()
                    - since_last.unwrap_or_default();
                refuse(&mut t, "too soon after a failure");
                OtpOutcome::Wait(Duration::try_from(wait).unwrap_or(delay))
            }
            _ => {
                if failures >= sign_in::MAX_CONSECUTIVE_FAILURES {
                    tx.clear_failures(&ident).await?; // the lock has run out
                }
                if !tx
                    .count_code_attempt(stored.id, now, sign_in::MAX_ATTEMPTS_PER_CODE)
                    .await?
                {
                    refuse(&mut t, "the code is used, expired or out of attempts");
                    OtpOutcome::Refused
                } else {
                    let matches: bool = code_hash(stored.id, &presented)
                        .as_bytes()
                        .ct_eq(stored.code_hash.as_bytes())
                        .into();
                    if !(matches && stored.deliverable) {
                        tx.record_failure(&ident, now).await?;
                        refuse(&mut t, "wrong code");
                        OtpOutcome::Refused
                    } else if !tx.consume_code(stored.id, now).await? {
                        refuse(&mut t, "the code is used");
                        OtpOutcome::Refused
                    } else if judged_email.as_deref() != Some(stored.email.as_str()) {
                        // A newer code for another address arrived meanwhile: start again.
                        refuse(&mut t, "the sign-in changed while it was checked");
                        OtpOutcome::Refused
                    } else {
                        tx.clear_failures(&ident).await?;
                        match plan {
                            Some(PasscodePlan::Refuse(reason)) => {
                                refuse(&mut t, &format!("refused by a sign-in rule: {reason}"));
                                OtpOutcome::Blocked(reason)
                            }
                            Some(PasscodePlan::SecondFactor(cap)) => {
                                let enrollment = self
                                    .begin_passcode_second_factor(
                                        &mut tx,
                                        &hash(flow),
                                        &stored.email,
                                        cap,
                                        now,
                                    )
                                    .await?;
                                t.modified_properties.push(prop(
                                    "result",
                                    None,
                                    Some("second factor needed".into()),
                                ));
                                OtpOutcome::SecondFactor(enrollment)
                            }
                            None => {
                                refuse(&mut t, "the sign-in changed while it was checked");
                                OtpOutcome::Refused
                            }
                            Some(PasscodePlan::Open(cap)) => {
                                let session = self
                                    .open_session(
                                        &mut tx,
                                        (EMAIL_OTP_ISSUER, &stored.email, Some(&stored.email)),
                                        "emailOtp",
                                        now,
                                        cap,
                                    )
                                    .await?;
                                t.modified_properties.push(prop(
                                    "result",
                                    None,
                                    Some("signed in".into()),
                                ));
                                OtpOutcome::SignedIn(session)
                            }
                        }
                    }
                }
            }
        };
        let (name, op) = match outcome {
            OtpOutcome::SignedIn(_) => ("Sign in with email one-time passcode", "signIn.otp"),
            OtpOutcome::SecondFactor(_) => (
                "Check email one-time passcode: second factor needed",
                "signIn.otp.secondFactor",
            ),
            OtpOutcome::Locked => ("Refuse sign-in: locked", "signIn.otp.locked"),
            _ => (
                "Refuse sign-in with email one-time passcode",
                "signIn.otp.failure",
            ),
        };
        let event = self.event(&Caller::system(), Category::UserManagement, name, op, t);
        tx.commit(&[event]).await?;
        Ok(outcome)
    }

    /// Starts a session for (issuer, subject). `email` is an address for display and
    /// contact: proven only for passcode sign-ins, never used to identify or match anyone.
    pub(crate) async fn open_session(
        &self,
        tx: &mut consulate_store::WriteTx,
        (issuer, subject, email): (&str, &str, Option<&str>),
        method: &str,
        now: jiff::Timestamp,
        cap: Option<Duration>,
    ) -> ServiceResult<NewSession> {
        let secret = random_secret(SESSION_PREFIX);
        let csrf_token = csrf_token_of(&secret);
        let life = if issuer == sign_in::LOCAL_ISSUER {
            sign_in::MEMBER_SESSION
        } else {
            EXTERNAL_SESSION
        };
        let absolute = cap.map_or(life.absolute, |c| c.min(life.absolute));
        let expires_at = now + jiff::SignedDuration::try_from(absolute).unwrap_or_default();
        tx.insert_session(&SessionRecord {
            id_hash: hash(&secret),
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            email: email.map(str::to_owned),
            method: method.to_owned(),
            csrf_hash: hash(&csrf_token),
            created_at: now,
            last_seen_at: now,
            idle_seconds: life.idle.as_secs() as i64,
            expires_at,
            revoked_at: None,
        })
        .await?;
        Ok(NewSession {
            secret,
            csrf_token,
            expires_at,
        })
    }

    /// The caller a session cookie stands for: the directory user holding the session's
    /// identity (refused when blocked), or the outside principal itself. Checked on every
    /// request, so sign-out, revocation, blocking and deletion apply at once.
    pub async fn session_caller(&self, secret: &str) -> ServiceResult<(Caller, SessionRecord)> {
        let refuse = || DomainError::Unauthenticated {
            message: "The sign-in session is missing, has expired or was ended.".into(),
        };
        bounded(secret)?;
        if !secret.starts_with(SESSION_PREFIX) {
            return Err(refuse().into());
        }
        let now = self.clock.now();
        let s = self
            .store
            .session(&hash(secret))
            .await?
            .ok_or_else(refuse)?;
        let idle_end = s.last_seen_at + jiff::SignedDuration::from_secs(s.idle_seconds);
        if s.revoked_at.is_some() || s.expires_at <= now || idle_end <= now {
            return Err(refuse().into());
        }
        let user = if s.issuer == sign_in::LOCAL_ISSUER {
            let id = uuid::Uuid::parse_str(&s.subject).map_err(|_| refuse())?;
            self.store.users_by_ids(&[id]).await?.into_iter().next()
        } else {
            self.store.user_by_identity(&s.issuer, &s.subject).await?
        };
        let caller = match user {
            Some(u) if !u.account_enabled => return Err(refuse().into()),
            // A local session whose user is gone ends with it.
            None if s.issuer == sign_in::LOCAL_ISSUER => return Err(refuse().into()),
            Some(u) => Caller {
                identity: CallerIdentity::User {
                    user_id: u.id,
                    user_principal_name: u.user_principal_name.clone(),
                    token_id: None,
                },
                scopes: Scope::ALL.into_iter().collect(),
                roles: self.store.user_roles(u.id).await?,
                catalog_roles: self.store.catalog_roles_of(u.id).await?,
                // Members are not people from outside, however the session began.
                sign_in: (u.user_type != consulate_core::directory::UserType::Member)
                    .then(|| outside_context(&s))
                    .flatten(),
            },
            None => Caller {
                identity: CallerIdentity::External {
                    issuer: s.issuer.clone(),
                    subject: s.subject.clone(),
                    email: s.email.clone(),
                },
                scopes: BTreeSet::from([Scope::EntitlementManagementReadWriteAll]),
                roles: BTreeSet::new(),
                catalog_roles: BTreeSet::new(),
                sign_in: outside_context(&s),
            },
        };
        if now.duration_since(s.last_seen_at).as_secs() >= 60
            && let Err(e) = self.store.touch_session(&s.id_hash, now).await
        {
            tracing::warn!(error = %e, "could not record session use");
        }
        Ok((caller, s))
    }

    /// Whether a presented CSRF token is the session's.
    pub fn csrf_matches(session: &SessionRecord, presented: &str) -> bool {
        !presented.is_empty()
            && presented.len() <= MAX_SECRET_LEN
            && bool::from(
                hash(presented)
                    .as_bytes()
                    .ct_eq(session.csrf_hash.as_bytes()),
            )
    }

    /// Ends a session (sign-out).
    pub async fn sign_out(&self, secret: &str) -> ServiceResult<()> {
        bounded(secret)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !tx.revoke_session(&hash(secret), now).await? {
            return Ok(());
        }
        let event = self.event(
            &Caller::system(),
            Category::UserManagement,
            "Sign out",
            "signIn.signOut",
            target("session", &hash(secret)[..16], None),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_bounded() {
        let a = random_secret(SESSION_PREFIX);
        let b = random_secret(SESSION_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with(SESSION_PREFIX) && a.len() <= MAX_SECRET_LEN);
        assert_ne!(
            code_hash(uuid::Uuid::nil(), "1"),
            code_hash(uuid::Uuid::max(), "1")
        );
    }
}
