//! Sign-in through a partner's identity provider: Consulate as an OpenID Connect relying
//! party. Authorization code flow with PKCE (S256); `state` and `nonce` bound to the browser's
//! sign-in flow and used once; the provider's metadata must name exactly the registered
//! issuer; ID tokens are checked for signature (keys from the provider's JWKS, fetched again
//! when an unknown key id appears), issuer, audience, expiry (two minutes of skew) and nonce;
//! a multi-tenant issuer signs in only the tenants allowed. The principal is (issuer,
//! subject), or (tenant, object id) for a multi-tenant issuer; the email claim never is.
//! When a member of the directory holds that identity, this is the member signing in at the
//! organization's own provider: a member's session, without the rules for people from
//! outside. A blocked user holding it is refused.

use crate::sign_in::{
    NewSession, SESSION_PREFIX, TENANT_SEPARATOR, bounded, csrf_token_of, hash, random_secret,
};
use crate::{App, ServiceResult, prop, target};
use base64::Engine as _;
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::Category;
use consulate_core::directory::UserType;
use consulate_core::identity_provider::ProviderKind;
use consulate_store::oidc::{OidcFlow, ProviderClient};
use consulate_store::sign_in::SessionRecord;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long an authorization request may take.
const FLOW_MINUTES: i64 = 10;
/// Clock skew allowed on token times.
const CLOCK_SKEW_SECONDS: u64 = 120;
/// How long provider metadata and keys are trusted before they are fetched again.
const CACHE_FOR: Duration = Duration::from_secs(3600);
/// Largest response read from a provider.
const MAX_RESPONSE: usize = 256 * 1024;
/// The session method of a member signed in at the organization's own provider.
const MEMBER_METHOD: &str = "memberOidc";
const MEMBER_METHOD_MFA: &str = "memberOidc+mfa";

#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: String,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    azp: Option<String>,
    tid: Option<String>,
    oid: Option<String>,
    email: Option<String>,
    /// Authentication methods; a second factor shows as `mfa` (or `otp`, `hwk`, …).
    #[serde(default)]
    amr: Vec<String>,
}

/// A principal signed in at a provider.
struct Federated {
    issuer: String,
    subject: String,
    email: Option<String>,
    mfa: bool,
}

/// Provider metadata and keys, kept for an hour.
#[derive(Default)]
pub(crate) struct OidcCache {
    metadata: Mutex<HashMap<String, (Metadata, Instant)>>,
    keys: Mutex<HashMap<String, (jsonwebtoken::jwk::JwkSet, Instant)>>,
    http: std::sync::OnceLock<reqwest::Client>,
}

impl OidcCache {
    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with the default TLS settings")
        })
    }
}

/// Why a sign-in through a provider failed: told to the person in one generic sentence,
/// recorded in full in the audit trail.
fn failed(why: impl Into<String>) -> DomainError {
    DomainError::Unauthenticated {
        message: format!("Sign-in through your organization failed: {}", why.into()),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `application/x-www-form-urlencoded` for client credentials: what it leaves alone
/// (letters, digits, `*-._`) stays readable to providers that compare without decoding.
fn form_encode(s: &str) -> String {
    const FORM: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'*')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_');
    percent_encoding::utf8_percent_encode(s, FORM).to_string()
}

/// A member's session after signing in at the organization's own provider: a member's
/// lifetime, and a method that is not one of the sign-in methods of people from outside (so
/// their rules do not apply again when the member requests access).
async fn open_member_session(
    tx: &mut consulate_store::WriteTx,
    p: &Federated,
    now: jiff::Timestamp,
) -> ServiceResult<NewSession> {
    let secret = random_secret(SESSION_PREFIX);
    let csrf_token = csrf_token_of(&secret);
    let life = consulate_core::sign_in::MEMBER_SESSION;
    let expires_at = now + jiff::SignedDuration::try_from(life.absolute).unwrap_or_default();
    tx.insert_session(&SessionRecord {
        id_hash: hash(&secret),
        issuer: p.issuer.clone(),
        subject: p.subject.clone(),
        email: p.email.clone(),
        method: if p.mfa {
            MEMBER_METHOD_MFA
        } else {
            MEMBER_METHOD
        }
        .to_owned(),
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

/// The issuer a registered provider must present.
fn expected_issuer(kind: &ProviderKind) -> String {
    match kind {
        ProviderKind::Federation { issuer_uri } => issuer_uri.clone(),
        ProviderKind::Tenant { tenant_id } => {
            format!("https://login.microsoftonline.com/{tenant_id}/v2.0")
        }
    }
}

impl App {
    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, DomainError> {
        let r = self
            .oidc
            .http()
            .get(url)
            .send()
            .await
            .map_err(|e| failed(format!("the provider could not be reached ({e})")))?;
        if !r.status().is_success() {
            return Err(failed(format!("the provider answered {}", r.status())));
        }
        let body = r
            .bytes()
            .await
            .map_err(|e| failed(format!("reading the provider's answer: {e}")))?;
        if body.len() > MAX_RESPONSE {
            return Err(failed("the provider's answer is too large"));
        }
        serde_json::from_slice(&body).map_err(|e| failed(format!("the provider's answer: {e}")))
    }

    /// The provider's metadata, checked to name exactly the expected issuer.
    async fn metadata(&self, issuer: &str) -> Result<Metadata, DomainError> {
        if let Some((m, at)) = self.oidc.metadata.lock().expect("oidc lock").get(issuer)
            && at.elapsed() < CACHE_FOR
        {
            return Ok(m.clone());
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let m: Metadata = self.get_json(&url).await?;
        if m.issuer != issuer {
            return Err(failed(format!(
                "the provider names itself '{}', not the registered issuer '{issuer}'",
                m.issuer
            )));
        }
        self.oidc
            .metadata
            .lock()
            .expect("oidc lock")
            .insert(issuer.to_owned(), (m.clone(), Instant::now()));
        Ok(m)
    }

    /// The key a token names, fetching the provider's keys again when it is unknown (the
    /// provider rotated them).
    async fn signing_key(
        &self,
        m: &Metadata,
        kid: Option<&str>,
    ) -> Result<jsonwebtoken::DecodingKey, DomainError> {
        let find = |set: &jsonwebtoken::jwk::JwkSet| {
            set.keys
                .iter()
                .find(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
                .cloned()
        };
        let cached = self
            .oidc
            .keys
            .lock()
            .expect("oidc lock")
            .get(&m.jwks_uri)
            .filter(|(_, at)| at.elapsed() < CACHE_FOR)
            .and_then(|(set, _)| find(set));
        let jwk = match cached {
            Some(k) => k,
            None => {
                let set: jsonwebtoken::jwk::JwkSet = self.get_json(&m.jwks_uri).await?;
                let k = find(&set);
                self.oidc
                    .keys
                    .lock()
                    .expect("oidc lock")
                    .insert(m.jwks_uri.clone(), (set, Instant::now()));
                k.ok_or_else(|| {
                    failed("the token is signed with a key the provider does not publish")
                })?
            }
        };
        jsonwebtoken::DecodingKey::from_jwk(&jwk)
            .map_err(|e| failed(format!("the provider's key: {e}")))
    }

    /// Registers Consulate as a client of an identity provider (administrators).
    pub async fn configure_provider_sign_in(
        &self,
        caller: &Caller,
        provider: Uuid,
        client: ProviderClient,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteConnectedOrganizations)?;
        let bad = |v: &str| v.trim().is_empty() || v.len() > 512 || v.chars().any(char::is_control);
        if bad(&client.client_id) || bad(&client.client_secret) {
            return Err(DomainError::invalid(
                "clientId",
                "clientId and clientSecret are 1 to 512 characters",
            )
            .into());
        }
        if client.allowed_tenants.len() > 100
            || client
                .allowed_tenants
                .iter()
                .any(|t| t.is_empty() || t.len() > 64 || t.contains(','))
        {
            return Err(DomainError::invalid("allowedTenantIds", "up to 100 tenant ids").into());
        }
        let p = self.provider(provider).await?;
        let mut tx = self.store.begin().await?;
        tx.save_provider_client(provider, &client, self.clock.now())
            .await?;
        let mut t = target("identityProvider", provider, Some(&p.display_name));
        t.modified_properties
            .push(prop("clientId", None, Some(client.client_id.clone())));
        t.modified_properties.push(prop(
            "allowedTenantIds",
            None,
            Some(client.allowed_tenants.join(",")),
        ));
        let event = self.event(
            caller,
            Category::DirectoryManagement,
            "Configure identity provider sign-in",
            "identityProvider.signIn",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    async fn provider(
        &self,
        id: Uuid,
    ) -> ServiceResult<consulate_core::identity_provider::KnownIdentityProvider> {
        self.store
            .identity_providers()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| {
                DomainError::not_found(
                    consulate_core::error::ObjectKind::DirectoryObject,
                    format!("identity provider {id}"),
                )
                .into()
            })
    }

    /// Starts sign-in at a provider for browser flow `flow`: returns where to send the
    /// browser. `callback` is Consulate's redirect URI, as registered at the provider.
    pub async fn oidc_start(
        &self,
        flow: &str,
        provider: Uuid,
        callback: &str,
        return_to: &str,
        login_hint: Option<&str>,
    ) -> ServiceResult<String> {
        bounded(flow)?;
        let p = self.provider(provider).await?;
        let client = self
            .store
            .provider_client(provider)
            .await?
            .ok_or_else(|| failed("sign-in is not set up for this organization"))?;
        let m = self.metadata(&expected_issuer(&p.kind)).await?;
        let state = random_secret("");
        let nonce = random_secret("");
        let verifier = random_secret("");
        let challenge = b64(&Sha256::digest(verifier.as_bytes()));
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.insert_oidc_flow(
            &hash(&state),
            &hash(flow),
            &OidcFlow {
                provider_id: provider,
                nonce: nonce.clone(),
                code_verifier: verifier,
                return_to: consulate_core::sign_in::safe_redirect(return_to).to_owned(),
            },
            now,
            now + jiff::SignedDuration::from_mins(FLOW_MINUTES),
        )
        .await?;
        let event = self.event(
            &Caller::system(),
            Category::UserManagement,
            "Start sign-in at identity provider",
            "signIn.oidc.start",
            target("identityProvider", provider, Some(&p.display_name)),
        );
        tx.commit(&[event]).await?;
        let mut url = format!(
            "{}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            m.authorization_endpoint,
            enc(&client.client_id),
            enc(callback),
            enc("openid email profile"),
            enc(&state),
            enc(&nonce),
            enc(&challenge)
        );
        if let Some(h) = login_hint.filter(|h| !h.is_empty() && h.len() <= 256) {
            url.push_str(&format!("&login_hint={}", enc(h)));
        }
        Ok(url)
    }

    /// Finishes sign-in at the callback: the state must be this browser's and unused, the
    /// code is exchanged with the PKCE verifier, the ID token checked. Returns the session
    /// and where to go.
    pub async fn oidc_callback(
        &self,
        flow: &str,
        callback: &str,
        state: &str,
        code: &str,
        iss: Option<&str>,
    ) -> ServiceResult<(NewSession, String)> {
        bounded(flow)?;
        bounded(state)?;
        if code.is_empty() || code.len() > 2048 {
            return Err(failed("the provider sent no usable code").into());
        }
        let now = self.clock.now();
        // The request is taken (used up) whatever happens next.
        let mut tx = self.store.begin().await?;
        let taken = tx.take_oidc_flow(&hash(state), &hash(flow), now).await?;
        let event = self.event(
            &Caller::system(),
            Category::UserManagement,
            if taken.is_some() {
                "Return from identity provider"
            } else {
                "Refuse sign-in: unknown, reused or foreign state"
            },
            "signIn.oidc.callback",
            target("signIn", "oidc", None),
        );
        tx.commit(&[event]).await?;
        let f = taken.ok_or_else(|| {
            failed("this sign-in was not started here, or was already used; start again")
        })?;
        let mut outcome = self.finish_oidc(&f, callback, code, iss).await;
        // Who holds the identity, the sign-in rules and the domain list, decided before the
        // transaction. A member signing in at the organization's own provider is no one from
        // outside: the rules for people from outside do not apply. A blocked user does not
        // sign in.
        let mut cap = None;
        let mut member = false;
        if let Ok(p) = &outcome {
            let holder = self.store.user_by_identity(&p.issuer, &p.subject).await?;
            match holder {
                Some(u) if !u.account_enabled => {
                    outcome = Err(failed("the account is blocked"));
                }
                Some(u) if u.user_type == UserType::Member => member = true,
                _ => {
                    let method = consulate_core::sign_in_rules::SignInMethod::IdentityProvider;
                    match self
                        .judge_external((&p.issuer, &p.subject), method, p.mfa, None)
                        .await?
                    {
                        consulate_core::sign_in_rules::Verdict::Allow { max_session } => {
                            cap = max_session
                        }
                        consulate_core::sign_in_rules::Verdict::Refuse { reason, .. } => {
                            outcome = Err(DomainError::forbidden(reason));
                        }
                    }
                }
            }
        }
        let mut tx = self.store.begin().await?;
        let mut t = target("identityProvider", f.provider_id, None);
        let result = match outcome {
            Ok(p) => {
                t.modified_properties.push(prop(
                    "principal",
                    None,
                    Some(format!("{} {}", p.issuer, p.subject)),
                ));
                if let Some(e) = &p.email {
                    t.modified_properties
                        .push(prop("asserted email", None, Some(e.clone())));
                }
                let session = if member {
                    t.modified_properties
                        .push(prop("userType", None, Some("Member".into())));
                    open_member_session(&mut tx, &p, now).await?
                } else {
                    let method = if p.mfa { "oidc+mfa" } else { "oidc" };
                    self.open_session(
                        &mut tx,
                        (&p.issuer, &p.subject, p.email.as_deref()),
                        method,
                        now,
                        cap,
                    )
                    .await?
                };
                Ok((session, f.return_to.clone()))
            }
            Err(e) => {
                t.modified_properties
                    .push(prop("result", None, Some(e.to_string())));
                Err(e)
            }
        };
        let event = self.event(
            &Caller::system(),
            Category::UserManagement,
            if result.is_ok() {
                "Sign in through identity provider"
            } else {
                "Refuse sign-in through identity provider"
            },
            "signIn.oidc",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(result?)
    }

    /// Exchanges the code and checks the ID token; returns the principal (issuer key,
    /// subject) and the email the provider asserted (for display only).
    async fn finish_oidc(
        &self,
        f: &OidcFlow,
        callback: &str,
        code: &str,
        iss: Option<&str>,
    ) -> Result<Federated, DomainError> {
        let p = self
            .provider(f.provider_id)
            .await
            .map_err(|_| failed("the provider was removed"))?;
        let client = self
            .store
            .provider_client(f.provider_id)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| failed("sign-in is not set up for this organization"))?;
        let issuer = expected_issuer(&p.kind);
        // RFC 9207: an authorization response naming another issuer is a mix-up.
        if iss.is_some_and(|i| i != issuer) {
            return Err(failed("the answer came from another issuer"));
        }
        let m = self.metadata(&issuer).await?;
        let r = self
            .oidc
            .http()
            .post(&m.token_endpoint)
            // RFC 6749 §2.3.1: both are form-urlencoded before they go into Basic.
            .basic_auth(
                form_encode(&client.client_id),
                Some(form_encode(&client.client_secret)),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}",
                enc(code),
                enc(callback),
                enc(&f.code_verifier)
            ))
            .send()
            .await
            .map_err(|e| failed(format!("the provider could not be reached ({e})")))?;
        if !r.status().is_success() {
            return Err(failed(format!(
                "the provider refused the code ({})",
                r.status()
            )));
        }
        let body = r.bytes().await.map_err(|e| failed(e.to_string()))?;
        if body.len() > MAX_RESPONSE {
            return Err(failed("the provider's answer is too large"));
        }
        let tokens: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| failed(format!("the token answer: {e}")))?;
        let header = jsonwebtoken::decode_header(&tokens.id_token)
            .map_err(|e| failed(format!("the ID token: {e}")))?;
        use jsonwebtoken::Algorithm::*;
        if !matches!(
            header.alg,
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | ES256 | ES384 | EdDSA
        ) {
            return Err(failed(
                "the ID token is not signed with a public-key algorithm",
            ));
        }
        let key = self.signing_key(&m, header.kid.as_deref()).await?;
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.set_issuer(&[issuer.as_str()]);
        v.set_audience(&[client.client_id.as_str()]);
        v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        v.leeway = CLOCK_SKEW_SECONDS;
        let claims = jsonwebtoken::decode::<IdClaims>(&tokens.id_token, &key, &v)
            .map_err(|e| failed(format!("the ID token does not verify: {e}")))?
            .claims;
        if claims.nonce.as_deref() != Some(f.nonce.as_str()) {
            return Err(failed("the ID token answers another sign-in (nonce)"));
        }
        if claims.azp.as_deref().is_some_and(|a| a != client.client_id) {
            return Err(failed("the ID token was issued to another client"));
        }
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(failed("the ID token has no usable subject"));
        }
        // RFC 8176: `mfa` is the provider saying a second factor was used; single methods
        // (`otp`, `sms`, …) alone may be one factor.
        let mfa = claims.amr.iter().any(|m| m == "mfa");
        // A tenant registered as such: its users are (tenant, object id), as everywhere.
        if let (true, ProviderKind::Tenant { tenant_id }) =
            (client.allowed_tenants.is_empty(), &p.kind)
        {
            let object = claims
                .oid
                .filter(|o| !o.is_empty() && o.len() <= 255)
                .ok_or_else(|| failed("the ID token names no object id"))?;
            return Ok(Federated {
                issuer: format!("{issuer}{TENANT_SEPARATOR}{tenant_id}"),
                subject: object,
                email: claims.email,
                mfa,
            });
        }
        if client.allowed_tenants.is_empty() {
            return Ok(Federated {
                issuer,
                subject: claims.sub,
                email: claims.email,
                mfa,
            });
        }
        let tenant = claims
            .tid
            .ok_or_else(|| failed("the ID token names no tenant"))?;
        if !client
            .allowed_tenants
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&tenant))
        {
            return Err(failed(format!("tenant {tenant} may not sign in here")));
        }
        let object = claims
            .oid
            .filter(|o| !o.is_empty() && o.len() <= 255)
            .ok_or_else(|| failed("the ID token names no object id"))?;
        Ok(Federated {
            issuer: format!("{issuer}{TENANT_SEPARATOR}{tenant}"),
            subject: object,
            email: claims.email,
            mfa,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_credentials_are_form_encoded() {
        assert_eq!(
            form_encode("consulate-client_1.x*"),
            "consulate-client_1.x*"
        );
        assert_eq!(form_encode("a:b c/+"), "a%3Ab%20c%2F%2B");
    }
}
