"""A psycopg connection that speaks the store's SQL: `?` placeholders translated, rows read by
column name (`row["col"]`) or position, a pipelined transaction's results read when asked
for; psycopg's errors become the store's (`failed`). `core.store.pg` pools them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from typing import Any, Protocol

import psycopg

from core.errors import TransientError
from core.store.pg_migrate import unavailable


class Server(Protocol):
    """What an error is told about: where, and whether the server is known to be gone."""

    url: str
    lost: bool


# A lost connection, a server shutting down, a pool that cannot connect: worth retrying.
LOST = (psycopg.OperationalError, psycopg.InterfaceError)
# Two transactions that cannot both go on: retrying one succeeds.
CONFLICT = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


def failed(db: Server, error: Exception) -> Exception:
    """The store's error for a psycopg error: transient ones become TransientError."""
    if isinstance(error, CONFLICT):
        return TransientError(f"database conflict: {error}")
    if isinstance(error, LOST):
        db.lost = True
        return unavailable(db.url, error)
    return error


@cache
def translate(sql: str) -> str:
    """`?` placeholders (the SQLite text) → psycopg's `%s`; a literal % doubled."""
    return sql.replace("%", "%%").replace("?", "%s")


@cache
def _row_class(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    index = {name: i for i, name in enumerate(names)}

    class Row(tuple[Any, ...]):
        __slots__ = ()

        def __getitem__(self, key: Any) -> Any:
            if isinstance(key, str):
                return tuple.__getitem__(self, index[key])
            return tuple.__getitem__(self, key)

        def keys(self) -> list[str]:
            return list(names)

    return Row


def by_name(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    """psycopg row factory: rows read by position or by column name, like sqlite3.Row. The
    column names are looked up at the first row: most statements of a step's transaction
    (its updates, the fence's renewal) have their results processed but never read."""
    made: type[tuple[Any, ...]] | None = None

    def make(values: Sequence[Any]) -> Any:
        nonlocal made
        if made is None:
            made = _row_class(tuple(column.name for column in cursor.description))
        return made(values)

    return make


class PgConn:
    """A psycopg connection that speaks the store's SQL (see `core.store.conn.Conn`)."""

    __slots__ = ("db", "pending", "pipeline", "raw")

    def __init__(
        self, raw: psycopg.Connection[Any], db: Server, pipeline: psycopg.Pipeline | None = None
    ) -> None:
        self.raw = raw
        self.db = db
        self.pipeline = pipeline
        self.pending = False  # statements sent since the last sync: their results are due

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        try:
            cursor = self.raw.execute(translate(sql), parameters)
        except psycopg.Error as error:
            raise failed(self.db, error) from error
        self.db.lost = False
        if self.pipeline is None:
            return cursor
        self.pending = True
        return PgCursor(cursor, self)

    def sync(self) -> None:
        """Send what is queued in the pipeline and raise the first error it met (nothing
        queued since the last sync: no round trip)."""
        if self.pipeline is not None and self.pending:
            self.pending = False
            try:
                self.pipeline.sync()
            except psycopg.Error as error:
                raise failed(self.db, error) from error

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        cursor = self.raw.cursor()
        try:
            cursor.executemany(translate(sql), list(parameters))
        except psycopg.Error as error:
            raise failed(self.db, error) from error
        self.pending = self.pending or self.pipeline is not None
        return cursor


class PgCursor:
    """A statement of a pipelined transaction: its result comes back at the next sync, which
    asking for it (rows, rowcount) forces; a statement nobody asks about costs no round trip."""

    __slots__ = ("_conn", "_cursor")

    def __init__(self, cursor: psycopg.Cursor[Any], conn: PgConn) -> None:
        self._cursor = cursor
        self._conn = conn

    def _synced(self) -> psycopg.Cursor[Any]:
        self._conn.sync()
        return self._cursor

    @property
    def rowcount(self) -> int:
        return self._synced().rowcount

    def fetchone(self) -> Any:
        return self._synced().fetchone()

    def fetchall(self) -> list[Any]:
        return self._synced().fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())
