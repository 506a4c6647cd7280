"""The PostgreSQL tests talk to: `CRANE_TEST_PG` (`make test` starts a private cluster when
nothing answers there), each test in a schema of its own, dropped afterwards. Under CI
(`CI=true`) a PostgreSQL test never skips: no server is a failure."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import quote

import pytest

DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
# read once, before the per-test environment clean-up (tests/conftest.py) runs
SERVER = os.environ.get("CRANE_TEST_PG") or DEFAULT


@cache
def _unreachable() -> str | None:
    import psycopg

    try:
        psycopg.connect(SERVER, connect_timeout=3).close()
    except psycopg.Error as error:
        return f"PostgreSQL at {SERVER} does not answer: {str(error).strip()}"
    return None


def require() -> None:
    """Skip (fail under CI) when no PostgreSQL answers at CRANE_TEST_PG."""
    problem = _unreachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{problem} (CI never skips the PostgreSQL tests)", pytrace=False)
    pytest.skip(problem)


def with_schema(schema: str) -> str:
    """CRANE_TEST_PG with every connection's search_path set to `schema`."""
    joiner = "&" if "?" in SERVER else "?"
    return f"{SERVER}{joiner}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A database URL whose tables live in a new, empty schema; dropped afterwards."""
    with _schema(None) as url:
        yield url


@contextmanager
def schema_from_dump(dump: str, name_in_dump: str) -> Iterator[str]:
    """Like `fresh_schema`, holding what `pg_dump --schema <name_in_dump> --inserts` saved."""
    # psql's meta-commands (`\restrict …`) are for psql; the rest is plain SQL
    sql = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    with _schema((sql, name_in_dump)) as url:
        yield url


@contextmanager
def _schema(dump: tuple[str, str] | None) -> Iterator[str]:
    import psycopg

    require()
    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        if dump is None:
            conn.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]  # a name we made
        else:
            sql, name_in_dump = dump
            conn.execute(sql.replace(name_in_dump, schema).encode())  # the dump creates it
    try:
        yield with_schema(schema)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[arg-type]
