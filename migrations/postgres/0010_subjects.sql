-- (PostgreSQL) Entitlement management's view of a user (accessPackageSubject): whether its lifecycle is
-- governed, which connected organization and request it came from, and when it was blocked and
-- is due to be deleted after its last assignment ended. Users without a row are notDefined.

CREATE TABLE access_package_subjects (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    subject_lifecycle TEXT NOT NULL CHECK (subject_lifecycle IN ('notGoverned', 'governed')),
    connected_organization_id TEXT,
    created_by_request_id TEXT,
    blocked_at BIGINT,
    delete_at BIGINT,
    modified_at BIGINT NOT NULL
);
CREATE INDEX access_package_subjects_organization ON access_package_subjects (connected_organization_id);
