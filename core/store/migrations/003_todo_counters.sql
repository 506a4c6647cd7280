-- Each user's last todo number. Taking the next number is an
-- upsert on this row, so concurrent writers for one user queue on its row lock and never
-- compute the same MAX(number) + 1; different users never wait for each other.
CREATE TABLE todo_counters (
    enterprise_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (enterprise_id, team_id, user_id)
);
INSERT INTO todo_counters (enterprise_id, team_id, user_id, last_number)
SELECT enterprise_id, team_id, user_id, MAX(number) FROM todos
GROUP BY enterprise_id, team_id, user_id;
