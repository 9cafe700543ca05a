-- Access package catalogs (PostgreSQL). The built-in General catalog is the one row of type
-- serviceDefault; the partial unique index keeps it the only one.

CREATE TABLE access_package_catalogs (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    display_name_fold TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    catalog_type TEXT NOT NULL CHECK (catalog_type IN ('userManaged', 'serviceDefault', 'serviceManaged')),
    state TEXT NOT NULL CHECK (state IN ('published', 'unpublished')),
    is_externally_visible BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX access_package_catalogs_display_name ON access_package_catalogs (display_name_fold, id);
CREATE UNIQUE INDEX access_package_catalogs_one_default ON access_package_catalogs (catalog_type)
    WHERE catalog_type = 'serviceDefault';
