"""Slack's own bookkeeping in the store: delivery records (Slack retries and event twins), the
durable intake of acknowledged requests, where each run is shown (the ts of every message
posted for it), where its approval prompt is, and whether its answer is out. Front ends call
these from one place (`bot.ledger`); the lifecycle (`core.runtime`) never needs them except to
take over what a dead process left."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from core.plan import Received, Scope, iso
from core.store import approvals, conversations, intake, runs
from core.store.conn import Backend, Conn
from core.store.group import GroupCommit

Owner = tuple[str, int, str]


class _Recorded(Exception):
    """This delivery was recorded before: undo this request's intake record."""


class SlackBookkeeping:
    """Mixed into `Store`: the same database, clock and transactions."""

    _db: Backend
    grouped: GroupCommit
    clock: Callable[[], datetime]

    def claim_delivery(self, key: str, tenant: Scope | None = None) -> bool:
        """Record a delivery (a Slack event, a message) of `tenant`'s workspace; False if it
        was already recorded."""
        with self._db.write() as conn:
            return conversations.claim_delivery(conn, key, tenant or Scope(), self.clock())

    def save_shown(self, run_id: str, shown_in: dict[str, Any]) -> None:
        """Where a front end shows the run and what it posted for it (see `runs.shown_in`)."""
        with self._db.write() as conn:
            runs.save_shown(conn, run_id, shown_in)

    def shown(self, run_id: str) -> dict[str, Any] | None:
        with self._db.read() as conn:
            return runs.shown(conn, run_id)

    def unfinished_in(self, tenant: Scope, conversation: str) -> list[tuple[str, str]]:
        """(run id, status) of the runs of a workspace's thread not finished yet, anyone's."""
        with self._db.read() as conn:
            return conversations.unfinished_in(conn, tenant, conversation)

    def set_approval_place(self, run_id: str, index: int, place: str) -> None:
        with self._db.write() as conn:
            approvals.set_place(conn, run_id, index, place)

    # durable intake
    def receive(self, received: Received, delivery_key: str | None, owner: Owner) -> bool:
        """Record an acknowledged request, with its delivery key in the same transaction;
        False (nothing recorded) if that delivery was recorded before (a retry, a twin)."""
        try:
            return self.grouped.run(self._recording(received, delivery_key, owner))
        except _Recorded:  # its savepoint (or transaction) undid the intake record
            return False

    def receive_soon(
        self, received: Received, delivery_key: str | None, owner: Owner
    ) -> Future[bool]:
        """`receive` for an event loop: a future of its answer, set once it is durable."""
        answer: Future[bool] = Future()

        def done(recorded: Future[bool]) -> None:
            error = recorded.exception()
            if isinstance(error, _Recorded):
                answer.set_result(False)
            elif error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(True)

        self.grouped.submit(self._recording(received, delivery_key, owner)).add_done_callback(done)
        return answer

    def _recording(
        self, received: Received, delivery_key: str | None, owner: Owner
    ) -> Callable[[Conn], bool]:
        def record(conn: Conn) -> bool:  # shares its commit with concurrent ones
            intake.record(conn, received, owner)  # first: the claim's answer brings its own
            if delivery_key and not conversations.claim_delivery(
                conn, delivery_key, received.scope, self.clock()
            ):
                raise _Recorded  # a retry, even of one recorded earlier in this batch
            return True

        return record

    def forget_received(self, intake_id: str) -> None:
        """A received request answered without a run (or not at all: thread chatter)."""
        with self._db.write() as conn:
            intake.forget(conn, intake_id)

    def received_owners(self) -> list[Any]:
        with self._db.read() as conn:
            return intake.owners(conn)

    def claim_received(self, intake_id: str, previous_token: str, owner: Owner) -> Received | None:
        """Take over a received request from a dead process: the request, or None if another
        process took it first."""
        with self._db.write() as conn:
            if not intake.claim(conn, intake_id, previous_token, owner):
                return None
            return intake.load_received(conn, intake_id)

    def mark_answered(self, run_id: str) -> None:
        """The front end posted this run's answer (see `intake.owe_answer`)."""
        with self._db.write() as conn:
            intake.mark_answered(conn, run_id)

    def unanswered_runs(self) -> list[Any]:
        with self._db.read() as conn:
            return intake.unanswered(conn)

    def claim_unanswered(self, run_id: str, previous_token: str | None, owner: Owner) -> bool:
        with self._db.write() as conn:
            return intake.claim_unanswered(conn, run_id, previous_token, owner, iso(self.clock()))
