"""Group commit: requests that arrive together (Slack intake records, REST runs) share one
write transaction and so one durable commit, instead of queueing for one commit each.

There is no timer and no committer thread. The first caller to find nobody committing leads:
it commits whatever is queued (its own request first). Everyone arriving meanwhile queues; when
that commit is done, the first of them leads the next batch. So the window is the previous
commit's duration — nothing waits when the database is idle — and a batch is at most
`MAX_BATCH` requests. Each caller returns only once the commit holding its request is durable.

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
    def __init__(self, db: Backend) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._queue: list[_Request[Any]] = []
        self._leading = False
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
            self._queue.append(request)
            leads = not self._leading
            self._leading = True
        if not leads:
            request.done.wait()
            if not request.leads:
                return request.outcome()
        self._lead()
        return request.outcome()

    def _lead(self) -> None:
        with self._lock:
            batch = self._queue[:MAX_BATCH]
            del self._queue[:MAX_BATCH]
        try:
            self._commit(batch)
        finally:
            with self._lock:
                self.batches += 1
                self.requests += len(batch)
                if self._queue:  # the first waiting request leads the next batch
                    self._queue[0].leads = True
                    self._queue[0].done.set()
                else:
                    self._leading = False
            for request in batch:
                request.done.set()

    def _commit(self, batch: list[_Request[Any]]) -> None:
        for request in batch:
            request.leads = False
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
