-- Usage per user per UTC day, counted in the transaction that stores each run (so a replay
-- that returns the stored run counts nothing): run limits read `runs`, spending limits read
-- the tokens (per user) and `cost_usd` (summed over a workspace), `crane usage` reads it all.
-- Runs stored before this file are not counted (their usage is still on each run).
CREATE TABLE usage_days (
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    day TEXT NOT NULL,
    runs BIGINT NOT NULL DEFAULT 0,
    steps BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (enterprise_id, team_id, user_id, day)
);
CREATE INDEX usage_days_workspace ON usage_days (enterprise_id, team_id, day);
-- Runs per user per UTC minute (CRANE_LIMIT_RUNS_PER_MINUTE): an upsert on the user's row, so
-- concurrent requests of one user queue on its row lock and the count never skips one.
-- Rows older than a day are pruned with the idempotency keys.
CREATE TABLE run_minutes (
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    minute TEXT NOT NULL,
    runs BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (enterprise_id, team_id, user_id, minute)
);
-- The run's trace and root span (hex; NULL when tracing is off), fixed when it is accepted:
-- every execution pass, on any process, is a child of this root span.
ALTER TABLE runs ADD COLUMN trace_id TEXT;
ALTER TABLE runs ADD COLUMN root_span_id TEXT;
-- the span of the request that accepted it (the root's parent), if there was one
ALTER TABLE runs ADD COLUMN root_parent_id TEXT;
