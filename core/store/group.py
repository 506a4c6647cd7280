"""Group commit: requests that arrive together (Slack intake records, REST runs) share one
write transaction and so one durable commit, instead of queueing for one commit each.

There is no timer. A caller that finds fewer than `leaders` batches committing leads one: it
commits its own request with whatever is queued. Everyone arriving while they are all busy
queues; when a commit is done, the first of them leads the next batch. So the window is the
previous commit's duration — nothing waits when the database is idle — and a batch is at most
`MAX_BATCH` requests. Each caller returns only once the commit holding its request is durable.

`submit` is the same without a waiting caller (an event loop's request): it returns a future,
and a committer thread leads in its place — the loop spends no thread of its own per request.

Each request is its own function of the shared connection, under a savepoint: one request's
refusal (a duplicate key, a limit) rolls back its own rows only, and only its caller gets the
error. A commit that fails fails every request in the batch: none of them was recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from core.store.conn import Backend, Conn

T = TypeVar("T")
MAX_BATCH = 256  # bounds how long one commit holds the writer lock


_ANSWERED = threading.Event()  # a submitted request's `done`: never waited on


class _Request(Generic[T]):
    __slots__ = ("done", "error", "future", "leads", "value", "work")

    def __init__(self, work: Callable[[Conn], T], future: Future[T] | None = None) -> None:
        self.work = work
        self.future = future  # submitted: no caller waits on `done`, the future is answered
        self.done = _ANSWERED if future is not None else threading.Event()
        self.leads = False  # woken to lead the next batch, not because its request is done
        self.value: Any = None
        self.error: BaseException | None = None

    def finish(self) -> None:
        if self.future is None:
            self.done.set()
        elif self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.value)

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
        self._committers: ThreadPoolExecutor | None = None  # lead for submitted requests
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
        leads = self._lead_or_queue(request)
        if not leads:
            request.done.wait()
            if not request.leads:
                return request.outcome()
        self._lead(request)
        return request.outcome()

    def submit(self, work: Callable[[Conn], T]) -> Future[T]:
        """`run` without waiting: a future of its value (or error), answered once the commit
        holding it is durable. For an event loop, which must not block on the commit."""
        future: Future[T] = Future()
        request = _Request(work, future)
        if self._lead_or_queue(request):
            with self._lock:
                if self._committers is None:
                    self._committers = ThreadPoolExecutor(
                        self.max_leaders, thread_name_prefix="crane-commit"
                    )
            self._committers.submit(self._lead, request)
        return future

    def _lead_or_queue(self, request: _Request[Any]) -> bool:
        """True: `request` leads a batch now (fewer than `max_leaders` are committing); else
        it is queued for the next one."""
        with self._lock:
            if self._leaders < self.max_leaders:
                self._leaders += 1
                return True
            self._queue.append(request)
            return False

    def _lead(self, first: _Request[Any]) -> None:
        """Commit `first` with whatever is queued; then hand the lead to the next in line (or,
        if that one was submitted, lead its batch too)."""
        following: _Request[Any] | None = first
        while following is not None:
            with self._lock:
                batch = [following, *self._queue[: MAX_BATCH - 1]]
                del self._queue[: MAX_BATCH - 1]
            following = None
            try:
                self._commit(batch)
            finally:
                with self._lock:
                    self.batches += 1
                    self.requests += len(batch)
                    if self._queue:  # the first waiting request leads the next batch
                        following = self._queue.pop(0)
                    else:
                        self._leaders -= 1
                for request in batch:
                    request.finish()
                if following is not None and following.future is None:
                    following.leads = True  # its own caller leads
                    following.done.set()
                    following = None

    def close(self) -> None:
        if self._committers is not None:
            self._committers.shutdown(wait=True)

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
