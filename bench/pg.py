"""PostgreSQL for the benchmarks: `CRANE_BENCH_PG`, else `CRANE_TEST_PG`, else the tests'
default server; each benchmark gets a scratch schema, dropped afterwards. No server: the
PostgreSQL figures are skipped, and said so."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from bench import say

DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def server() -> str:
    return os.environ.get("CRANE_BENCH_PG") or os.environ.get("CRANE_TEST_PG") or DEFAULT


@contextmanager
def scratch_schema() -> Iterator[str | None]:
    """A URL whose connections use a new, empty schema; None when no PostgreSQL answers."""
    import psycopg

    url = server()
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        say(f"  PostgreSQL at {url} does not answer ({str(error).strip()}): skipped")
        yield None
        return
    schema = f"bench_{secrets.token_hex(6)}"
    found = admin.execute("SHOW server_version").fetchone()
    commit = admin.execute("SHOW synchronous_commit").fetchone()
    # every COMMIT waits for the server's WAL flush (synchronous_commit=on), Crane's and
    # LangGraph's alike: on a slow disk that flush is most of a step's cost
    say(
        f"  PostgreSQL {found[0] if found else '?'} at {url}, "
        f"synchronous_commit={commit[0] if commit else '?'}"
    )
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]  # a name we made
        try:
            joiner = "&" if "?" in url else "?"
            yield f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[arg-type]
