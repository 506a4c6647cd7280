"""The SQLite schema, as sqlite-utils migrations, applied under BEGIN IMMEDIATE by `Connections`.
PostgreSQL has the same tables in `pg_migrations/NNN_name.sql`: a step `mNNN_name` here and a
file `NNN_name.sql` there, added together. From 003 on the DDL is portable, so both backends
run the same file.

sqlite-utils is imported only when a migration is pending: an up-to-date database is
recognised with one query, which keeps `crane ask` cold start short.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

SET_NAME = "crane"
PG_MIGRATIONS = Path(__file__).parent / "pg_migrations"


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


def _shared(name: str) -> str:
    """A later migration's DDL, written once in portable SQL for both backends."""
    return (PG_MIGRATIONS / f"{name}.sql").read_text(encoding="utf-8")


def m003_todo_counters(db: Database) -> None:
    db.executescript(_shared("003_todo_counters"))  # the next number is an upsert on this row


def m004_intake(db: Database) -> None:
    db.executescript(_shared("004_intake"))


def m005_answered(db: Database) -> None:
    db.executescript(_shared("005_answered"))


def m010_approvals_feedback(db: Database) -> None:
    db.executescript(_shared("010_approvals_feedback"))


def m020_installations(db: Database) -> None:
    db.executescript(_shared("020_installations"))


def m040_shown_in(db: Database) -> None:
    db.executescript(_shared("040_shown_in"))


STEPS = (
    m001_initial,
    m002_idempotency,
    m003_todo_counters,
    m004_intake,
    m005_answered,
    m010_approvals_feedback,
    m020_installations,
    m040_shown_in,
)


def migrations() -> Migrations:
    from sqlite_utils.migrations import Migrations

    found = Migrations(SET_NAME)
    for step in STEPS:
        found()(step)
    return found
