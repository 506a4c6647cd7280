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
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from core.execution import Execution
from core.plan import FINAL, Received, Run, RunStatus
from core.policy import HEARTBEAT_EXPIRY, Announcer, RetryPolicy
from core.policy import Listener as Listener  # re-exported: front ends type their listeners by it
from core.store import Owner, Store
from core.tool import Tool
from core.tools import REGISTRY

log = logging.getLogger("crane.orchestrator")


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
        self.owner = owner or this_process()
        self.approval_ttl_s = approval_ttl_s  # how long a question waits (core.approval)
        self.with_retries = RetryPolicy(retry_attempts, retry_base_s, sleep)
        self.announce = Announcer()
        self.subscribe = self.announce.subscribe

    def execute(self, run_id: str, on_event: Listener | None = None) -> Run:
        """Run (or resume) a stored run; `on_event` hears only this run's events."""
        self.announce.set_local(on_event)
        try:
            run = self.store.get_run(run_id)
            if run.status in FINAL or run.status is RunStatus.awaiting_approval:
                return run  # finished, or waiting for its requester (core.approval resumes it)
            return self.execution(run)()
        finally:
            self.announce.set_local(None)

    def execution(self, run: Run) -> Execution:
        """The one pass over `run` this process would make (core.approval decides with it)."""
        ttl = timedelta(seconds=self.approval_ttl_s)
        return Execution(self.store, self.tools, self.with_retries, self.announce, run, ttl)

    def recover(
        self, is_alive: Callable[[int], bool] = pid_alive, on_event: Listener | None = None
    ) -> list[str]:
        """Resume runs whose owning process is gone; never one a live process is executing.
        `on_event` hears the resumed runs' events (a front end telling their users)."""
        now = self.store.clock()
        resumed = []
        for row in self.store.unfinished_runs():
            orphaned = self._orphaned(row, row["heartbeat_at"], now, is_alive)
            if orphaned and self.store.claim_run(row["id"], row["owner_token"], self.owner):
                log.warning("recovering run %s", row["id"])
                self.execute(row["id"], on_event)
                resumed.append(row["id"])
        return resumed

    def take_received(self, is_alive: Callable[[int], bool] = pid_alive) -> list[Received]:
        """Requests a dead process acknowledged but never planned, now this process's to plan
        (a process on another host counts as dead once they are older than a heartbeat's
        expiry: it would have planned them within seconds)."""
        now = self.store.clock()
        taken = []
        for row in self.store.received_owners():
            if self._orphaned(row, row["received_at"], now, is_alive):
                received = self.store.claim_received(row["id"], row["owner_token"], self.owner)
                if received is not None:
                    log.warning("recovering received request %s", row["id"])
                    taken.append(received)
        return taken

    def take_unanswered(self, is_alive: Callable[[int], bool] = pid_alive) -> list[str]:
        """Finished runs whose answer a dead process never posted, now this process's to post."""
        now = self.store.clock()
        return [
            row["id"]
            for row in self.store.unanswered_runs()
            if self._orphaned(row, row["heartbeat_at"], now, is_alive)
            and self.store.claim_unanswered(row["id"], row["owner_token"], self.owner)
        ]

    def _orphaned(
        self, row: Any, stamp: str | None, now: datetime, is_alive: Callable[[int], bool]
    ) -> bool:
        host, _, token = self.owner
        if row["owner_token"] == token:
            return False
        if row["owner_host"] == host:
            return not is_alive(row["owner_pid"]) or row["owner_pid"] == os.getpid()
        return stamp is None or now - datetime.fromisoformat(stamp) > HEARTBEAT_EXPIRY
