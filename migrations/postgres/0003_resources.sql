-- Catalog resources (PostgreSQL): group owners, registered applications with their app roles and
-- assignments, the resources of each catalog with their roles and scopes, and the resource
-- requests that added or removed them.

CREATE TABLE group_owners (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_owners_user ON group_owners (user_id);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    display_name_fold TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX applications_display_name ON applications (display_name_fold, id);

CREATE TABLE application_app_roles (
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    value TEXT NOT NULL,
    is_enabled BOOLEAN NOT NULL,
    PRIMARY KEY (application_id, id),
    UNIQUE (application_id, value)
);

CREATE TABLE app_role_assignments (
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    app_role_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (application_id, app_role_id, user_id)
);
CREATE INDEX app_role_assignments_user ON app_role_assignments (user_id);

CREATE TABLE access_package_resources (
    id TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL REFERENCES access_package_catalogs (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    display_name_fold TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    origin_system TEXT NOT NULL CHECK (origin_system IN ('AadGroup', 'AadApplication', 'DirectoryRole')),
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    UNIQUE (catalog_id, origin_system, origin_id)
);
CREATE INDEX access_package_resources_catalog ON access_package_resources (catalog_id, display_name_fold, id);
CREATE INDEX access_package_resources_origin ON access_package_resources (origin_system, origin_id);

CREATE TABLE access_package_resource_roles (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL REFERENCES access_package_resources (id) ON DELETE CASCADE,
    catalog_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    display_name TEXT NOT NULL,
    display_name_fold TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    origin_system TEXT NOT NULL,
    role_type TEXT NOT NULL,
    UNIQUE (resource_id, origin_id)
);

CREATE TABLE access_package_resource_scopes (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL REFERENCES access_package_resources (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    origin_system TEXT NOT NULL,
    is_root_scope BOOLEAN NOT NULL
);
CREATE INDEX access_package_resource_scopes_resource ON access_package_resource_scopes (resource_id);
CREATE INDEX access_package_resource_roles_resource ON access_package_resource_roles (resource_id, position);
CREATE INDEX access_package_resource_roles_catalog ON access_package_resource_roles (catalog_id, display_name_fold, id);

CREATE TABLE access_package_resource_requests (
    id TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    request_type TEXT NOT NULL CHECK (request_type IN ('adminAdd', 'adminRemove')),
    state TEXT NOT NULL,
    origin_id TEXT NOT NULL,
    origin_system TEXT NOT NULL,
    display_name TEXT NOT NULL,
    display_name_fold TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX access_package_resource_requests_catalog ON access_package_resource_requests (catalog_id, id);
