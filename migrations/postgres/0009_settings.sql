-- (PostgreSQL) Entitlement-management settings (one row): what happens to a guest created by entitlement
-- management when its last assignment ends, and after how long it is deleted.

CREATE TABLE entitlement_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    external_user_lifecycle_action TEXT NOT NULL CHECK (external_user_lifecycle_action IN ('none', 'blockSignIn', 'blockSignInAndDelete')),
    duration_until_deleted TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);
INSERT INTO entitlement_settings (id, external_user_lifecycle_action, duration_until_deleted, modified_at)
VALUES (1, 'blockSignInAndDelete', 'P30D', 0);
