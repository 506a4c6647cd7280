"""One write transaction of a run being executed (`RunTransaction`, the base of
`core.store.journal.Journal`): the lease fenced first, the events written with the changes
they announce, handed back only after the COMMIT, and commits shared between blocks.

Every transaction of an executing run first checks the lease — the run's row must still hold
this process's `owner_token` — so a process that was frozen past its lease, and whose run
another process took over meanwhile, gets `LeaseLost` at its next write and that transaction
rolls back: it never writes over the new owner. On PostgreSQL the check is a renewal, `UPDATE
runs SET heartbeat_at … AND owner_token = ?`, which locks the row until the COMMIT, so neither
a takeover nor an uninstall can slip in between the check and the writes. On SQLite no other
writer can come between BEGIN IMMEDIATE and COMMIT, so reading the row is fence enough, and the
heartbeat is written only when this journal last wrote it over a second ago (the heartbeat
thread renews it between writes): a step a few µs long need not rewrite the run's row each time.

One round trip per step on PostgreSQL: the statements of a transaction and its COMMIT go out
together, and nothing is read in between. Whether a stop was asked for (read with the renewal)
is then assumed "no" when the step after is started, and a guard just before the COMMIT —
`1 / COUNT(*)` of the run's row still held by this lease, with no stop asked for — aborts the
transaction otherwise (a division by zero: the COMMIT then rolls back). The journal reads why
afterwards: `Gone`, `LeaseLost`, or `StopSeen` — the block is done again by the caller, the stop
known this time.
The run's last event seq and its tenant and user are kept in memory: appending an event is a
plain INSERT, not a MAX(seq) subquery joined with `runs`. (run_id, seq) is the primary key, so
were another process ever to write events for the same run, the insert would fail and roll
back its transaction instead of interleaving.

`hold()` keeps a block's transaction open for the next block to go on and commit (steps whose
tools have no effect outside the run share one commit); were that commit to fail, the held
block's writes are written again by the next transaction, so a retry loses none of them.

A run whose rows are gone (its workspace uninstalled Crane, on any replica) raises `Gone` at
its next write: the execution stops there and that transaction — a tool's writes included —
rolls back, so nothing of the workspace is written again.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from functools import cache
from types import TracebackType
from typing import Any

from core.errors import Gone, LeaseLost, TransientError
from core.plan import RunEvent, Scope, iso
from core.store.conn import Backend, Conn, Cursor
from core.store.jsontext import dump

EventRow = tuple[str, int, str, str, str, str, str, str]


@cache
def _insert_events(count: int) -> str:
    # one multi-row INSERT per transaction: about half the cost of one INSERT per event
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * count)
    return (
        "INSERT INTO run_events (run_id, seq, enterprise_id, team_id, user_id, type, data, "
        f"created_at) VALUES {values}"
    )


def last_seq(conn: Conn, run_id: str) -> int:
    row = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) AS seq FROM run_events WHERE run_id = ?", (run_id,)
    ).fetchone()
    return int(row["seq"])


# PostgreSQL: the lease renewed first in every transaction of an executing journal (the row
# stays locked until the COMMIT), and whether a stop was asked for, in one statement
RENEW_RETURNING_STOP = (
    "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_token = ? RETURNING stop_requested"
)
# … and last, where nothing was read: fails (division by zero) unless the lease still holds
# and, if it was assumed, no stop was asked for
GUARD = "SELECT 1 / COUNT(*) FROM runs WHERE id = ? AND owner_token = ? AND stop_requested <= ?"
# SQLite: the fence is a read; the heartbeat written now and then (see the module's docstring)
FENCE = "SELECT stop_requested FROM runs WHERE id = ? AND owner_token = ?"
RENEW = "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_token = ?"
RENEW_EVERY = timedelta(seconds=1)


class StopSeen(TransientError):
    """A transaction that assumed no stop was asked for met one: rolled back (its held blocks'
    writes kept for the next); do the block again, the stop known this time."""


class RunTransaction:
    """The transactions of one run's journal, one open at a time."""

    def __init__(
        self,
        db: Backend,
        run_id: str,
        scope: Scope,
        lease: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`lease`: the token this process holds the run under (None: not executing it — an
        answer to its question — so nothing is fenced)."""
        self._db = db
        self.run_id = run_id
        self.lease = lease
        self._clock = clock or (lambda: datetime.now(UTC))
        self._tenant = (scope.enterprise_id, scope.team_id, scope.user_id)
        self.scope = scope
        with db.read() as conn:
            self.seq = last_seq(conn, run_id)
        # the open transaction and what it has written so far (set by __enter__)
        self._transaction: AbstractContextManager[Conn]
        self._conn: Conn
        self._events: list[RunEvent] = []
        self._rows: list[EventRow] = []
        self._checks: list[Cursor] = []  # writes whose row count is checked before the COMMIT
        self._changes: list[tuple[str, tuple[Any, ...]]] = []  # the same writes, to redo
        self._announced: list[RunEvent] = []  # what the caller announces: filled at the COMMIT
        self._hold = self._holding = False
        self._held: tuple[int, int] = (0, 0)  # changes and events the held blocks wrote
        self._redo: tuple[list[tuple[str, tuple[Any, ...]]], list[EventRow], list[RunEvent]]
        self._redo = ([], [], [])
        self._fence: Cursor
        self._fenced: Any = None
        self._pipelined = db.pipelined
        self._assumed = False  # this transaction took "no stop asked for" without reading it
        self._guarded = False  # its COMMIT goes out behind the GUARD (PostgreSQL)
        self._stop_seen = False  # a stop, once asked for, stays asked for
        self._renewed: datetime | None = None  # SQLite: when this journal last wrote the heartbeat
        self._moment: datetime | None = None
        self._stamp = ""

    def transaction(self) -> RunTransaction:
        """`with journal.transaction() as events:` one write transaction (BEGIN IMMEDIATE …
        COMMIT); `events` collects the events it writes, to be announced once the block has
        committed. A tool's own writes made inside the block join the transaction. Nothing is
        kept in memory (seq) unless the COMMIT succeeded. Raises LeaseLost (nothing written)
        if this process no longer holds the run's lease."""
        return self

    def __enter__(self) -> list[RunEvent]:
        self._announced = []
        if self._holding:  # the held transaction goes on
            self._holding = False
            return self._announced
        self._events, self._rows, self._checks, self._changes = [], [], [], []
        self._held = (0, 0)
        self._transaction = self._db.write()
        self._conn = self._transaction.__enter__()
        self._fenced = None
        self._assumed = self._guarded = False
        if self.lease is not None:
            self._fence_now()
        changes, rows, events = self._redo  # a held block whose shared commit failed
        if changes:
            self._redo = ([], [], [])
            for sql, params in changes:
                self._change(sql, params)
            self._rows += rows
            self._events += events
        return self._announced

    def _fence_now(self) -> None:
        """The first statement of a fenced transaction; its row is read when first needed."""
        now = self._clock()
        if self._pipelined:
            renewal = (iso(now), self.run_id, self.lease)
            self._fence = self._conn.execute(RENEW_RETURNING_STOP, renewal)
            return
        self._fence = self._conn.execute(FENCE, (self.run_id, self.lease))
        if self._renewed is None or not timedelta(0) <= now - self._renewed < RENEW_EVERY:
            self._renewed = now
            self._conn.execute(RENEW, (iso(now), self.run_id, self.lease))

    def hold(self) -> None:
        """Inside a block: do not commit when it ends; the next block goes on with its
        transaction (and its events are announced with that block's, after the COMMIT)."""
        if self._assumed:  # the next tool runs before the COMMIT: read what was assumed now
            self._stop_assumed_wrong()
        self._hold = True

    def _stop(self) -> bool:
        """Whether a stop was asked for (a leased journal): on PostgreSQL, before anything of
        this transaction was read back, assumed not — the GUARD checks it at the COMMIT."""
        if self._stop_seen:
            return True
        if self._fenced is None and self._pipelined:
            self._assumed = True
            return False
        return bool(self._fenced_row()["stop_requested"])

    def _stop_assumed_wrong(self) -> None:
        if self._fenced_row()["stop_requested"]:
            self._stop_seen = True
            raise StopSeen(f"run {self.run_id}: a stop was asked for")

    def release(self) -> list[RunEvent]:
        """Commit a held transaction now; the events to announce (none if nothing was held)."""
        if not self._holding:
            return []
        with self.transaction() as events:
            pass
        return events

    def fenced(self) -> None:
        """Raise LeaseLost or Gone now, before a tool with effects runs in this transaction."""
        if self.lease is not None:
            self._fenced_row()

    def _fenced_row(self) -> Any:
        """The renewed lease's row (its stop_requested): LeaseLost or Gone if not renewed."""
        if self._fenced is None:
            rows = self._fence.fetchall()
            if not rows:
                found = self._conn.execute("SELECT 1 FROM runs WHERE id = ?", (self.run_id,))
                if found.fetchone() is None:
                    raise Gone(f"run {self.run_id} was deleted (its workspace uninstalled Crane)")
                raise LeaseLost(f"run {self.run_id} was taken over by another process")
            self._fenced = rows[0]
        return self._fenced

    def _checked(self) -> None:
        """Before the COMMIT: every statement that had to change a row did. On PostgreSQL the
        lease's row lock covers them (nothing deletes a run's steps but with its row) and the
        GUARD stands for the fence where nothing was read back: no round trip before the
        COMMIT's own."""
        if self.lease is not None and self._pipelined:
            if self._fenced is None:
                self._guarded = True
                assumed = 0 if self._assumed else 1  # the most stop_requested may be
                self._conn.execute(GUARD, (self.run_id, self.lease, assumed))
            elif self._assumed:
                self._stop_assumed_wrong()
            return
        self.fenced()
        for cursor in self._checks:
            if cursor.rowcount == 0:
                raise Gone(f"run {self.run_id} was deleted (its workspace uninstalled Crane)")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        hold, self._hold = self._hold, False
        if kind is None and hold:
            self._holding, self._held = True, (len(self._changes), len(self._events))
            return
        try:
            if kind is None:
                try:
                    rows = self._rows
                    if rows:
                        values = [v for row in rows for v in row]
                        self._conn.execute(_insert_events(len(rows)), values)
                    self._checked()
                except BaseException as failed:
                    self._transaction.__exit__(type(failed), failed, failed.__traceback__)
                    self._why(failed)
                    raise
            try:
                self._transaction.__exit__(kind, error, traceback)
            except Exception as failed:
                self._why(failed)
                raise
        except TransientError:
            self._keep_held()
            raise
        if kind is not None and issubclass(kind, TransientError):
            self._keep_held()
        if kind is None:
            self.seq += len(self._events)
            self._announced += self._events

    def _why(self, failure: BaseException) -> None:
        """After a guarded transaction failed and rolled back: raise what the GUARD stood for,
        if it failed (else the caller raises `failure`)."""
        if not self._guarded or not isinstance(failure, Exception):
            return
        self._guarded = False
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT owner_token, stop_requested FROM runs WHERE id = ?", (self.run_id,)
            ).fetchone()
        if row is None:
            raise Gone(f"run {self.run_id} was deleted (its workspace uninstalled Crane)")
        if row["owner_token"] != self.lease:
            raise LeaseLost(f"run {self.run_id} was taken over by another process")
        if row["stop_requested"] and self._assumed:
            self._stop_seen = True
            raise StopSeen(f"run {self.run_id}: a stop was asked for") from failure

    def abandon(self) -> None:
        """Roll a held transaction back, as the process dying would."""
        if self._holding:
            self._holding = False
            dying = RuntimeError("abandoned")
            self._transaction.__exit__(RuntimeError, dying, None)

    def _keep_held(self) -> None:
        """The shared transaction failed: its held blocks' writes go into the next one (the
        retry redoes only the failed block)."""
        changes, events = self._held
        self._redo = (self._changes[:changes], self._rows[:events], self._events[:events])

    def _at(self, now: datetime) -> str:
        # One clock reading serves every write of a transaction: convert it once.
        if now is not self._moment:
            self._moment, self._stamp = now, iso(now)
        return self._stamp

    def event(self, kind: str, data: dict[str, Any], now: datetime) -> None:
        """Append an event; the transaction writes its events when its block ends."""
        seq = self.seq + len(self._events) + 1
        self._rows.append((self.run_id, seq, *self._tenant, kind, dump(data), self._at(now)))
        self._events.append(
            RunEvent(run_id=self.run_id, seq=seq, type=kind, data=data, created_at=now)
        )

    def _change(self, sql: str, params: tuple[Any, ...]) -> None:
        """A write that must change its row: checked before the COMMIT (`_checked`)."""
        self._checks.append(self._conn.execute(sql, params))
        self._changes.append((sql, params))
