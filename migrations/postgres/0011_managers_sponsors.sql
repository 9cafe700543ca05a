-- (PostgreSQL) Who manages a user (one direct manager) and who sponsors it (guests' sponsors): the
-- approvers that requestorManager and targetUserSponsors stand for.

CREATE TABLE user_managers (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    manager_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    modified_at BIGINT NOT NULL
);
CREATE INDEX user_managers_manager ON user_managers (manager_id);

CREATE TABLE user_sponsors (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sponsor_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, sponsor_id)
);
CREATE INDEX user_sponsors_sponsor ON user_sponsors (sponsor_id);
