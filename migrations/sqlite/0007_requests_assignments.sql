-- Requests for access packages and the assignments they create, with the grants each
-- assignment delivers. A request records the policy version it was made under. At most one
-- active assignment exists per (package, target); an assignment's grants are delivered and
-- revoked from the outbox, each grant once.

CREATE TABLE assignment_requests (
    id TEXT PRIMARY KEY,
    request_type TEXT NOT NULL,
    state TEXT NOT NULL,
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    target_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requestor_kind TEXT NOT NULL,
    requestor_id TEXT,
    assignment_id TEXT,
    justification TEXT NOT NULL,
    answers TEXT NOT NULL,
    schedule_start BIGINT NOT NULL,
    schedule_end BIGINT,
    idempotency_key TEXT,
    idempotency_hash TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    UNIQUE (requestor_id, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX assignment_requests_target ON assignment_requests (target_id, id);
CREATE INDEX assignment_requests_package ON assignment_requests (access_package_id, id);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL,
    catalog_id TEXT NOT NULL,
    target_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    start_at BIGINT NOT NULL,
    end_at BIGINT,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    expired_at BIGINT
) WITHOUT ROWID;
CREATE UNIQUE INDEX assignments_one_active ON assignments (access_package_id, target_id)
    WHERE state <> 'expired';
CREATE INDEX assignments_target ON assignments (target_id, state);
CREATE INDEX assignments_end ON assignments (end_at) WHERE state <> 'expired';

-- What an assignment grants: one row per resource role, with the grant's key (the directory
-- change it stands for), so that revoking one keeps what another active assignment holds.
CREATE TABLE assignment_grants (
    assignment_id TEXT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL,
    grant_key TEXT NOT NULL,
    target_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'granted', 'revoked')),
    PRIMARY KEY (assignment_id, role_id)
) WITHOUT ROWID;
CREATE INDEX assignment_grants_key ON assignment_grants (target_id, grant_key, state);

-- Lists narrowed to a catalog (catalog roles, catalog/id filters) read policies by catalog.
CREATE INDEX assignment_policies_catalog ON assignment_policies (catalog_id, id);
