-- Approval before destructive steps, Stop, private outputs and feedback votes.
ALTER TABLE runs ADD COLUMN approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE steps ADD COLUMN private_output INTEGER NOT NULL DEFAULT 0;
CREATE TABLE approvals (
    run_id TEXT NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    question TEXT NOT NULL,
    detail TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    place TEXT,
    PRIMARY KEY (run_id, idx)
);
CREATE INDEX approvals_waiting ON approvals (status, expires_at);
CREATE TABLE feedback (
    run_id TEXT NOT NULL REFERENCES runs(id),
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, enterprise_id, team_id, user_id)
);
