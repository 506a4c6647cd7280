"""Group commit: requests that arrive together (Slack intake records, REST runs) share one
write transaction and so one durable commit, instead of queueing for one commit each.

There is no timer and no committer thread. A caller that finds fewer than `leaders` batches
committing leads one: it commits its own request with whatever is queued. Everyone arriving
while they are all busy queues; when a commit is done, the first of them leads the next batch.
So the window is the previous commit's duration — nothing waits when the database is idle —
and a batch is at most `MAX_BATCH` requests. Each caller returns only once the commit holding
its request is durable.

Each request is its own function of the shared connection, under a savepoint: one request's
refusal (a duplicate key, a limit) rolls back its own rows only, and only its caller gets the
error. A commit that fails fails every request in the batch: none of them was recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from core.store.conn import Backend, Conn

T = TypeVar("T")
MAX_BATCH = 256  # bounds how long one commit holds the writer lock


class _Request(Generic[T]):
    __slots__ = ("done", "error", "leads", "value", "work")

    def __init__(self, work: Callable[[Conn], T]) -> None:
        self.work = work
        self.done = threading.Event()
        self.leads = False  # woken to lead the next batch, not because its request is done
        self.value: Any = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        value: T = self.value
        return value


def _sync(conn: Conn) -> None:
    """Raise now an error a pipelined statement met (PostgreSQL), so it stays this request's."""
    sync = getattr(conn, "sync", None)
    if sync is not None:
        sync()


class GroupCommit:
    def __init__(self, db: Backend, leaders: int = 1) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._queue: list[_Request[Any]] = []
        # batches committing at once: one on SQLite (one writer anyway); a few on PostgreSQL,
        # where a batch's round trips are the cost, so that batches overlap
        self.max_leaders = max(1, leaders)
        self._leaders = 0
        self.batches = 0  # commits made (a bench reads the requests per commit)
        self.requests = 0

    @property
    def waiting(self) -> int:
        """Requests queued for the next commit."""
        with self._lock:
            return len(self._queue)

    def run(self, work: Callable[[Conn], T]) -> T:
        """`work(conn)` inside a write transaction shared with concurrent callers; its value
        once that transaction is committed. Inside a transaction already open on this thread,
        it simply joins that one."""
        if self._db.writing():
            with self._db.write() as conn:
                return work(conn)
        request = _Request(work)
        with self._lock:
            leads = self._leaders < self.max_leaders
            if leads:
                self._leaders += 1
            else:
                self._queue.append(request)
        if not leads:
            request.done.wait()
            if not request.leads:
                return request.outcome()
        self._lead(request)
        return request.outcome()

    def _lead(self, first: _Request[Any]) -> None:
        """Commit `first` with whatever is queued; then hand the lead to the next in line."""
        with self._lock:
            batch = [first, *self._queue[: MAX_BATCH - 1]]
            del self._queue[: MAX_BATCH - 1]
        try:
            self._commit(batch)
        finally:
            with self._lock:
                self.batches += 1
                self.requests += len(batch)
                if self._queue:  # the first waiting request leads the next batch
                    following = self._queue.pop(0)
                    following.leads = True
                    following.done.set()
                else:
                    self._leaders -= 1
            for request in batch:
                request.done.set()

    def _commit(self, batch: list[_Request[Any]]) -> None:
        try:
            with self._db.write() as conn:
                if len(batch) == 1:  # alone: its own failure rolls back the transaction
                    batch[0].value = batch[0].work(conn)
                    return
                for request in batch:
                    _isolated(conn, request)
        except BaseException as error:  # nothing of this batch was committed
            for request in batch:
                if request.error is None:
                    request.error = error
            if not isinstance(error, Exception):
                raise


def _isolated(conn: Conn, request: _Request[Any]) -> None:
    conn.execute("SAVEPOINT grouped")
    try:
        request.value = request.work(conn)
        _sync(conn)
    except Exception as error:
        request.value, request.error = None, error
        conn.execute("ROLLBACK TO SAVEPOINT grouped")  # failing here fails the whole batch
    conn.execute("RELEASE SAVEPOINT grouped")
