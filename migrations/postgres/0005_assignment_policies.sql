-- Assignment policies (PostgreSQL). The policy itself is a JSON document (the domain's own shape); the
-- columns beside it are what lists filter on. Every version is kept, so a request can name the
-- version it was made under. The objects a policy names are listed in a reference table, so
-- deleting one of them can be refused while a policy needs it.

CREATE TABLE assignment_policies (
    id TEXT PRIMARY KEY,
    access_package_id TEXT NOT NULL REFERENCES access_packages (id),
    catalog_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    display_name_fold TEXT COLLATE "C" NOT NULL,
    allowed_target_scope TEXT NOT NULL,
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX assignment_policies_display_name ON assignment_policies (display_name_fold, id);
CREATE INDEX assignment_policies_package ON assignment_policies (access_package_id, id);

CREATE TABLE assignment_policy_versions (
    policy_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

CREATE TABLE assignment_policy_references (
    policy_id TEXT NOT NULL REFERENCES assignment_policies (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'group', 'connectedOrganization')),
    object_id TEXT NOT NULL,
    PRIMARY KEY (policy_id, kind, object_id)
);
CREATE INDEX assignment_policy_references_object ON assignment_policy_references (kind, object_id);
