"""PostgreSQL: a bounded psycopg pool, one transaction per `write()`, the SQLite SQL text.

Store modules write SQL once, for both backends (`?` placeholders, rows read by column name):
`core.store.pg_conn` speaks it to psycopg. Connections are in autocommit mode: a read is one
statement; a write transaction is an explicit BEGIN … COMMIT on one pooled connection, which
nested `write()`s and the reads made inside it on the same thread join (they must see its
uncommitted rows).

A lost or unreachable server surfaces as `Unavailable` (a TransientError: retried by the
orchestrator, 503 for HTTP callers); the pool replaces broken connections by itself, so the
store recovers without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from types import TracebackType
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from core.store.pg_conn import PgConn, by_name, failed
from core.store.pg_migrate import CONNECT_TIMEOUT_S

# A process frozen (SIGSTOP, a VM paused) inside a transaction would hold its row locks for good,
# and every other replica would queue behind them: PostgreSQL ends such a session after this.
# Crane's transactions last milliseconds; a takeover is due within 30 s.
IDLE_IN_TRANSACTION = "SET idle_in_transaction_session_timeout = '10s'"
POOL_WAIT_S = 10.0  # a caller waits this long for a free connection, then gets a 503
LOST_WAIT_S = 0.5  # … but only this long while the server is known to be gone


def _abandon(raw: psycopg.Connection[Any]) -> None:
    """Roll back whatever transaction is left open on a connection going back to the pool."""
    if not raw.closed and raw.info.transaction_status != TransactionStatus.IDLE:
        with suppress(psycopg.Error):
            raw.execute("ROLLBACK")


class PgTransaction:
    """BEGIN … COMMIT on a pooled connection, or ROLLBACK on any exception; joins the
    transaction already open on this thread. Pipelined: statements whose results nobody
    reads (a step's updates, its events) go out together with the COMMIT, so a step's
    transaction costs one round trip, not one per statement; an error such a statement meets
    is raised at the COMMIT."""

    __slots__ = ("_conn", "_db", "_pipelined")

    def __init__(self, db: PgDatabase) -> None:
        self._db = db
        self._conn: PgConn | None = None
        self._pipelined: AbstractContextManager[psycopg.Pipeline] | None = None

    def __enter__(self) -> PgConn:
        db = self._db
        current: PgConn | None = getattr(db.local, "tx", None)
        if current is not None:
            return current
        raw = db.borrow()
        try:
            self._pipelined = raw.pipeline()
            pipeline = self._pipelined.__enter__()
            raw.execute("BEGIN")
        except psycopg.Error as error:
            _abandon(raw)
            db.pool.putconn(raw)
            raise failed(db, error) from error
        self._conn = db.local.tx = PgConn(raw, db, pipeline)
        return self._conn

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        db, raw, pipeline = self._db, conn.raw, self._pipelined
        db.local.tx = None
        assert pipeline is not None
        try:
            if kind is not None:  # the original error is the one worth reporting
                with suppress(psycopg.Error):
                    pipeline.__exit__(kind, error, traceback)
                _abandon(raw)
                return
            try:
                raw.execute("COMMIT")
                pipeline.__exit__(None, None, None)  # sends what is queued; the first failure
                conn.pending = False  # every result is in: reading one costs no round trip
            except psycopg.Error as failure:
                _abandon(raw)
                raise failed(db, failure) from failure
        finally:
            db.pool.putconn(raw)


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.execute(IDLE_IN_TRANSACTION)  # autocommit: in effect for the session at once


class PgDatabase:
    """A bounded pool of connections to one PostgreSQL database (migrated by the caller)."""

    pipelined = True  # see PgTransaction

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = url
        self.size = max(1, pool_size)
        self.local = threading.local()
        self._reopen = threading.Lock()
        # set by a lost connection, cleared by the next statement that works: while set,
        # callers are told 503 at once instead of queueing for a connection that cannot come
        self.lost = False
        self.pool = self._new_pool()

    def _new_pool(self) -> ConnectionPool[Any]:
        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.size,
            kwargs={"autocommit": True, "row_factory": by_name,
                    "connect_timeout": CONNECT_TIMEOUT_S},
            timeout=POOL_WAIT_S,
            configure=_configure,
            name="crane",
            open=True,
        )  # fmt: skip

    def borrow(self) -> psycopg.Connection[Any]:
        if self.pool.closed:  # used again after close(): a new pool, as a new Store would
            with self._reopen:
                if self.pool.closed:
                    self.pool = self._new_pool()
        try:
            conn: psycopg.Connection[Any] = self.pool.getconn(
                LOST_WAIT_S if self.lost else POOL_WAIT_S
            )
            return conn
        except psycopg.Error as error:  # PoolTimeout: none free, or none could be made
            raise failed(self, error) from error

    @contextmanager
    def read(self) -> Iterator[PgConn]:
        current: PgConn | None = getattr(self.local, "tx", None)
        if current is not None:
            yield current
            return
        raw = self.borrow()
        try:
            yield PgConn(raw, self)
        finally:
            self.pool.putconn(raw)

    def write(self) -> PgTransaction:
        return PgTransaction(self)

    def writing(self) -> bool:
        return getattr(self.local, "tx", None) is not None

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        """Give the connections back to the server (a later use opens a new pool)."""
        self.pool.close()
