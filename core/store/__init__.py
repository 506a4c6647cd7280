"""The store: every SQL statement of Crane lives in this package (sqlite-utils for the schema).

`Store` is the one object the rest of the code holds; it hands out per-thread connections,
opens write transactions with BEGIN IMMEDIATE and stamps rows with its injected clock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.plan import Feedback, History, Run, RunEvent, RunStatus, Scope, Todo
from core.store import approvals, conversations, runs, todos
from core.store.db import Connections, Transaction
from core.store.journal import Journal

Clock = Callable[[], datetime]
IDEMPOTENCY_TTL = timedelta(hours=24)
Owner = tuple[str, int, str]  # host, pid, token of the process executing a run


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    def __init__(self, path: str, clock: Clock = utc_now) -> None:
        self.path = path
        self.clock = clock
        self._db = Connections(path)

    def write(self) -> Transaction:
        """`with store.write() as conn:` one write transaction (nested calls join it)."""
        return self._db.write()

    def close(self) -> None:
        self._db.close()

    # todos — called by the todo tools inside the step's transaction
    def add_todo(self, scope: Scope, title: str) -> Todo:
        with self.write() as conn:
            return todos.add(conn, scope, title, self.clock())

    def list_todos(self, scope: Scope, include_done: bool = False) -> list[Todo]:
        return todos.listing(self._db.conn, scope, include_done)

    def get_todo(self, scope: Scope, number: int) -> Todo:
        return todos.get(self._db.conn, scope, number)

    def complete_todo(self, scope: Scope, number: int) -> Todo:
        with self.write() as conn:
            return todos.complete(conn, scope, number, self.clock())

    def delete_todo(self, scope: Scope, number: int) -> Todo:
        with self.write() as conn:
            return todos.delete(conn, scope, number, self.clock())

    # runs
    def insert_run(self, run: Run, owner: Owner, idempotency: tuple[str, str] | None = None) -> str:
        """Store a new run; with (key, body hash), a key this caller used in the last 24 h
        returns the run already stored for it instead (checked inside the same transaction,
        so two concurrent requests with one key cannot both create a run)."""
        with self.write() as conn:
            if idempotency:
                key, body_hash = idempotency
                since = self.clock() - IDEMPOTENCY_TTL
                found = conversations.idempotent_run(conn, run.scope, key, since)
                if found:
                    return found[1]
                runs.insert_run(conn, run, owner)
                conversations.remember_idempotent(
                    conn, run.scope, key, body_hash, run.id, self.clock()
                )
            else:
                runs.insert_run(conn, run, owner)
        return run.id

    def idempotent_run(self, scope: Scope, key: str) -> tuple[str, str] | None:
        """(body hash, run id) for this caller's idempotency key, within the last 24 h."""
        return conversations.idempotent_run(
            self._db.conn, scope, key, self.clock() - IDEMPOTENCY_TTL
        )

    def get_run(self, run_id: str, scope: Scope | None = None) -> Run:
        return runs.load_run(self._db.conn, run_id, scope)

    def list_runs(
        self,
        scope: Scope | None = None,
        limit: int = 20,
        status: RunStatus | None = None,
        before: tuple[str, str] | None = None,
    ) -> list[Run]:
        return runs.list_runs(self._db.conn, scope, limit, status, before)

    def history(self, scope: Scope, conversation: str) -> History:
        return runs.history(self._db.conn, scope, conversation)

    def journal(self, run_id: str, scope: Scope) -> Journal:
        """The writer of a run this process is about to execute (see `journal`)."""
        return Journal(self._db, run_id, scope)

    def events_after(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        return runs.events_after(self._db.conn, run_id, after_seq)

    def unfinished_runs(self) -> list[sqlite3.Row]:
        return runs.unfinished(self._db.conn)

    def claim_run(self, run_id: str, previous_token: str | None, owner: Owner) -> bool:
        with self.write() as conn:
            return runs.claim(conn, run_id, previous_token, owner, self.clock())

    # approvals (core.approval decides; these read and annotate)
    def waiting_approval(self, run_id: str) -> sqlite3.Row | None:
        """The run's open question: idx, question, detail, expires_at, place."""
        return approvals.waiting(self._db.conn, run_id)

    def last_decision(self, run_id: str) -> sqlite3.Row | None:
        return approvals.last_decision(self._db.conn, run_id)

    def expired_approvals(self) -> list[str]:
        return approvals.expired(self._db.conn, self.clock())

    def set_approval_place(self, run_id: str, index: int, place: str) -> None:
        with self.write() as conn:
            approvals.set_place(conn, run_id, index, place)

    # feedback
    def vote(self, run_id: str, voter: Scope, value: str) -> None:
        with self.write() as conn:
            approvals.vote(conn, run_id, voter, value, self.clock())

    def vote_totals(self) -> Feedback:
        return approvals.vote_totals(self._db.conn)

    def conversation_exists(self, scope: Scope, conversation: str) -> bool:
        return conversations.conversation_exists(self._db.conn, scope, conversation)

    def claim_delivery(self, key: str) -> bool:
        """Record a delivery (a Slack event, a message); False if it was already recorded."""
        with self.write() as conn:
            return conversations.claim_delivery(conn, key, self.clock())

    def forget_old_requests(self) -> int:
        """Delivery records and idempotency keys past their 24 h are no longer needed."""
        with self.write() as conn:
            return conversations.forget_before(conn, self.clock() - IDEMPOTENCY_TTL)
