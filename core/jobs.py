"""A bounded pool for slow work: acks never wait for it, and a burst beyond the limit is
turned away at once (the caller says "busy") instead of queueing without end."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("crane.jobs")


# Acks first: a worker about to start a job waits while requests with an ack deadline are
# being answered, and SETTLE_S after the last one, so a burst is acknowledged before its work
# competes with the acks for the GIL. Slack's 3 s ack deadline is hard; a plan starting later is
# not, but no job waits longer than MAX_YIELD_S (a steady stream of requests never starves it).
SETTLE_S = 0.005
MAX_YIELD_S = 1.0


class Jobs:
    def __init__(self, workers: int, limit: int, max_yield_s: float = MAX_YIELD_S) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crane-job")
        self._slots = threading.BoundedSemaphore(max(limit, workers))
        self._idle = threading.Condition()
        self._active = 0
        self.closed = False
        self._max_yield_s = max_yield_s
        self._acking = 0  # requests being acknowledged now (`acking`)
        self._quiet = threading.Event()  # set while none is
        self._quiet.set()
        self._last_arrival = 0.0

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Around a request answered against a deadline (a Slack ack), from its arrival to its
        answer: jobs wait to start until no such request is in progress. On the event loop's
        thread only."""
        if self._acking == 0:
            self._quiet.clear()
        self._acking += 1
        try:
            yield
        finally:
            self._acking -= 1
            self._last_arrival = time.monotonic()
            if self._acking == 0:
                self._quiet.set()

    def reserve(self) -> bool:
        """Take a slot for a job submitted later with `submit_reserved`; False when full."""
        if self.closed or not self._slots.acquire(blocking=False):
            return False
        with self._idle:
            self._active += 1
        return True

    def release(self) -> None:
        """Give back a reserved slot that will not be used."""
        self._slots.release()
        with self._idle:
            self._active -= 1
            self._idle.notify_all()

    def submit_reserved(self, job: Callable[..., Any], *args: Any) -> None:
        # in a copy of the submitter's context: a Slack request's work continues its trace
        self._executor.submit(contextvars.copy_context().run, self._run, job, *args)

    def reserve_for_ack(self) -> bool:
        """`reserve` for work that answers a deadline-bound request (a Slack ack): it counts
        as an arrival the workers yield to."""
        self._last_arrival = time.monotonic()
        return self.reserve()

    def try_submit(self, job: Callable[..., Any], *args: Any) -> bool:
        """Start `job` in the background, or return False when the pool is full or closed
        (an arrival the workers yield to, as for `reserve_for_ack`)."""
        if not self.reserve_for_ack():
            return False
        self.submit_reserved(job, *args)
        return True

    def yield_to_acks(self) -> None:
        """In a worker thread, before work that competes with acks: wait while requests are
        being acknowledged (and SETTLE_S after), at most MAX_YIELD_S."""
        give_up = time.monotonic() + self._max_yield_s
        while (left := give_up - time.monotonic()) > 0:
            if not self._quiet.wait(left):
                return
            settle = self._last_arrival + SETTLE_S - time.monotonic()
            if settle <= 0:
                return
            time.sleep(min(settle, left))

    def _run(self, job: Callable[..., Any], *args: Any) -> None:
        self.yield_to_acks()
        try:
            if self.closed:
                # shutting down: a job not started yet is left to the next start (Slack
                # requests are recorded at their ack, API runs stored before their 202), so
                # the grace period goes to the jobs already running
                return
            job(*args)
        except Exception:  # the job reports to the user itself; this is the last net
            log.exception("background job failed")
        finally:
            self.release()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job is queued or running (tests, graceful shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop taking work, let running jobs finish for up to `timeout` seconds. Runs not
        finished by then stay stored as pending/running and are resumed at the next start."""
        self.closed = True
        self.wait_idle(timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)
