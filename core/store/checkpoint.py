"""SQLite checkpoints off the write path.

In WAL mode a COMMIT appends the pages it changed to the WAL; copying them back into the
database file — a checkpoint, with its fsyncs under synchronous=NORMAL — was done by whichever
COMMIT pushed the WAL past 1,000 pages: every ~200th durable step waited for it, and those slow
commits were about a fifth of a step's time. A thread of the process does it instead, woken
every `EVERY` commits; the writers' own automatic checkpoint stays, at a larger size. Durability
is unchanged (WAL, synchronous=NORMAL): a checkpoint is crash-safe whoever runs it, and a
commit never waited for one to be durable.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("crane.store")

EVERY = 100  # commits (a step's is about 5 WAL pages: SQLite's default is every 1,000 pages)
# The writers' automatic checkpoint, should the thread fall behind. Under a steady stream of
# commits a checkpoint running beside them never quite catches up with the WAL's end, so only
# this one (which no commit can overtake) lets the WAL start over: it bounds the WAL to about
# 16 MB (more while the thread's checkpoint holds SQLite's checkpoint lock, as each writer's
# attempt then gives way), and by then the thread has copied nearly every page, so it costs a
# commit little.
BACKSTOP_PAGES = 4_000


class Checkpointer:
    """Runs PASSIVE checkpoints of one database file in a thread of its own, on demand."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.commits = 0  # counted under the process's writer lock
        self._wake = threading.Event()
        self._stop: threading.Event | None = None  # that of the running thread, if any
        self._lock = threading.Lock()

    def committed(self) -> None:
        """A COMMIT: every `EVERY`th wakes the thread (started on first need)."""
        self.commits += 1
        if self.commits % EVERY == 0:
            if self._stop is None:
                self._start()
            self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._stop is not None:
                return
            self._stop = stop = threading.Event()
        threading.Thread(
            target=self._run, args=(stop,), name="crane-checkpoint", daemon=True
        ).start()

    def _run(self, stop: threading.Event) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if stop.is_set():
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the file gone or locked: the next wake tries again
                    log.warning("checkpoint failed", exc_info=True)
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the thread (a later COMMIT starts another)."""
        with self._lock:
            stop, self._stop = self._stop, None
        if stop is not None:
            stop.set()
            self._wake.set()
