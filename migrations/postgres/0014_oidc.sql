-- (PostgreSQL) Sign-in through a partner's identity provider (OpenID Connect): the client registration
-- per provider (with the tenants a multi-tenant issuer may sign in from), and the
-- authorization requests in flight: state, nonce and PKCE verifier, bound to the browser's
-- sign-in flow and used once.

CREATE TABLE identity_provider_clients (
    provider_id TEXT PRIMARY KEY REFERENCES identity_providers (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    allowed_tenants TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);

CREATE TABLE oidc_flows (
    state_hash TEXT PRIMARY KEY,
    flow_hash TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
