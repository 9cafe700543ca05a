-- (PostgreSQL) Approval of requests: one row per stage of a request, opened in turn, and the users who may
-- decide each opened stage (resolved from the policy when the stage opens).

CREATE TABLE approval_stages (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES assignment_requests (id) ON DELETE CASCADE,
    stage_index BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('notStarted', 'inProgress', 'completed', 'expired')),
    review_result TEXT NOT NULL CHECK (review_result IN ('NotReviewed', 'Approve', 'Deny')),
    reviewed_by TEXT,
    reviewed_at BIGINT,
    justification TEXT NOT NULL,
    opened_at BIGINT,
    UNIQUE (request_id, stage_index)
);

CREATE TABLE approval_stage_approvers (
    stage_id TEXT NOT NULL REFERENCES approval_stages (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    PRIMARY KEY (stage_id, user_id)
);
CREATE INDEX approval_stage_approvers_user ON approval_stage_approvers (user_id, stage_id);
