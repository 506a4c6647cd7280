"""PostgreSQL as users meet it: a clear line when the database cannot be reached, 503s while
it is gone and recovery without a restart, `crane db upgrade` on either backend."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

import cli
from core.errors import TransientError, Unavailable
from core.plan import Scope
from core.store import Store
from tests.fakes.tcp_proxy import Proxy
from tests.pg import fresh_schema

ALICE = Scope(user_id="alice")
NOWHERE = "postgresql://crane:hunter2@127.0.0.1:1/crane"


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


@pytest.fixture
def proxied(pg_url: str) -> Iterator[tuple[str, Proxy]]:
    """The test schema reached through a proxy the test can cut."""
    parts = urlsplit(pg_url)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    yield urlunsplit(parts._replace(netloc=netloc)), proxy
    proxy.cut()


def test_an_unreachable_database_is_one_clear_error_without_the_password() -> None:
    with pytest.raises(Unavailable) as refused:
        Store(NOWHERE)
    message = str(refused.value)
    assert message.startswith("cannot reach the database postgresql://127.0.0.1:1/crane: ")
    assert "hunter2" not in message and "\n" not in message


def test_crane_ask_on_an_unreachable_database_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["ask", "calculate 1+1", "--db", NOWHERE])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("crane: cannot reach the database postgresql://127.0.0.1:1/crane")
    assert err.count("\n") == 1 and "hunter2" not in err


def test_crane_serve_on_an_unreachable_database_exits_2_with_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--port", "0"],
        env={"CRANE_DB": NOWHERE, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("crane: cannot reach the database postgresql://127.0.0.1:1/")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_postgres_scheme_url_is_postgresql_too(pg_url: str) -> None:
    store = Store(pg_url.replace("postgresql://", "postgres://", 1))
    try:
        assert store.add_todo(ALICE, "milk").number == 1
    finally:
        store.close()
    again = Store(pg_url)
    try:
        assert [t.title for t in again.list_todos(ALICE)] == ["milk"]
    finally:
        again.close()


def test_a_lost_database_is_transient_and_the_store_recovers(
    proxied: tuple[str, Proxy],
) -> None:
    url, proxy = proxied
    store = Store(url, pool_size=2)
    try:
        store.add_todo(ALICE, "before")
        proxy.cut()
        with pytest.raises(TransientError):
            store.list_todos(ALICE)
        with pytest.raises(TransientError):
            store.add_todo(ALICE, "while it is gone")
        proxy.restore()
        titles = None
        for _ in range(20):  # a stale pooled connection may fail once more; then it is replaced
            try:
                titles = [t.title for t in store.list_todos(ALICE)]
                break
            except TransientError:
                continue
        assert titles == ["before"]
        assert store.add_todo(ALICE, "after").number == 2
    finally:
        store.close()


def test_crane_db_upgrade_applies_pending_migrations_once(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["db", "upgrade", "--db", database]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[0] == "applied 001_initial"  # one stream of files on both backends
    assert first[-1].endswith("is up to date")
    assert cli.main(["db", "upgrade", "--db", database]) == 0
    assert capsys.readouterr().out.splitlines() == first[-1:]  # nothing left to apply
    store = Store(database)  # and the server's start finds nothing to do either
    assert store.add_todo(ALICE, "works").number == 1
    store.close()
