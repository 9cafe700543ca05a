//! Multi-factor sign-in for people from outside who sign in with an email one-time passcode.
//! A second factor (a TOTP authenticator app, RFC 6238) is asked for when a sign-in rule
//! requires MFA, when the person registered an authenticator before, or when they ask for it
//! (stepping up for a package whose rule needs it). The first time, the passcode sign-in
//! registers the app: the secret is shown once and the first right code confirms it. Each
//! challenge takes five codes at most, failures slow the principal down and then lock it, and
//! each time step works once. Federated users prove MFA at home (`amr`), not here.

use crate::local_accounts::{PasswordOutcome, TotpEnrollment, gate, totp_step};
use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::error::ObjectKind;
use consulate_core::sign_in::{self, EMAIL_OTP_ISSUER};
use consulate_core::sign_in_rules::{SignInMethod, Verdict};
use consulate_store::external_mfa::ExternalChallenge;
use std::time::Duration;

/// What a passcode sign-in leads to, decided from the rules before the code is checked.
#[derive(Debug, Clone)]
pub(crate) enum PasscodePlan {
    /// A session, with the cap the rules set.
    Open(Option<Duration>),
    /// A second factor first; then a session with this cap.
    SecondFactor(Option<Duration>),
    /// Refused, in plain words (MFA would not help).
    Refuse(String),
}

impl App {
    /// Decides what a right passcode for `email` leads to.
    pub(crate) async fn plan_passcode_sign_in(
        &self,
        email: &str,
        step_up: bool,
    ) -> ServiceResult<PasscodePlan> {
        let principal = (EMAIL_OTP_ISSUER, email);
        let method = SignInMethod::EmailOneTimePasscode;
        let with_mfa = self.judge_external(principal, method, true, None).await?;
        let Verdict::Allow { max_session } = with_mfa else {
            let Verdict::Refuse { reason, .. } = with_mfa else {
                unreachable!("a verdict allows or refuses")
            };
            return Ok(PasscodePlan::Refuse(reason));
        };
        let rules_need_mfa = matches!(
            self.judge_external(principal, method, false, None).await?,
            Verdict::Refuse { .. }
        );
        let registered = self
            .store
            .external_authenticator_registered(EMAIL_OTP_ISSUER, email)
            .await?;
        Ok(if rules_need_mfa || registered || step_up {
            PasscodePlan::SecondFactor(max_session)
        } else {
            PasscodePlan::Open(max_session)
        })
    }

    /// Opens the second-factor challenge of a passcode sign-in (in the transaction that
    /// consumed the code). Returns the authenticator to register when none is yet.
    pub(crate) async fn begin_passcode_second_factor(
        &self,
        tx: &mut consulate_store::WriteTx,
        flow_hash: &str,
        email: &str,
        cap: Option<Duration>,
        now: jiff::Timestamp,
    ) -> ServiceResult<Option<TotpEnrollment>> {
        let expires =
            now + jiff::SignedDuration::try_from(sign_in::MFA_CHALLENGE).unwrap_or_default();
        tx.insert_external_challenge(
            flow_hash,
            &ExternalChallenge {
                issuer: EMAIL_OTP_ISSUER.into(),
                subject: email.into(),
                email: Some(email.into()),
                session_cap_seconds: cap.map(|c| c.as_secs() as i64),
            },
            now,
            expires,
        )
        .await?;
        if tx
            .external_authenticator_for_update(EMAIL_OTP_ISSUER, email)
            .await?
            .enabled
        {
            return Ok(None);
        }
        // Not registered yet: a fresh secret for this sign-in (an earlier unconfirmed one
        // is replaced).
        let (secret, uri) = self.new_totp_secret(email).await?;
        tx.set_external_pending_totp((EMAIL_OTP_ISSUER, email), &secret, now)
            .await?;
        Ok(Some(TotpEnrollment { secret, uri }))
    }

    /// The second step of a passcode sign-in: a code from the authenticator app (registering
    /// it, the first time).
    pub(crate) async fn external_second_factor(
        &self,
        flow_hash: &str,
        code: Option<&str>,
    ) -> ServiceResult<PasswordOutcome> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let Some(c) = tx.external_challenge_for_update(flow_hash).await? else {
            return Ok(PasswordOutcome::Refused);
        };
        let principal = (c.issuer.as_str(), c.subject.as_str());
        let ident = format!("mfa:{}:{}", c.issuer, c.subject);
        let (failures, last) = tx.failures_for_update(&ident).await?;
        if let Some(refusal) = gate(failures, last, now) {
            let event = self.external_mfa_event(&c, "too soon after failures or locked");
            tx.commit(&[event]).await?;
            return Ok(refusal);
        }
        let counted = tx
            .count_external_challenge_attempt(flow_hash, now, sign_in::MAX_MFA_ATTEMPTS)
            .await?;
        if counted {
            tx.record_failure(&ident, now).await?;
        }
        let auth = tx
            .external_authenticator_for_update(principal.0, principal.1)
            .await?;
        let code = code.filter(|c| c.len() <= 16);
        let mut registered = false;
        let right = match (counted, code) {
            (true, Some(code)) if auth.enabled => {
                match auth.totp_secret.and_then(|s| totp_step(&s, code, now)) {
                    Some(step) => tx.use_external_totp_step(principal, step).await?,
                    None => false,
                }
            }
            (true, Some(code)) => {
                match auth
                    .totp_pending_secret
                    .and_then(|s| totp_step(&s, code, now))
                {
                    Some(step) => {
                        registered = tx.enable_external_totp(principal, step, now).await?;
                        registered
                    }
                    None => false,
                }
            }
            _ => false,
        };
        let mut events = Vec::new();
        let outcome = if right && tx.complete_external_challenge(flow_hash, now).await? {
            tx.clear_failures(&ident).await?;
            if registered {
                let mut t = target("externalPrincipal", &c.subject, c.email.as_deref());
                t.modified_properties
                    .push(prop("authenticator", None, Some("TOTP".into())));
                events.push(self.event(
                    &Caller::system(),
                    Category::UserManagement,
                    "Register authenticator",
                    "signIn.mfa.register",
                    t,
                ));
            }
            let cap = c
                .session_cap_seconds
                .map(|s| Duration::from_secs(s.max(0) as u64));
            let session = self
                .open_session(
                    &mut tx,
                    (&c.issuer, &c.subject, c.email.as_deref()),
                    "emailOtp+mfa",
                    now,
                    cap,
                )
                .await?;
            events.push(self.external_mfa_event(&c, "signed in"));
            PasswordOutcome::SignedIn(session)
        } else {
            events.push(self.external_mfa_event(&c, "wrong, used or expired code"));
            PasswordOutcome::Refused
        };
        tx.commit(&events).await?;
        Ok(outcome)
    }

    fn external_mfa_event(
        &self,
        c: &ExternalChallenge,
        result: &str,
    ) -> consulate_core::audit::AuditEvent {
        let mut t = target("externalPrincipal", &c.subject, c.email.as_deref());
        t.modified_properties
            .push(prop("result", None, Some(result.into())));
        let activity = if result == "signed in" {
            "Sign in with second factor"
        } else {
            "Refuse second factor"
        };
        self.event(
            &Caller::system(),
            Category::UserManagement,
            activity,
            "signIn.mfa.external",
            t,
        )
    }

    /// Removes the authenticator of someone who signs in by passcode (they lost the device);
    /// their next sign-in registers a new one. Administrators only.
    pub async fn reset_external_authenticator(
        &self,
        caller: &Caller,
        email: &str,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteUsers)?;
        let email = sign_in::email_identifier(email)?;
        let mut tx = self.store.begin().await?;
        if !tx
            .delete_external_authenticator(EMAIL_OTP_ISSUER, &email)
            .await?
        {
            return Err(DomainError::not_found(ObjectKind::Authenticator, email).into());
        }
        let event = self.event(
            caller,
            Category::UserManagement,
            "Reset authenticator",
            "signIn.mfa.reset",
            target("externalPrincipal", &email, Some(&email)),
        );
        tx.commit(&[event]).await?;
        Ok(())
    }
}
