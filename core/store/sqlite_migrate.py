"""SQLite: the migration stream (`schema`) applied in one BEGIN IMMEDIATE transaction.

Processes opening a file at once queue on SQLite's write lock; the first applies what is
pending, the others find it recorded. A file that fails rolls back with every file before it
in the same call: the schema is never half-written. Statements run one at a time, because
sqlite3's `executescript` COMMITs the open transaction before it starts (sqlite-utils'
migrations run through it, which made their BEGIN IMMEDIATE protect only the first file).

Files made before the one stream recorded their migrations in sqlite-utils' table
(`_sqlite_migrations`, set "crane", step `mNNN_name`); the first upgrade adopts that record as
`NNN_name` in `crane_migrations` and drops the old table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from core.errors import InvalidInput
from core.store.schema import CREATE_TABLE, TABLE, applied_at, stream

OLD_TABLE = "_sqlite_migrations"
OLD_SET = "crane"
# Before the one stream SQLite had the idempotency table as a step of its own; PostgreSQL's
# 001_initial (now the only one) has always created it.
FOLDED_INTO_001 = "m002_idempotency"

Begin = Callable[[], AbstractContextManager[sqlite3.Connection]]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def applied(conn: sqlite3.Connection) -> set[str]:
    """Names the file has recorded (none for a new file, or one not yet adopted)."""
    if not _has_table(conn, TABLE):
        return set()
    return {row[0] for row in conn.execute(f"SELECT name FROM {TABLE}")}


def statements(script: str) -> Iterator[str]:
    """The script's statements one by one (`complete_statement` knows strings, comments and
    trigger bodies, so a `;` inside them does not split)."""
    pieces = script.split(";")
    buffer = ""
    for piece in pieces[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    rest = buffer + pieces[-1]  # a last statement without its `;`, or comments
    if rest.strip():
        yield rest


def _adopt_old_record(conn: sqlite3.Connection) -> None:
    if not _has_table(conn, OLD_TABLE):
        return
    rows = conn.execute(
        f"SELECT name, applied_at FROM {OLD_TABLE} WHERE migration_set = ?", (OLD_SET,)
    ).fetchall()
    names = {row[0] for row in rows}
    if "m001_initial" in names and FOLDED_INTO_001 not in names:
        raise InvalidInput(
            "this database predates Crane's idempotency table: upgrade it with Crane at "
            "commit 5c91e7b first"
        )
    conn.executemany(
        f"INSERT OR IGNORE INTO {TABLE} (name, applied_at) VALUES (?, ?)",
        [(name.removeprefix("m"), when) for name, when in rows if name != FOLDED_INTO_001],
    )
    conn.execute(f"DELETE FROM {OLD_TABLE} WHERE migration_set = ?", (OLD_SET,))
    if conn.execute(f"SELECT 1 FROM {OLD_TABLE}").fetchone() is None:
        conn.execute(f"DROP TABLE {OLD_TABLE}")


def migrate(conn: sqlite3.Connection, begin: Begin) -> list[str]:
    """Apply what is pending; the names applied by this call. `begin()` opens the BEGIN
    IMMEDIATE transaction on `conn`."""
    wanted = stream("sqlite")
    if {migration.name for migration in wanted} <= applied(conn):
        return []  # the usual start: one query, no write lock
    ran = []
    with begin() as conn:
        conn.execute(CREATE_TABLE)
        _adopt_old_record(conn)
        done = applied(conn)
        for migration in wanted:
            if migration.name in done:
                continue
            for statement in statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {TABLE} (name, applied_at) VALUES (?, ?)",
                (migration.name, applied_at()),
            )
            ran.append(migration.name)
    return ran
