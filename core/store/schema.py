"""The SQLite schema, as sqlite-utils migrations, applied under BEGIN IMMEDIATE by `Connections`.
PostgreSQL has the same tables in `pg_migrations/NNN_name.sql`: a step `mNNN_name` here and a
file `NNN_name.sql` there, added together.

sqlite-utils is imported only when a migration is pending: an up-to-date database is
recognised with one query, which keeps `crane ask` cold start short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

SET_NAME = "crane"


def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE todos (
            id INTEGER PRIMARY KEY,
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            title TEXT NOT NULL,
            done INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            done_at TEXT,
            -- deleted rows stay so their numbers are never handed out again
            deleted_at TEXT,
            UNIQUE (enterprise_id, team_id, user_id, number)
        );
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            key TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (enterprise_id, team_id, key)
        );
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            conversation_id INTEGER REFERENCES conversations(id),
            text TEXT NOT NULL,
            status TEXT NOT NULL,
            planner TEXT NOT NULL,
            fallback_reason TEXT,
            usage TEXT,
            answer TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            owner_host TEXT,
            owner_pid INTEGER,
            owner_token TEXT,
            heartbeat_at TEXT
        );
        CREATE INDEX runs_by_caller ON runs (enterprise_id, team_id, user_id, created_at);
        CREATE INDEX runs_by_conversation ON runs (conversation_id, user_id, created_at);
        CREATE INDEX runs_unfinished ON runs (status) WHERE status IN ('pending', 'running');
        CREATE TABLE steps (
            run_id TEXT NOT NULL REFERENCES runs(id),
            idx INTEGER NOT NULL,
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            tool TEXT NOT NULL,
            args TEXT NOT NULL,
            destructive INTEGER NOT NULL,
            status TEXT NOT NULL,
            output TEXT,
            result TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            started_at TEXT,
            finished_at TEXT,
            PRIMARY KEY (run_id, idx)
        );
        CREATE TABLE run_events (
            run_id TEXT NOT NULL REFERENCES runs(id),
            seq INTEGER NOT NULL,
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        );
        CREATE TABLE deliveries (
            key TEXT PRIMARY KEY,
            created_at TEXT NOT NULL
        );
        """
    )


def m002_idempotency(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE idempotency (
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            key TEXT NOT NULL,
            body_hash TEXT NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs(id),
            created_at TEXT NOT NULL,
            PRIMARY KEY (enterprise_id, team_id, user_id, key)
        );
        """
    )


def m003_todo_counters(db: Database) -> None:
    # see pg_migrations/003_todo_counters.sql: the next number is an upsert on this row
    db.executescript(
        """
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
        """
    )


def m004_intake(db: Database) -> None:
    # see pg_migrations/004_intake.sql
    db.executescript(INTAKE)


INTAKE = """
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
"""


def m020_installations(db: Database) -> None:
    # Slack installations (OAuth mode): one row per installer and one bot per workspace, or per
    # enterprise for an org-wide install (team_id ''); `data` is the rest of slack_sdk's
    # Installation / Bot, tokens included, as JSON. Deliveries learn their tenant, so an
    # uninstall can forget them with the rest of the workspace's rows.
    db.executescript(
        """
        CREATE TABLE slack_installations (
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            is_enterprise_install INTEGER NOT NULL,
            data TEXT NOT NULL,
            installed_at TEXT NOT NULL,
            PRIMARY KEY (enterprise_id, team_id, user_id)
        );
        CREATE TABLE slack_bots (
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            is_enterprise_install INTEGER NOT NULL,
            data TEXT NOT NULL,
            installed_at TEXT NOT NULL,
            PRIMARY KEY (enterprise_id, team_id)
        );
        CREATE TABLE slack_oauth_states (
            state TEXT PRIMARY KEY,
            expires_at TEXT NOT NULL
        );
        ALTER TABLE deliveries ADD COLUMN enterprise_id TEXT NOT NULL DEFAULT '';
        ALTER TABLE deliveries ADD COLUMN team_id TEXT NOT NULL DEFAULT '';
        """
    )


def m010_approvals_feedback(db: Database) -> None:
    # approval: the run pauses before each destructive step (Slack, REST; never the CLI);
    # stop_requested: a Stop/cancel the executor honours at its next step boundary
    db.executescript(
        """
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
        """
    )


STEPS = (
    m001_initial,
    m002_idempotency,
    m003_todo_counters,
    m004_intake,
    m010_approvals_feedback,
    m020_installations,
)


def migrations() -> Migrations:
    from sqlite_utils.migrations import Migrations

    found = Migrations(SET_NAME)
    for step in STEPS:
        found()(step)
    return found
