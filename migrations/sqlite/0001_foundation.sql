-- Foundation (SQLite). Tables keyed by text ids are WITHOUT ROWID, so rows are stored in key
-- order and id-ordered scans read sequentially.
-- Foundation: tenant, directory, connected organizations, identity-provider registry,
-- API tokens, hash-chained audit and the outbox. Times are microseconds since the Unix
-- epoch (UTC) in BIGINT columns; ids are lowercase hyphenated UUID text.

CREATE TABLE tenant (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE tenant_domains (
    domain TEXT PRIMARY KEY,
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    display_name_fold TEXT NOT NULL,
    given_name TEXT,
    surname TEXT,
    mail TEXT,
    mail_fold TEXT,
    user_principal_name TEXT NOT NULL,
    upn_fold TEXT NOT NULL UNIQUE,
    user_type TEXT NOT NULL CHECK (user_type IN ('Member', 'Guest')),
    account_enabled BOOLEAN NOT NULL,
    creation_type TEXT,
    external_user_state TEXT,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_display_name ON users (display_name_fold, id);
CREATE INDEX users_mail ON users (mail_fold);

CREATE TABLE user_identities (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sign_in_type TEXT NOT NULL,
    issuer TEXT NOT NULL,
    issuer_fold TEXT NOT NULL,
    issuer_assigned_id TEXT NOT NULL,
    PRIMARY KEY (user_id, position),
    UNIQUE (issuer_fold, issuer_assigned_id)
) WITHOUT ROWID;

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    display_name_fold TEXT NOT NULL,
    description TEXT NOT NULL,
    mail_nickname TEXT NOT NULL,
    security_enabled BOOLEAN NOT NULL,
    mail_enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX groups_display_name ON groups (display_name_fold, id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE directory_role_assignments (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
) WITHOUT ROWID;

CREATE TABLE connected_organizations (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    display_name_fold TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('configured', 'proposed')),
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX connected_organizations_display_name ON connected_organizations (display_name_fold, id);
CREATE INDEX connected_organizations_created ON connected_organizations (created_at, id);

CREATE TABLE connected_organization_identity_sources (
    organization_id TEXT NOT NULL REFERENCES connected_organizations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    odata_type TEXT NOT NULL,
    display_name TEXT NOT NULL,
    display_name_fold TEXT NOT NULL,
    tenant_id TEXT,
    domain_name TEXT,
    issuer_uri TEXT,
    cloud_instance TEXT,
    social_type TEXT,
    PRIMARY KEY (organization_id, position)
) WITHOUT ROWID;
CREATE INDEX co_sources_domain ON connected_organization_identity_sources (domain_name);
CREATE INDEX co_sources_tenant ON connected_organization_identity_sources (tenant_id);

-- One tenant, domain, federation issuer or social (provider, domain) per organization.
CREATE TABLE connected_organization_source_keys (
    source_key TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES connected_organizations (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX co_source_keys_org ON connected_organization_source_keys (organization_id);

CREATE TABLE connected_organization_sponsors (
    organization_id TEXT NOT NULL REFERENCES connected_organizations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('internal', 'external')),
    sponsor_id TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT REFERENCES groups (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organization_id, kind, sponsor_id),
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
) WITHOUT ROWID;
CREATE INDEX co_sponsors_user ON connected_organization_sponsors (user_id);
CREATE INDEX co_sponsors_group ON connected_organization_sponsors (group_id);

-- Known tenants and federated identity providers with the domains they are authoritative for.
CREATE TABLE identity_providers (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('tenant', 'federation')),
    tenant_id TEXT UNIQUE,
    issuer_uri TEXT UNIQUE,
    created_at BIGINT NOT NULL
) WITHOUT ROWID;

CREATE TABLE identity_provider_domains (
    domain TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX idp_domains_provider ON identity_provider_domains (provider_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
) WITHOUT ROWID;

CREATE TABLE audit_events (
    sequence BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    activity_at BIGINT NOT NULL,
    category TEXT NOT NULL,
    activity TEXT NOT NULL,
    operation TEXT NOT NULL,
    initiator_kind TEXT NOT NULL,
    initiator_id TEXT,
    result TEXT NOT NULL,
    canonical TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_events_time ON audit_events (activity_at, sequence);
CREATE INDEX audit_events_category ON audit_events (category, activity_at);

CREATE TABLE audit_event_targets (
    sequence BIGINT NOT NULL REFERENCES audit_events (sequence),
    target_id TEXT NOT NULL,
    PRIMARY KEY (sequence, target_id)
) WITHOUT ROWID;
CREATE INDEX audit_event_targets_target ON audit_event_targets (target_id);

CREATE TABLE audit_chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sequence BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_chain_head (id, sequence, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Side effects to run after commit (delivery, mail, guest lifecycle), claimed by workers.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    done_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (done_at, available_at);

-- Audit events are append-only; the hash chain detects anyone who bypasses this.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
