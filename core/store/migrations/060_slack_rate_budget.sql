-- postgresql only: SQLite keeps the budget in its one process (core.ratelimit.LocalBudget).
-- One row per (workspace, Slack Web API method): the pace every replica spends together
-- (core.ratelimit.Pace, as seconds on the database's clock).
CREATE TABLE slack_rate_budget (
    workspace TEXT NOT NULL,
    method TEXT NOT NULL,
    next_at DOUBLE PRECISION NOT NULL,
    blocked_until DOUBLE PRECISION NOT NULL,
    slowdown DOUBLE PRECISION NOT NULL,
    slowed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (workspace, method)
);
