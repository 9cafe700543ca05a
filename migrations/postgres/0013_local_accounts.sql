-- (PostgreSQL) Local sign-in for members and administrators: an argon2id password, an optional TOTP
-- second factor (with the last time step used, so a code works once) and single-use recovery
-- codes (hashed), and the second-factor challenges of half-finished sign-ins.

CREATE TABLE user_credentials (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT,
    password_changed_at BIGINT,
    totp_secret TEXT,
    totp_pending_secret TEXT,
    totp_enabled_at BIGINT,
    totp_last_step BIGINT,
    modified_at BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE mfa_challenges (
    flow_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    completed_at BIGINT
);
