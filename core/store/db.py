"""SQLite connections and transactions: one connection per thread, writes under BEGIN IMMEDIATE."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType

from core.errors import InvalidInput, TransientError
from core.store.checkpoint import BACKSTOP_PAGES, Checkpointer
from core.store.sqlite_migrate import migrate

BUSY_TIMEOUT_MS = 5000


def check_db_path(path: str) -> None:
    """Refuse paths that cannot hold a database, before anything touches the disk."""
    if path == ":memory:":
        return
    target = Path(path)
    if target.is_dir():
        raise InvalidInput(f"database path {path!r} is a directory")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise InvalidInput(f"database path {path!r}: {str(parent)!r} is not a directory")
    if not parent.exists():
        raise InvalidInput(f"database path {path!r}: directory {str(parent)!r} does not exist")
    if target.exists() and target.stat().st_size > 0:
        with target.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise InvalidInput(f"{path!r} is not a SQLite database")


def _use_wal(conn: sqlite3.Connection) -> None:
    # Switching a fresh file to WAL takes an exclusive lock without waiting on busy_timeout,
    # so two processes opening a new database at once could fail with "database is locked".
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class Transaction:
    """`with Transaction(conn) as conn:` BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception;
    inside a transaction already open on `conn`, it joins it. A busy database becomes a
    TransientError. (A class rather than a generator: it runs on every step.)

    `writer` serialises this process's writers before SQLite does: waiting on a lock wakes the
    next writer at once, where SQLite's busy handler sleeps 1, 2, 5 … 100 ms between tries.
    Other processes still meet SQLite's lock and busy_timeout. Each COMMIT is counted by the
    `checkpointer` (a file's), which checkpoints the WAL off the write path."""

    __slots__ = ("_owns", "checkpointer", "conn", "writer")

    def __init__(
        self,
        conn: sqlite3.Connection,
        writer: threading.Lock,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        self.conn = conn
        self.writer = writer
        self.checkpointer = checkpointer
        self._owns = False

    def __enter__(self) -> sqlite3.Connection:
        conn = self.conn
        if not conn.in_transaction:
            if not self.writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
                raise TransientError("database busy: another writer held it too long")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                self.writer.release()
                raise TransientError(f"database busy: {error}") from error
            self._owns = True
        return conn

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._owns:
            return
        self._owns = False
        conn = self.conn
        try:
            if kind is not None:
                if conn.in_transaction:  # SQLite may have rolled back already; keep the error
                    conn.execute("ROLLBACK")
                return
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as busy:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise TransientError(f"database busy: {busy}") from busy
            if self.checkpointer is not None:
                self.checkpointer.committed()
        finally:
            self.writer.release()


class _Borrowed:
    """`with db.read() as conn:` this thread's connection; nothing to give back."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


class Connections:
    """Hands each thread its own connection to one database file."""

    pipelined = False  # every statement runs in this process: its result is there at once

    def __init__(self, path: str) -> None:
        check_db_path(path)
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writer = threading.Lock()  # see Transaction
        self._all: list[sqlite3.Connection] = []
        self._checkpointer = None if path == ":memory:" else Checkpointer(path)
        try:
            self.upgraded = migrate(self.conn, self.write)  # the names this opening applied
        except sqlite3.DatabaseError as error:
            raise InvalidInput(f"cannot open database {path!r}: {error}") from error

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves; the driver's implicit
        # deferred BEGIN can fail with "database is locked" without waiting.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            _use_wal(conn)
            conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")  # see Checkpointer
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        with self._lock:
            self._all.append(conn)
        return conn

    def read(self) -> _Borrowed:
        """This thread's connection (inside a write transaction: the transaction's)."""
        return _Borrowed(self.conn)

    def write(self) -> Transaction:
        """A write transaction; nested calls join the one already open on this thread."""
        return Transaction(self.conn, self._writer, self._checkpointer)

    def writing(self) -> bool:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        return conn is not None and conn.in_transaction

    def ping(self) -> None:
        self.conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
