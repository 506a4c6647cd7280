"""Shared fixtures: a real SQLite store in a temp file, the runtime with a recording sleep,
and no network beyond this machine (tests must never reach Slack, OpenAI or anything else)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from core.store import Store

settings.register_profile("ci", deadline=None, max_examples=100)
settings.load_profile("ci")

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0:0:0:0:0:0:0:1"})


def _check_address(address: Any) -> None:
    """Refuse any address that is not a Unix socket or this machine's loopback."""
    if isinstance(address, str | bytes):  # AF_UNIX path
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode()
    if host not in LOOPBACK:
        raise RuntimeError(f"network access blocked in tests: {address!r}")


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != getattr(socket, "AF_UNIX", None):
            _check_address(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != getattr(socket, "AF_UNIX", None):
            _check_address(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        _check_address(address)
        return real_create_connection(address, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "create_connection", create_connection)
        yield


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's exported OPENAI_API_KEY, SLACK_* or OTEL_* must not change what tests
    exercise."""
    import os

    for name in list(os.environ):
        if name == "CRANE_TEST_PG":  # where the PostgreSQL tests run (tests/pg.py)
            continue
        if name.startswith(("CRANE_", "SLACK_", "OPENAI_", "OTEL_")) or name == "PORT":
            monkeypatch.delenv(name)


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "crane.db")


UPGRADED = ["sqlite-made-by-old-crane", "postgresql-made-by-old-crane"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`database`: once per backend; in a module with `STORE_CONTRACT = True` also on two
    databases made by the code before the one migration stream, with rows in them, and
    upgraded in place by this code."""
    if "database" in metafunc.fixturenames:
        more = UPGRADED if getattr(metafunc.module, "STORE_CONTRACT", False) else []
        metafunc.parametrize("database", ["sqlite", "postgresql", *more], indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test's data lives, once per backend: a SQLite file, then a PostgreSQL URL
    (a fresh schema of CRANE_TEST_PG); for a store contract module, also both made by old code."""
    from tests.core import old_databases
    from tests.pg import fresh_schema

    if request.param == "sqlite":
        yield str(tmp_path / "data.db")
    elif request.param == "sqlite-made-by-old-crane":
        yield old_databases.sqlite_copy(tmp_path)
    elif request.param == "postgresql-made-by-old-crane":
        with old_databases.postgresql_copy() as url:
            yield url
    else:
        with fresh_schema() as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest) -> Iterator[Callable[[Path], str]]:
    """make(folder) → a new database, once per backend: a SQLite file in `folder`, then a
    fresh schema of CRANE_TEST_PG (the end-to-end suites start servers with these)."""
    from tests.pg import fresh_schema

    with ExitStack() as schemas:

        def make(folder: Path) -> str:
            if request.param == "sqlite":
                return str(folder / "crane.db")
            return schemas.enter_context(fresh_schema())

        yield make


@pytest.fixture
def store(db_path: str) -> Iterator[Store]:
    opened = Store(db_path)
    yield opened
    opened.close()


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the orchestrator asked for, in order (nothing actually sleeps)."""
    return []


@pytest.fixture
def crane(store: Store, sleeps: list[float]) -> Any:
    """The runtime with the offline pattern planner, as `crane ask` builds it, minus real sleeps."""
    from core.orchestrator import Orchestrator
    from core.planners.pattern import plan  # imported here: the planner may not exist yet
    from core.runtime import Crane

    return Crane(store, plan, Orchestrator(store, sleep=sleeps.append))
