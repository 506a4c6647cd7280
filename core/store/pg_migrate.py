"""PostgreSQL: the migration stream (`schema`) applied in order, each file once, in its own
transaction together with its row in `crane_migrations`, under a session advisory lock:
processes starting at once queue on the lock, and each finds the others' migrations recorded.

The job library replicas share work through (procrastinate) keeps its tables in the same schema;
its schema is applied here too, under the same lock, after our files, and recorded under
`JOB_SCHEMA` (procrastinate keeps no record itself, and its schema.sql is not idempotent). A
later procrastinate release brings upgrade files of its own: apply those here, by name. SQLite
has no job library, so none of this is in the shared stream.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from core.errors import Unavailable
from core.store.schema import CREATE_TABLE, TABLE, applied_at, stream

CONNECT_TIMEOUT_S = 5
LOCK_KEY = 0x6372616E65  # "crane": one lock for every schema of the database
# procrastinate 3.10's schema.sql is its 3.4.0 schema (its newest migration is 03.04.00_*)
JOB_SCHEMA = "procrastinate_3.4.0"


def _job_schema() -> bytes:
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema().encode()  # no parameters: no %-parsing


def describe(url: str) -> str:
    """The database's address without its password, for messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(invalid URL)"
    host, port, name = parts.get("host", ""), parts.get("port", "5432"), parts.get("dbname", "")
    return f"postgresql://{host}:{port}/{name}"


def unavailable(url: str, error: BaseException) -> Unavailable:
    reason = (str(error).strip().splitlines() or [type(error).__name__])[-1]
    return Unavailable(f"cannot reach the database {describe(url)}: {reason}")


def names() -> list[str]:
    """Everything a PostgreSQL database records once it is up to date."""
    return [*(migration.name for migration in stream("postgresql")), JOB_SCHEMA]


def _applied(conn: psycopg.Connection[Any]) -> set[str]:
    found = conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
    if found is None or found[0] is None:
        return set()
    return {row[0] for row in conn.execute(f"SELECT name FROM {TABLE}")}


def migrate(url: str) -> list[str]:
    """Apply pending migrations; returns the names applied by this call."""
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as error:
        raise unavailable(url, error) from error
    with conn:
        if set(names()) <= _applied(conn):
            return []  # the usual start: one query, no lock
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(CREATE_TABLE)
            done = _applied(conn)
            steps = [(each.name, each.sql.encode) for each in stream("postgresql")]
            applied = []
            for name, text in [*steps, (JOB_SCHEMA, _job_schema)]:
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(text())  # our own files, procrastinate's: no placeholders
                    conn.execute(
                        f"INSERT INTO {TABLE} (name, applied_at) VALUES (%s, %s)",
                        (name, applied_at()),
                    )
                applied.append(name)
            return applied
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
