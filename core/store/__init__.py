"""The store: every SQL statement of Crane, one text per operation for SQLite (a file path:
`core.store.db`) and PostgreSQL (a URL: `core.store.pg`). `Store` is the one object the rest
of the code holds: reads and write transactions on its backend, rows stamped by its clock."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from core.limits import Limits
from core.plan import Feedback, History, Run, RunEvent, RunStatus, Scope, Todo
from core.ratelimit import Budget, Limit, LocalBudget
from core.store import approvals, conversations, intake, journal, runs, tenants, todos, usage
from core.store.conn import Backend, Conn
from core.store.group import GroupCommit
from core.store.installations import Installations
from core.store.journal import Journal
from core.store.slack import SlackBookkeeping
from core.store.usage import Accounting

Clock = Callable[[], datetime]
IDEMPOTENCY_TTL = timedelta(hours=24)
Owner = tuple[str, int, str]  # host, pid, token of the process executing a run


def utc_now() -> datetime:
    return datetime.now(UTC)


class _KeyTaken(Exception):
    """Another request bound this idempotency key first: undo this run."""


def is_url(db: str) -> bool:
    """A PostgreSQL URL, not a SQLite path. (Here, not in `pg`: SQLite never imports psycopg.)"""
    return db.startswith(("postgresql://", "postgres://"))


def rate_budget(db: str, limits: dict[str, Limit]) -> Budget:
    """An outside API's rate budget: on PostgreSQL the one every replica on that database
    spends; else this process's own."""
    if is_url(db):
        from core.store.ratebudget import PgBudget

        return PgBudget(db, limits)
    return LocalBudget(limits)


def describe(db: str) -> str:
    """The database for messages: a path, or a URL without its password."""
    if not is_url(db):
        return db
    from core.store.pg_migrate import describe as without_password

    return without_password(db)


def upgrade(db: str) -> list[str]:
    """Apply pending schema migrations without starting anything; the names applied."""
    if is_url(db):
        from core.store.pg_migrate import migrate

        return migrate(db)
    from core.store.db import Connections

    opened = Connections(db)
    opened.close()
    return opened.upgraded


def open_backend(db: str, pool_size: int = 10) -> Backend:
    """A `postgresql://` or `postgres://` URL: PostgreSQL; anything else: a SQLite file."""
    if is_url(db):
        from core.store.pg import PgDatabase
        from core.store.pg_migrate import migrate

        migrate(db)  # unreachable: Unavailable, before any pool exists
        return PgDatabase(db, pool_size)
    from core.store.db import Connections

    return Connections(db)


class Store(SlackBookkeeping, Accounting):
    def __init__(self, path: str, clock: Clock = utc_now, pool_size: int = 10) -> None:
        self.path = path
        self.clock = clock
        self.closed = False
        self._db = open_backend(path, pool_size)
        leaders = max(1, pool_size // 3) if is_url(path) else 1  # batches at once
        self.grouped = GroupCommit(self._db, leaders)  # runs and intake records
        self.installations = Installations(self._db, clock)

    def write(self) -> AbstractContextManager[Conn]:
        """`with store.write() as conn:` one write transaction (nested calls join it)."""
        return self._db.write()

    def ping(self) -> None:
        """Raise (Unavailable on PostgreSQL) unless the database answers."""
        self._db.ping()

    def close(self) -> None:
        self.closed = True  # background threads (lease heartbeats) stop on it
        self.grouped.close()
        self._db.close()

    # todos — called by the todo tools inside the step's transaction
    def add_todo(self, scope: Scope, title: str) -> Todo:
        with self.write() as conn:
            return todos.add(conn, scope, title, self.clock())

    def list_todos(self, scope: Scope, include_done: bool = False) -> list[Todo]:
        with self._db.read() as conn:
            return todos.listing(conn, scope, include_done)

    def get_todo(self, scope: Scope, number: int) -> Todo:
        with self._db.read() as conn:
            return todos.get(conn, scope, number)

    def complete_todo(self, scope: Scope, number: int) -> Todo:
        with self.write() as conn:
            return todos.complete(conn, scope, number, self.clock())

    def delete_todo(self, scope: Scope, number: int) -> Todo:
        with self.write() as conn:
            return todos.delete(conn, scope, number, self.clock())

    # runs
    def insert_run(
        self,
        run: Run,
        owner: Owner,
        idempotency: tuple[str, str] | None = None,
        received: str | None = None,
        shown_in: dict[str, Any] | None = None,
        limits: Limits | None = None,
    ) -> str:
        """Store a new run; with (key, body hash), a key this caller used in the last 24 h
        returns the run already stored for it instead (checked in the same transaction, so
        two concurrent requests with one key cannot both create a run). `received`: its intake
        record, gone in the same transaction; `shown_in`: where a front end shows it. The run
        is counted in its user's usage here (a replay counts nothing); over one of `limits`:
        LimitReached, and nothing is stored."""

        def store(conn: Conn) -> str:  # one request of a group commit (core.store.group)
            if received is not None:
                intake.forget(conn, received)
            if idempotency:
                key, body_hash = idempotency
                since = self.clock() - IDEMPOTENCY_TTL
                found = conversations.idempotent_run(conn, run.scope, key, since)
                if found:
                    return str(found[1])
            if limits is not None:  # None: a click's run, never counted
                now = self.clock()
                limits.check_runs(usage.count_run(conn, run, now, limits), now)
            runs.insert_run(conn, run, owner)
            if shown_in is not None:
                runs.save_shown(conn, run.id, shown_in)
            if received is not None:  # its requester is answered by the front end
                intake.owe_answer(conn, run.id)
            if idempotency and not conversations.claim_idempotent(
                conn, run.scope, key, body_hash, run.id, self.clock(), since
            ):
                raise _KeyTaken  # PostgreSQL: a concurrent request bound it first
            return run.id

        try:
            return self.grouped.run(store)
        except _KeyTaken:  # its savepoint undid this run's rows
            key, _ = idempotency or ("", "")
            found = self.idempotent_run(run.scope, key)
            assert found is not None  # bound by a committed transaction, newer than `since`
            return str(found[1])

    def idempotent_run(self, scope: Scope, key: str) -> tuple[str, str] | None:
        """(body hash, run id) for this caller's idempotency key, within the last 24 h."""
        with self._db.read() as conn:
            return conversations.idempotent_run(conn, scope, key, self.clock() - IDEMPOTENCY_TTL)

    def get_run(self, run_id: str, scope: Scope | None = None) -> Run:
        with self._db.read() as conn:
            return runs.load_run(conn, run_id, scope)

    def list_runs(
        self,
        scope: Scope | None = None,
        limit: int = 20,
        status: RunStatus | None = None,
        before: tuple[str, str] | None = None,
    ) -> list[Run]:
        with self._db.read() as conn:
            return runs.list_runs(conn, scope, limit, status, before)

    def history(self, scope: Scope, conversation: str) -> History:
        with self._db.read() as conn:
            return runs.history(conn, scope, conversation)

    def journal(self, run_id: str, scope: Scope, lease: str | None = None) -> Journal:
        """The writer of a run this process is about to execute under `lease` (see `journal`)."""
        return Journal(self._db, run_id, scope, lease, self.clock)

    def events_after(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        with self._db.read() as conn:
            return runs.events_after(conn, run_id, after_seq)

    def unfinished_runs(self) -> list[Any]:
        with self._db.read() as conn:
            return runs.unfinished(conn)

    def run_owner(self, run_id: str) -> Any:
        """The run's status, owner host, pid, token and heartbeat_at (None: no such run)."""
        with self._db.read() as conn:
            return runs.owner(conn, run_id)

    def take_run(self, run_id: str, expected: str | None, owner: Owner, lease: timedelta) -> bool:
        """Take the run's lease for `owner` (its token is the fencing token): from the token
        `expected`, or from an owner whose lease (`lease` long) has expired."""
        now = self.clock()
        with self.write() as conn:
            taken = runs.take(conn, run_id, expected, owner, now, now - lease)
        # read after the COMMIT (PostgreSQL: one round trip, not two): a take that changed
        # nothing committed nothing
        return taken.rowcount == 1

    def renew_leases(self, leases: dict[str, str]) -> list[str]:
        """Renew the leases held (run id → token); the runs whose lease was lost."""
        lost = []
        with self.write() as conn:
            now = self.clock()
            for run_id, token in leases.items():
                if not journal.renew(conn, run_id, token, now):
                    lost.append(run_id)
        return lost

    def claim_run(self, run_id: str, previous_token: str | None, owner: Owner) -> bool:
        with self.write() as conn:
            return runs.claim(conn, run_id, previous_token, owner, self.clock())

    # approvals (core.approval decides; these read and annotate)
    def waiting_approval(self, run_id: str) -> Any:
        """The run's open question (a row: idx, question, detail, expires_at, place) or None."""
        with self._db.read() as conn:
            return approvals.waiting(conn, run_id)

    def last_decision(self, run_id: str) -> Any:
        """The run's latest answered question (idx, status, decided_by, place) or None."""
        with self._db.read() as conn:
            return approvals.last_decision(conn, run_id)

    def expired_approvals(self) -> list[str]:
        with self._db.read() as conn:
            return approvals.expired(conn, self.clock())

    # feedback
    def vote(self, run_id: str, voter: Scope, value: str) -> None:
        with self.write() as conn:
            approvals.vote(conn, run_id, voter, value, self.clock())

    def vote_totals(self) -> Feedback:
        with self._db.read() as conn:
            return approvals.vote_totals(conn)

    def conversation_exists(self, scope: Scope, conversation: str) -> bool:
        with self._db.read() as conn:
            return conversations.conversation_exists(conn, scope, conversation)

    def forget_tenant(self, enterprise_id: str, team_id: str | None) -> dict[str, int]:
        """Delete every row of a workspace (or, team_id None, of a whole org): an uninstall.
        A run of it still executing elsewhere stops at its next write (see `Journal`)."""
        with self.write() as conn:
            return tenants.forget(conn, enterprise_id, team_id)

    def forget_old_requests(self) -> int:
        """Delivery records and idempotency keys past their 24 h are no longer needed."""
        with self.write() as conn:
            cutoff = self.clock() - IDEMPOTENCY_TTL
            return conversations.forget_before(conn, cutoff) + usage.forget_minutes_before(
                conn, cutoff
            )
