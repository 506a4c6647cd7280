"""The hot path: the writes of a run being executed — its status, its steps, its questions
and its stop — each inside a `transaction()` of its `RunTransaction` base
(`core.store.run_transaction`: the lease fence, the events, shared commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.plan import RunStatus, Step, iso
from core.store import approvals
from core.store.conn import Conn
from core.store.jsontext import dump
from core.store.run_transaction import RunTransaction, last_seq


def renew(conn: Conn, run_id: str, token: str, now: datetime) -> bool:
    """Stamp the lease of `token` on the run; False if the run is not (or no longer) its."""
    cursor = conn.execute(
        "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_token = ?",
        (iso(now), run_id, token),
    )
    return cursor.rowcount == 1


class Journal(RunTransaction):
    """What a run's executor (or an answer to its question) writes, in its transactions."""

    def run_started(self, now: datetime) -> None:
        self._change(
            "UPDATE runs SET status = 'running', heartbeat_at = ? WHERE id = ?",
            (self._at(now), self.run_id),
        )

    def run_finished(self, status: RunStatus, answer: str, now: datetime) -> None:
        stamp = self._at(now)
        self._change(
            "UPDATE runs SET status = ?, answer = ?, finished_at = ?, heartbeat_at = ? "
            "WHERE id = ?",
            (status.value, answer, stamp, stamp, self.run_id),
        )

    def step_started(self, step: Step) -> None:
        """A step about to run: its resolved arguments and start time (attempts unchanged)."""
        assert step.started_at is not None
        self._change(
            "UPDATE steps SET status = 'running', args = ?, started_at = ? "
            "WHERE run_id = ? AND idx = ?",
            (dump(step.args), self._at(step.started_at), self.run_id, step.index),
        )

    def step_completed(self, step: Step) -> None:
        """A completed step: its result (its arguments were written when it started)."""
        assert step.finished_at is not None
        result = {"value": step.value, "todo_numbers": step.todo_numbers,
                  "todo_number": step.todo_number}  # fmt: skip
        self._change(
            "UPDATE steps SET status = 'completed', output = ?, result = ?, attempts = ?, "
            "finished_at = ? WHERE run_id = ? AND idx = ?",
            (step.output, dump(result), step.attempts, self._at(step.finished_at),
             self.run_id, step.index),
        )  # fmt: skip

    def step_failed(self, step: Step) -> None:
        """A failed step, whole: it may fail before it started (invalid arguments)."""
        assert step.started_at is not None and step.finished_at is not None
        self._change(
            "UPDATE steps SET status = 'failed', args = ?, error = ?, attempts = ?, "
            "started_at = ?, finished_at = ? WHERE run_id = ? AND idx = ?",
            (dump(step.args), step.error, step.attempts, self._at(step.started_at),
             self._at(step.finished_at), self.run_id, step.index),
        )  # fmt: skip

    def skip_after(self, index: int) -> None:
        """Mark every step after `index` that never started skipped."""
        self._conn.execute(
            "UPDATE steps SET status = 'skipped' WHERE run_id = ? AND idx > ? "
            "AND status = 'pending'",
            (self.run_id, index),
        )

    # --- approval and stop (see core.approval) --------------------------------------------------

    def resync(self) -> None:
        """Inside the transaction: re-read the last seq (a run this process did not execute)."""
        self.seq = last_seq(self._conn, self.run_id)

    def ask(
        self, step: Step, question: str, detail: str, now: datetime, expires: datetime,
        reason: str = "destructive",
    ) -> None:  # fmt: skip
        """Pause before `step`: its resolved arguments, the question, the run waiting."""
        self._conn.execute(
            "UPDATE steps SET args = ? WHERE run_id = ? AND idx = ?",
            (dump(step.args), self.run_id, step.index),
        )
        self._conn.execute(
            "UPDATE runs SET status = 'awaiting_approval', heartbeat_at = ? WHERE id = ?",
            (self._at(now), self.run_id),
        )
        approvals.request(self._conn, self.run_id, self.scope, step.index, question, detail,
                          now, expires, reason)  # fmt: skip

    def answers(self) -> dict[int, tuple[str, str]]:
        """Each answered question: step index → (status, reason)."""
        with self._db.read() as conn:
            return approvals.answers(conn, self.run_id)

    def repeating(self, index: int) -> None:
        approvals.repeating(self._conn, self.run_id, index)

    def skip_step(self, index: int) -> None:
        """One step skipped by its requester's answer (or a cancel), running or not."""
        self._conn.execute(
            "UPDATE steps SET status = 'skipped' WHERE run_id = ? AND idx = ? "
            "AND status IN ('pending', 'running')",
            (self.run_id, index),
        )

    def waiting(self) -> Any:
        return approvals.waiting(self._conn, self.run_id)

    def decide(self, index: int, status: str, by: str, now: datetime) -> bool:
        return approvals.decide(self._conn, self.run_id, index, status, by, now)

    def resume(self, owner: tuple[str, int, str], now: datetime) -> bool:
        """An approved run: pending again, owned by the process that will execute it."""
        if not approvals.resume(self._conn, self.run_id):
            return False
        self._conn.execute(
            "UPDATE runs SET owner_host = ?, owner_pid = ?, owner_token = ?, heartbeat_at = ? "
            "WHERE id = ?",
            (*owner, self._at(now), self.run_id),
        )
        return True

    def request_stop(self) -> bool:
        return approvals.request_stop(self._conn, self.run_id)

    def stop_requested(self) -> bool:
        if self.lease is not None:  # read with the lease's fence, in the same statement
            return self._stop()
        return approvals.stop_requested(self._conn, self.run_id)
