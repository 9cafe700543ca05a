-- An authenticator app registered by someone from outside who signs in with an email
-- one-time passcode, keyed by the principal (issuer, subject): the second factor that sign-in
-- rules requiring MFA ask of them. And the second-factor challenges of their half-finished
-- sign-ins, which remember the session cap the rules set.

CREATE TABLE external_authenticators (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    totp_secret TEXT,
    totp_pending_secret TEXT,
    totp_enabled_at BIGINT,
    totp_last_step BIGINT,
    modified_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE TABLE external_mfa_challenges (
    flow_hash TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    session_cap_seconds BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    completed_at BIGINT
);
