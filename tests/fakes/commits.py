"""Control over a store's commits, so a test can make requests share one group commit
(core.store.group) and make that commit fail."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import pytest

from core.errors import Unavailable
from core.store import Store

WAIT_S = 10.0


class HeldCommits:
    """The next write transaction waits until `release()`: the requests arriving meanwhile
    queue for the commit after it. With `fail`, every commit after the release fails, as a
    database that dies at COMMIT would (the rows are rolled back, the caller gets Unavailable)."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.store = store
        self.fail = False
        self.failed = 0
        self._released = threading.Event()
        self._holding = threading.Event()
        backend = store._db  # the store's own backend: a test double at its one seam
        self._write = backend.write
        self._writing = backend.writing
        monkeypatch.setattr(backend, "write", self._transaction)
        # one batch at a time (PostgreSQL allows a few): the held one, then the one behind it
        monkeypatch.setattr(store.grouped, "max_leaders", 1)

    def _transaction(self) -> AbstractContextManager[Any]:
        if self._writing():  # a nested write joins the one open: nothing to hold or fail
            return self._write()
        if not self._released.is_set():
            self._holding.set()
            assert self._released.wait(WAIT_S), "commits held too long"
        return _Failing(self) if self.fail else self._write()

    def wait_queued(self, count: int) -> None:
        """Until the first transaction is held and `count` requests queue behind it."""
        deadline = time.monotonic() + WAIT_S
        while not (self._holding.is_set() and self.store.grouped.waiting >= count):
            assert time.monotonic() < deadline, self.store.grouped.waiting
            time.sleep(0.005)

    def release(self) -> None:
        self._released.set()

    def together(self, calls: Sequence[Callable[..., Any]]) -> list[Any]:
        """Run the first call and hold its commit while the others queue behind it, one at a
        time so they queue in the order given; then let all go: the others share the second
        commit. Each call's value, or the exception it raised."""
        outcomes: list[Any] = [None] * len(calls)

        def call(i: int) -> None:
            try:
                outcomes[i] = calls[i]()
            except Exception as error:
                outcomes[i] = error

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
        for queued, thread in enumerate(threads):
            thread.start()
            self.wait_queued(queued)
        self.release()
        for thread in threads:
            thread.join(30)
        return outcomes


class _Failing:
    def __init__(self, held: HeldCommits) -> None:
        self.held = held
        self.inner = held._write()

    def __enter__(self) -> Any:
        return self.inner.__enter__()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: Any
    ) -> None:
        if kind is not None:
            self.inner.__exit__(kind, error, tb)
            return
        lost = Unavailable("cannot reach the database: the connection was lost at COMMIT")
        self.inner.__exit__(Unavailable, lost, None)  # rolls back
        self.held.failed += 1
        raise lost
