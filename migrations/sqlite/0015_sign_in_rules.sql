-- Rules for people from outside: sign-in rules (targets, MFA, allowed methods, session
-- cap) and the one list of domains that may (or may not) collaborate at all.

CREATE TABLE sign_in_rules (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('allExternalUsers', 'connectedOrganizations', 'accessPackages')),
    target_ids TEXT NOT NULL,
    require_mfa BOOLEAN NOT NULL,
    allowed_methods TEXT NOT NULL,
    max_session_seconds BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE collaboration_domains (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mode TEXT NOT NULL CHECK (mode IN ('any', 'allowOnly', 'deny')),
    domains TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
INSERT INTO collaboration_domains (id, mode, domains, modified_at) VALUES (1, 'any', '', 0);
