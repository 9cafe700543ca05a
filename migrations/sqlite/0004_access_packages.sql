-- Access packages, the resource roles they grant (at a scope) and their incompatibilities.
-- A package keeps its catalog, and a resource role in use keeps its resource: both refuse
-- deletion at the database too.

CREATE TABLE access_packages (
    id TEXT PRIMARY KEY,
    catalog_id TEXT NOT NULL REFERENCES access_package_catalogs (id),
    display_name TEXT NOT NULL,
    display_name_fold TEXT NOT NULL,
    description TEXT NOT NULL,
    is_hidden BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_packages_display_name ON access_packages (display_name_fold, id);
CREATE INDEX access_packages_catalog ON access_packages (catalog_id, id);

CREATE TABLE access_package_role_scopes (
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES access_package_resource_roles (id),
    scope_id TEXT NOT NULL REFERENCES access_package_resource_scopes (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (access_package_id, role_id, scope_id)
) WITHOUT ROWID;
CREATE INDEX access_package_role_scopes_role ON access_package_role_scopes (role_id);
CREATE INDEX access_package_role_scopes_scope ON access_package_role_scopes (scope_id);

CREATE TABLE access_package_incompatible_packages (
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    incompatible_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (access_package_id, incompatible_id)
) WITHOUT ROWID;
CREATE INDEX access_package_incompatible_packages_reverse ON access_package_incompatible_packages (incompatible_id);

CREATE TABLE access_package_incompatible_groups (
    access_package_id TEXT NOT NULL REFERENCES access_packages (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (access_package_id, group_id)
) WITHOUT ROWID;
CREATE INDEX access_package_incompatible_groups_group ON access_package_incompatible_groups (group_id);
