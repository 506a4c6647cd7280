"""The lease fence of an executing run's transactions (`core.store.run_transaction`): the run's
row must still hold this process's `owner_token`, or the transaction rolls back — so a process
frozen past its lease, whose run another process took over meanwhile, never writes over the new
owner (`LeaseLost`), and a run whose workspace was uninstalled writes nothing more (`Gone`).

PostgreSQL: the fence is a renewal, `UPDATE runs SET heartbeat_at … AND owner_token = ?`, the
transaction's first statement; it locks the row until the COMMIT, so neither a takeover nor an
uninstall (which deletes a run's steps with its row) can slip in between the check and the
writes. Its result is not waited for: a step's statements and its COMMIT go out together, one
round trip. Whether a stop was asked for (read with the renewal) is then assumed "no" when the
next step is started, and a guard just before the COMMIT — `1 / COUNT(*)` of the run's row
still held by this lease, with no stop asked for — aborts the transaction otherwise (a division
by zero: the COMMIT then rolls back). Afterwards the fence reads why: `Gone`, `LeaseLost`, or
`StopSeen` — the caller does its block again, the stop known this time.

SQLite: no other writer can come between BEGIN IMMEDIATE and COMMIT, so reading the row is
fence enough, and the heartbeat is written only when this fence last wrote it over a second ago
(the heartbeat thread renews it between writes): a step a few µs long need not rewrite the
run's row each time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from core.errors import Gone, LeaseLost, TransientError
from core.plan import iso
from core.store.conn import Conn, Cursor

# PostgreSQL: the first statement of every transaction of an executing run, and the last where
# nothing was read back (fails unless the lease holds and, if assumed, no stop was asked for)
RENEW_RETURNING_STOP = (
    "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_token = ? RETURNING stop_requested"
)
GUARD = "SELECT 1 / COUNT(*) FROM runs WHERE id = ? AND owner_token = ? AND stop_requested <= ?"
# SQLite: a read, and the heartbeat written now and then
FENCE = "SELECT stop_requested FROM runs WHERE id = ? AND owner_token = ?"
RENEW = "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_token = ?"
RENEW_EVERY = timedelta(seconds=1)


class StopSeen(TransientError):
    """A transaction that assumed no stop was asked for met one and rolled back (its held
    blocks' writes are kept for the next): do the block again, the stop known this time."""


def _gone(run_id: str) -> Gone:
    return Gone(f"run {run_id} was deleted (its workspace uninstalled Crane)")


def _lost(run_id: str) -> LeaseLost:
    return LeaseLost(f"run {run_id} was taken over by another process")


class Fence:
    """The fence of one run's transactions under `lease`, one transaction at a time."""

    def __init__(
        self, run_id: str, lease: str, pipelined: bool, clock: Callable[[], datetime]
    ) -> None:
        self.run_id, self.lease, self.pipelined, self.clock = run_id, lease, pipelined, clock
        self.conn: Conn
        self.cursor: Cursor
        self.rows: list[Any] | None = None  # SQLite: the fence's rows, read at once
        self.row: Any = None  # the fenced row, once read
        self.assumed = False  # this transaction took "no stop asked for" without reading it
        self.guarded = False  # its COMMIT goes out behind the GUARD
        self.stop_seen = False  # a stop, once asked for, stays asked for
        self.renewed: datetime | None = None  # SQLite: when this fence last wrote the heartbeat

    def begin(self, conn: Conn) -> None:
        """The first statement of a transaction (its row is read when first needed)."""
        self.conn, self.row, self.assumed, self.guarded = conn, None, False, False
        now = self.clock()
        if self.pipelined:
            self.cursor = conn.execute(RENEW_RETURNING_STOP, (iso(now), self.run_id, self.lease))
            self.rows = None
            return
        # read now, before the row is written (no round trip here); judged when first needed
        self.rows = conn.execute(FENCE, (self.run_id, self.lease)).fetchall()
        if self.renewed is None or not timedelta(0) <= now - self.renewed < RENEW_EVERY:
            self.renewed = now
            conn.execute(RENEW, (iso(now), self.run_id, self.lease))

    def read(self) -> Any:
        """The fenced row (its stop_requested), or LeaseLost or Gone."""
        if self.row is None:
            rows = self.cursor.fetchall() if self.rows is None else self.rows
            if not rows:
                found = self.conn.execute("SELECT 1 FROM runs WHERE id = ?", (self.run_id,))
                if found.fetchone() is None:
                    raise _gone(self.run_id)
                raise _lost(self.run_id)
            self.row = rows[0]
        return self.row

    def stop(self) -> bool:
        """Whether a stop was asked for: on PostgreSQL, before anything of this transaction was
        read back, assumed not (the GUARD checks it)."""
        if self.stop_seen:
            return True
        if self.row is None and self.pipelined:
            self.assumed = True
            return False
        return bool(self.read()["stop_requested"])

    def check_assumed(self) -> None:
        """Read now what was assumed (the next tool runs before the COMMIT): StopSeen if wrong."""
        if self.assumed and self.read()["stop_requested"]:
            self.stop_seen = True
            raise StopSeen(f"run {self.run_id}: a stop was asked for")

    def before_commit(self) -> bool:
        """The last statement before the COMMIT. False: nothing stands for the writes' own
        checks (SQLite, where reading costs nothing: the caller checks them)."""
        if not self.pipelined:
            self.read()
            return False
        if self.row is None:
            self.guarded = True
            most = 0 if self.assumed else 1  # the largest stop_requested the lease may have
            self.conn.execute(GUARD, (self.run_id, self.lease, most))
        else:
            self.check_assumed()
        return True

    def why(self, failure: BaseException, read: Callable[[str, tuple[Any, ...]], Any]) -> None:
        """After a guarded transaction failed and rolled back: raise what the GUARD stood for,
        if it failed (otherwise the caller raises `failure`). `read(sql, params)`: one row."""
        if not self.guarded or not isinstance(failure, Exception):
            return
        self.guarded = False
        row = read("SELECT owner_token, stop_requested FROM runs WHERE id = ?", (self.run_id,))
        if row is None:
            raise _gone(self.run_id) from failure
        if row["owner_token"] != self.lease:
            raise _lost(self.run_id) from failure
        if row["stop_requested"] and self.assumed:
            self.stop_seen = True
            raise StopSeen(f"run {self.run_id}: a stop was asked for") from failure
