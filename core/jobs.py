"""A bounded pool for slow work: acks never wait for it, and a burst beyond the limit is
turned away at once (the caller says "busy") instead of queueing without end."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("crane.jobs")


class Jobs:
    def __init__(self, workers: int, limit: int, yield_to_acks_s: float = 0.005) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crane-job")
        self._slots = threading.BoundedSemaphore(max(limit, workers))
        self._idle = threading.Condition()
        self._active = 0
        self.closed = False
        # Acks first: a worker about to start a job waits while requests are still arriving
        # (at most 20 × this), so a burst is acknowledged before its work competes with the
        # acks for the GIL. Slack's 3 s ack deadline is hard; a plan starting 0.1 s later is not.
        self._yield_s = yield_to_acks_s
        self._last_arrival = 0.0

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

    def _run(self, job: Callable[..., Any], *args: Any) -> None:
        give_up = time.monotonic() + 20 * self._yield_s
        while (quiet := self._last_arrival + self._yield_s - time.monotonic()) > 0:
            if time.monotonic() >= give_up:
                break
            time.sleep(quiet)
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
