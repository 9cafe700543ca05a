-- Entitlement-management role assignments (PostgreSQL): catalog creator for the tenant (app scope "/"),
-- catalog owner, reader, access package manager and assignment manager for one catalog.

CREATE TABLE catalog_role_assignments (
    id TEXT PRIMARY KEY,
    principal_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_definition_id TEXT NOT NULL,
    app_scope_id TEXT NOT NULL,
    catalog_id TEXT REFERENCES access_package_catalogs (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (principal_id, role_definition_id, app_scope_id)
);
CREATE INDEX catalog_role_assignments_catalog ON catalog_role_assignments (catalog_id);
