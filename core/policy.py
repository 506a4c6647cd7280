"""What the orchestrator and each execution share: the retry policy, announcing committed
events, and the lease. Its own module so neither of them imports the other."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import TransientError
from core.plan import RunEvent

log = logging.getLogger("crane.orchestrator")

# A run's executor holds a lease on it: renewed by the writes of the run (on SQLite at most once
# a second) and every third of the lease by a heartbeat; once it is this old, another process
# may take over.
LEASE = timedelta(seconds=15)
Listener = Callable[[RunEvent], None]
T = TypeVar("T")


class RetryPolicy:
    """Retries on TransientError only; waits base, 2·base, 4·base… (1 s, 2 s, 4 s by default)."""

    def __init__(
        self, attempts: int = 4, base_s: float = 1.0, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.attempts = max(1, attempts)
        self.base_s = base_s
        self.sleep = sleep
        # After a first transient failure, tenacity runs the remaining attempts. One policy
        # object for every step (tenacity keeps per-call state thread-locally).
        self._rest = Retrying(
            stop=stop_after_attempt(self.attempts - 1),
            wait=wait_exponential(multiplier=2 * base_s),
            retry=retry_if_exception_type(TransientError),
            sleep=sleep,
            reraise=True,
        )

    def __call__(self, run_id: str, attempt: Callable[..., T], *args: Any) -> T:
        """attempt(*args), retried on TransientError."""
        try:
            return attempt(*args)  # the common case: no retry machinery
        except TransientError:
            if self.attempts == 1:
                raise
            log.warning("transient failure, retrying", extra={"run_id": run_id})
        self.sleep(self.base_s)
        return self._rest(attempt, *args)


class Announcer:
    """Hands committed events to subscribers and to the listener of the execution running in
    this thread (runs execute in many threads)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._local = threading.local()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event after it is committed; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def set_local(self, listener: Listener | None) -> None:
        """This thread's execution listener, or none."""
        self._local.listeners = [listener] if listener else []

    def __call__(self, events: list[RunEvent]) -> None:
        """Hand committed events, in order, to every subscriber and this thread's listener."""
        listeners = [*self._listeners, *getattr(self._local, "listeners", ())]
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # a broken subscriber must not break the run
                    log.exception("event listener failed", extra={"run_id": event.run_id})
