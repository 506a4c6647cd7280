"""One write transaction of a run being executed (`RunTransaction`, the base of
`core.store.journal.Journal`): the lease fenced first, the events written with the changes
they announce, handed back only after the COMMIT, and commits shared between blocks.

Every transaction of an executing run is fenced by its lease (`core.store.fence`): a process
that lost the run, or a run whose workspace was uninstalled, writes nothing more.

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
from datetime import UTC, datetime
from functools import cache
from types import TracebackType
from typing import Any

from core.errors import Gone, TransientError
from core.plan import RunEvent, Scope, iso
from core.store.conn import Backend, Conn, Cursor
from core.store.fence import Fence
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
        clock = self._clock
        self._fence = None if lease is None else Fence(run_id, lease, db.pipelined, clock)
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
        if self._fence is not None:
            self._fence.begin(self._conn)
        changes, rows, events = self._redo  # a held block whose shared commit failed
        if changes:
            self._redo = ([], [], [])
            for sql, params in changes:
                self._change(sql, params)
            self._rows += rows
            self._events += events
        return self._announced

    def hold(self) -> None:
        """Inside a block: do not commit when it ends; the next block goes on with its
        transaction (and its events are announced with that block's, after the COMMIT)."""
        if self._fence is not None:  # the next tool runs before the COMMIT: nothing assumed
            self._fence.check_assumed()
        self._hold = True

    def release(self) -> list[RunEvent]:
        """Commit a held transaction now; the events to announce (none if nothing was held)."""
        if not self._holding:
            return []
        with self.transaction() as events:
            pass
        return events

    def fenced(self) -> None:
        """Raise LeaseLost or Gone now, before a tool with effects runs in this transaction."""
        if self._fence is not None:
            self._fence.read()

    def _stop(self) -> bool:
        """Whether a stop was asked for (a leased journal; see `Fence.stop`)."""
        assert self._fence is not None
        return self._fence.stop()

    def _checked(self) -> None:
        """Before the COMMIT: the fence, and every statement that had to change a row did (on
        PostgreSQL the fence's row lock stands for these: no round trip before the COMMIT's)."""
        if self._fence is not None and self._fence.before_commit():
            return
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
        """A failed COMMIT: what the fence's guard stood for, if that failed (`Fence.why`)."""
        if self._fence is not None:
            self._fence.why(failure, self._read_one)

    def _read_one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self._db.read() as conn:
            return conn.execute(sql, params).fetchone()

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
