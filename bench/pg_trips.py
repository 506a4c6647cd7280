"""Where a step's time goes on PostgreSQL: round trips and commits per step.

Round trips are counted by a TCP proxy between the client and the server: each time the client
sends after the server last spoke is one (pipelined statements sent together count once).
Commits are the server's own count, `xact_commit` in pg_stat_database, read from a scratch
database nothing else uses; a backend reports it when it exits, so each count closes its
client first."""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.pg import server


class CountingProxy:
    """Forwards 127.0.0.1:port to the server, counting round trips."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.trips = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            turn = {"server_spoke": True}  # shared by the two directions of one connection
            threading.Thread(target=self._pump, args=(client, upstream, turn, True),
                             daemon=True).start()  # fmt: skip
            threading.Thread(target=self._pump, args=(upstream, client, turn, False),
                             daemon=True).start()  # fmt: skip

    def _pump(self, source: socket.socket, target: socket.socket, turn: dict[str, bool],
              from_client: bool) -> None:  # fmt: skip
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if from_client and turn["server_spoke"]:
                    with self._lock:
                        self.trips += 1
                turn["server_spoke"] = not from_client
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._listener.close()


@contextlib.contextmanager
def scratch_database() -> Iterator[tuple[str, CountingProxy] | None]:
    """(a URL of a new database through a counting proxy, the proxy); None without a server."""
    import psycopg

    url = server()
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except psycopg.Error:
        yield None
        return
    name = f"crane_trips_{secrets.token_hex(4)}"
    parts = urlsplit(url)
    admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]  # a name we made
    proxy = CountingProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    user = f"{parts.username}@" if parts.username else ""
    proxied = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}", path=f"/{name}"))
    try:
        yield proxied, proxy
    finally:
        proxy.close()
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")  # type: ignore[arg-type]
        admin.close()


def commits(url: str) -> int:
    """The database's xact_commit, once the backends that closed have reported theirs (this
    reading is itself one more, seen by the next)."""
    import psycopg

    time.sleep(0.5)  # an exiting backend reports its counts as it goes
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def per_step(make: Callable[[str], Any], runs: int, steps: int) -> tuple[float, float] | None:
    """(round trips, commits) per step of the runs of a runner `make(url)` makes; its opening
    (connections, schema checks) is measured apart and left out."""
    with scratch_database() as found:
        if found is None:
            return None
        url, proxy = found
        make(url).close()  # creates its tables: the counts below are of a warm database
        start = commits(url)
        make(url).close()
        opened = commits(url)
        opening = opened - start - 1
        runner = make(url)
        runner.run_once()  # prepared statements, caches (its commits are counted: runs + 1)
        proxy.trips = 0
        for _ in range(runs):
            runner.run_once()
        trips = proxy.trips
        runner.close()
        done = commits(url) - opened - 1 - opening
    return trips / (runs * steps), done / ((runs + 1) * steps)
