"""Runs stored plans: the entry for executing a run, retries, event subscribers, recovery.

Every state change is committed before it is announced, and a tool's own writes commit in
the same transaction as its step's completion, so a crash never leaves a todo without the
step that made it. Executing a run again never re-executes a completed step. The pass over
one run's steps — one commit per step — is `core.execution`.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import TransientError
from core.execution import HEARTBEAT_INTERVAL, Execution
from core.plan import FINAL, Run, RunEvent, RunStatus
from core.store import Owner, Store
from core.tools import REGISTRY, Tool

log = logging.getLogger("crane.orchestrator")

Listener = Callable[[RunEvent], None]
HEARTBEAT_EXPIRY = 4 * HEARTBEAT_INTERVAL  # several missed beats: the owner is gone
T = TypeVar("T")


def this_process() -> Owner:
    return (socket.gethostname(), os.getpid(), secrets.token_hex(8))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Orchestrator:
    def __init__(
        self,
        store: Store,
        tools: dict[str, Tool] | None = None,
        *,
        retry_attempts: int = 4,
        retry_base_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        owner: Owner | None = None,
        approval_ttl_s: float = 86400,
    ) -> None:
        self.store = store
        self.tools = tools if tools is not None else REGISTRY
        self.retry_attempts = max(1, retry_attempts)
        self.retry_base_s = retry_base_s
        self.sleep = sleep
        self.owner = owner or this_process()
        self.approval_ttl_s = approval_ttl_s  # how long a question waits (core.approval)
        self._listeners: list[Listener] = []
        # After a first transient failure, tenacity runs the remaining attempts; waits go
        # base, 2·base, 4·base… (1 s, 2 s, 4 s by default). One policy object for every step
        # (tenacity keeps per-call state thread-locally).
        self._retry_rest = Retrying(
            stop=stop_after_attempt(self.retry_attempts - 1),
            wait=wait_exponential(multiplier=2 * self.retry_base_s),
            retry=retry_if_exception_type(TransientError),
            sleep=self.sleep,
            reraise=True,
        )
        self._local = threading.local()  # per-execution listeners: runs execute in many threads

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event after it is committed; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def announce(self, events: list[RunEvent]) -> None:
        """Hand committed events, in order, to every subscriber and this execution's listener."""
        listeners = [*self._listeners, *getattr(self._local, "listeners", ())]
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # a broken subscriber must not break the run
                    log.exception("event listener failed", extra={"run_id": event.run_id})

    def execute(self, run_id: str, on_event: Listener | None = None) -> Run:
        """Run (or resume) a stored run; `on_event` hears only this run's events."""
        self._local.listeners = [on_event] if on_event else []
        try:
            run = self.store.get_run(run_id)
            if run.status in FINAL or run.status is RunStatus.awaiting_approval:
                return run  # finished, or waiting for its requester (core.approval resumes it)
            return Execution(self, run)()
        finally:
            self._local.listeners = []

    def with_retries(self, run_id: str, attempt: Callable[..., T], *args: Any) -> T:
        """attempt(*args), retried on TransientError: waits base, 2·base, 4·base…"""
        try:
            return attempt(*args)  # the common case: no retry machinery
        except TransientError:
            if self.retry_attempts == 1:
                raise
            log.warning("transient failure, retrying", extra={"run_id": run_id})
        self.sleep(self.retry_base_s)
        return self._retry_rest(attempt, *args)

    def recover(
        self, is_alive: Callable[[int], bool] = pid_alive, on_event: Listener | None = None
    ) -> list[str]:
        """Resume runs whose owning process is gone; never one a live process is executing.
        `on_event` hears the resumed runs' events (a front end telling their users)."""
        host, _, token = self.owner
        now = self.store.clock()
        resumed = []
        for row in self.store.unfinished_runs():
            if row["owner_token"] == token:
                continue
            if row["owner_host"] == host:
                orphaned = not is_alive(row["owner_pid"]) or row["owner_pid"] == os.getpid()
            else:
                beat = row["heartbeat_at"]
                orphaned = beat is None or now - datetime.fromisoformat(beat) > HEARTBEAT_EXPIRY
            if orphaned and self.store.claim_run(row["id"], row["owner_token"], self.owner):
                log.warning("recovering run %s", row["id"])
                self.execute(row["id"], on_event)
                resumed.append(row["id"])
        return resumed
