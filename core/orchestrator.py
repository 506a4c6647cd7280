"""Runs stored plans: the entry for executing a run, retries, event subscribers, recovery.

Every state change is committed before it is announced, and a tool's own writes commit in
the same transaction as its step's completion, so a crash never leaves a todo without the
step that made it. Executing a run again never re-executes a completed step. The pass over
one run's steps — one commit per step — is `core.execution`.

One process at a time executes a run: it holds the run's lease, a fresh fencing token per
execution (`<process token>:<random>`) in `runs.owner_token`, checked by every write of the run,
renewed by them (on SQLite at most once a second) and by this process's heartbeat thread. A
process frozen past its lease loses the run to whoever takes it over, and its next write is
refused (`core.store.fence`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from core.execution import Execution
from core.plan import FINAL, Received, Run, RunStatus
from core.policy import LEASE, Announcer, RetryPolicy
from core.policy import Listener as Listener  # re-exported: front ends type their listeners by it
from core.store import Owner, Store
from core.tool import Tool
from core.toolbox import Toolbox
from core.tools import REGISTRY

log = logging.getLogger("crane.orchestrator")
# a live process plans what it received within seconds: older, on another host, it is gone
RECEIVED_EXPIRY = timedelta(minutes=2)


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
        tools: Mapping[str, Tool] | None = None,
        *,
        retry_attempts: int = 4,
        retry_base_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        owner: Owner | None = None,
        approval_ttl_s: float = 86400,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.lease = lease
        self._leases: dict[str, str] = {}  # the runs this process executes now → their token
        self._lease_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        # the built-ins and the tools of the MCP servers configured (core.toolbox)
        self.tools = tools if isinstance(tools, Toolbox) else Toolbox(tools or REGISTRY)
        self.owner = owner or this_process()
        self.approval_ttl_s = approval_ttl_s  # how long a question waits (core.approval)
        self.with_retries = RetryPolicy(retry_attempts, retry_base_s, sleep)
        self.announce = Announcer()
        self.subscribe = self.announce.subscribe

    def execute(
        self, run_id: str, on_event: Listener | None = None, ticket: str | None = None
    ) -> Run:
        """Run (or resume) a stored run; `on_event` hears only this run's events. The run is
        executed only if its lease can be taken: from `ticket` (the owner token stored with it,
        by default this process's), from a dead owner, or from one whose lease expired.
        Otherwise another process executes it, and the run is returned as it is."""
        self.announce.set_local(on_event)
        try:
            lease = self._take(run_id, ticket or self.owner[2])
            run = self.store.get_run(run_id)
            if lease is None or run.status in FINAL or run.status is RunStatus.awaiting_approval:
                self._release(run_id, self.owner[2])  # its place in this process's queue ends
                return run  # elsewhere, finished, or waiting for its requester (core.approval)
            with self._lease_lock:
                self._leases[run_id] = lease
            self._start_heartbeat()
            try:
                return self.execution(run, lease)()
            finally:
                self._release(run_id, lease)
        finally:
            self.announce.set_local(None)

    def hold(self, run_id: str) -> None:
        """A run this process stored and will execute: its lease is renewed while it waits
        in the queue, so no other replica takes it over meanwhile."""
        with self._lease_lock:
            self._leases[run_id] = self.owner[2]
        self._start_heartbeat()

    def release(self, run_id: str) -> None:
        """Stop renewing a run held in the queue (`hold`): it is handed to another worker."""
        self._release(run_id, self.owner[2])

    def let_go_queued(self) -> None:
        """Shutting down: stop renewing the runs held in the queue that will not start here,
        so their leases run out and another process takes them over."""
        with self._lease_lock:
            for run_id, lease in list(self._leases.items()):
                if lease == self.owner[2]:
                    del self._leases[run_id]

    def _release(self, run_id: str, lease: str) -> None:
        """Stop renewing `run_id`, unless an execution here holds it under another lease."""
        with self._lease_lock:
            if self._leases.get(run_id) == lease:
                del self._leases[run_id]

    def _take(self, run_id: str, expected: str) -> str | None:
        """The fencing token of this execution, if the run's lease could be taken."""
        row = self.store.run_owner(run_id)
        if row is None or row["status"] in FINAL:
            return None
        now = self.store.clock()
        if row["owner_token"] != expected and self._orphaned(row, row["heartbeat_at"], now):
            expected = row["owner_token"]  # its owner died: compare-and-set from its token
        host, pid, token = self.owner
        lease = f"{token}:{secrets.token_hex(4)}"
        taken = self.store.take_run(run_id, expected, (host, pid, lease), self.lease)
        return lease if taken else None

    def _start_heartbeat(self) -> None:
        with self._lease_lock:
            if self._heartbeat is not None:
                return
            self._heartbeat = threading.Thread(
                target=self._beat, name=f"crane-heartbeat-{self.owner[2]}", daemon=True
            )
        self._heartbeat.start()

    def _beat(self) -> None:
        """Renew the leases of the runs executing here, every third of the lease: a tool may
        take longer than a lease between two writes of its run."""
        failing_since: float | None = None
        while True:
            time.sleep(self.lease.total_seconds() / 3)
            with self._lease_lock:
                held = dict(self._leases)
                if not held or self.store.closed:  # idle (the next execution starts another
                    self._heartbeat = None  # beat), or the runtime was shut down
                    return
            try:
                for run_id in self.store.renew_leases(held):
                    log.warning("lease lost: run taken over elsewhere", extra={"run_id": run_id})
                    self._release(run_id, held[run_id])
                failing_since = None
            except Exception:  # a database gone for a moment: the next beat tries again
                if self.store.closed:
                    continue
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning("renewing leases failed", exc_info=True)
                elif time.monotonic() - failing_since > self.lease.total_seconds():
                    # past a lease without renewal they may be another's already: the runs'
                    # own writes say so (fenced); renewing them from here is over
                    log.warning("renewing leases failed for longer than a lease; stopped")
                    for run_id, lease in held.items():
                        self._release(run_id, lease)

    def execution(self, run: Run, lease: str | None = None) -> Execution:
        """The one pass over `run` this process would make under `lease` (core.approval
        decides with it, holding none)."""
        ttl = timedelta(seconds=self.approval_ttl_s)
        return Execution(self.store, self.tools, self.with_retries, self.announce, run, ttl, lease)

    def _orphaned(
        self,
        row: Any,
        stamp: str | None,
        now: datetime,
        is_alive: Callable[[int], bool] = pid_alive,
        lease: bool = True,
    ) -> bool:
        """Its owner is gone: a dead process on this host, an earlier runtime of this process,
        or one on another host silent since `stamp`. With `lease` (a run: `stamp` is its
        heartbeat), any owner silent for longer than a lease — a process frozen too long too;
        without (a received request: `stamp` is when it came), another host's after a while."""
        host, _, token = self.owner
        if (row["owner_token"] or "").partition(":")[0] == token:
            return False  # this runtime's own
        expiry = self.lease if lease else RECEIVED_EXPIRY
        silent = stamp is None or now - datetime.fromisoformat(stamp) > expiry
        if lease and silent:
            return True
        if row["owner_host"] == host:
            return not is_alive(row["owner_pid"]) or row["owner_pid"] == os.getpid()
        return silent

    def orphans(self, is_alive: Callable[[int], bool] = pid_alive) -> list[str]:
        """The unfinished runs whose owner is gone (another process may take them over)."""
        now = self.store.clock()
        return [row["id"] for row in self.store.unfinished_runs()
                if self._orphaned(row, row["heartbeat_at"], now, is_alive)]  # fmt: skip

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
            if self._orphaned(row, row["received_at"], now, is_alive, lease=False):
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
