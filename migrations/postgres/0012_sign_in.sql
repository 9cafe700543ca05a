-- (PostgreSQL) Sign-in: email one-time passcodes (stored hashed, bound to the sign-in flow that asked
-- for them, counted before compared), consecutive failures per identifier, and sessions
-- (stored hashed, with idle and absolute lifetimes).

CREATE TABLE otp_codes (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    flow_hash TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    deliverable BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX otp_codes_email ON otp_codes (email, created_at);
CREATE INDEX otp_codes_flow ON otp_codes (flow_hash, created_at);

CREATE TABLE sign_in_failures (
    identifier TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    method TEXT NOT NULL,
    csrf_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    idle_seconds BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_principal ON sessions (issuer, subject);
