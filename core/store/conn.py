"""What every store function takes as `conn`: an open connection of either backend.

`sqlite3.Connection` fits as it is; on PostgreSQL `core.store.pg_conn.PgConn` wraps a psycopg
connection so the same SQL text runs there (`?` placeholders, rows read by column name).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...


class Backend(Protocol):
    """A database: connections to read with, write transactions, closing."""

    # its write transactions send statements without waiting for their results (PostgreSQL):
    # reading a result mid-transaction costs a round trip to the server
    pipelined: bool

    def read(self) -> AbstractContextManager[Conn]: ...

    def write(self) -> AbstractContextManager[Conn]: ...

    def writing(self) -> bool:
        """A write transaction is open on this thread (a nested `write()` joins it)."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
