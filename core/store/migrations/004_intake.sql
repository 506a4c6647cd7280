-- Durable intake: every request acknowledged to Slack, recorded with its
-- delivery key before the ack; the row goes when its run is stored or it was answered without
-- one. Rows left by a process that died are planned by the next one to start.
CREATE TABLE intake (
    id TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    text TEXT NOT NULL,
    conversation TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    response_url TEXT,
    options TEXT NOT NULL,
    received_at TEXT NOT NULL,
    owner_host TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    owner_token TEXT NOT NULL
);
