"""Crane as several `crane serve` replicas on one PostgreSQL database: the job library's schema
comes with Crane's migrations, a dead replica's runs are taken over by a live one, and a frozen
replica that wakes up after its lease was taken writes nothing."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import cli
from core.orchestrator import Orchestrator
from core.plan import Plan, PlannedStep, RunStatus, Scope
from core.runtime import Crane
from core.store import Store
from tests.api.conftest import SseEvent, parse_sse
from tests.pg import fresh_schema
from tests.replicas import replicas

ALICE = Scope(enterprise_id="", team_id="T01", user_id="U01")
TAKEOVER_S = 30.0


@pytest.fixture
def shared_db() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _wait_finished(store: Store, run_id: str, within_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        if store.get_run(run_id).status in (RunStatus.completed, RunStatus.failed):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {store.get_run(run_id).status} after {within_s}s")


def test_crane_db_upgrade_applies_the_job_librarys_schema_too(shared_db: str) -> None:
    assert cli.main(["db", "upgrade", "--db", shared_db]) == 0
    store = Store(shared_db)
    try:
        with store.write() as conn:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs') AS t").fetchone()
        assert row["t"] is not None
    finally:
        store.close()


def test_a_run_left_by_a_dead_replica_is_taken_over_by_a_live_one(
    shared_db: str, tmp_path: Path
) -> None:
    with replicas(shared_db, tmp_path, 1):
        store = Store(shared_db)
        try:  # a replica on this machine died with a run stored, not yet finished
            dead = Orchestrator(store, owner=(socket.gethostname(), _dead_pid(), "dead"))
            crane = Crane(store, lambda text, history: Plan(), dead)
            plan = Plan(steps=[PlannedStep(tool="add_todo", args={"title": "taken over"})])
            run = crane.start(ALICE, "add a todo: taken over", plan)

            _wait_finished(store, run.id, TAKEOVER_S)

            assert [todo.title for todo in store.list_todos(ALICE)] == ["taken over"]
            assert store.get_run(run.id).status is RunStatus.completed
        finally:
            store.close()


def test_a_frozen_replica_writes_nothing_after_its_lease_was_taken(
    shared_db: str, tmp_path: Path
) -> None:
    env = {"CRANE_LEASE_S": "2", "CRANE_WORKERS": "1"}
    with replicas(shared_db, tmp_path, 2, **env) as (frozen, _live):
        store = Store(shared_db)
        try:
            with frozen.client() as client:
                titles = "; ".join(f"frozen {n}" for n in range(50))
                body = client.post("/api/v1/runs", json={"text": f"add todos: {titles}"}).json()
            frozen.freeze()  # SIGSTOP mid-run (50 commits take far longer than this): its lease
            at_freeze = store.get_run(body["id"])  # runs out
            assert at_freeze.status in (RunStatus.pending, RunStatus.running)
            _wait_finished(store, body["id"], TAKEOVER_S)  # the live replica finished it
            done = store.get_run(body["id"])
            events = len(store.events_after(body["id"]))
            frozen.thaw()  # it wakes up believing it still owns the run
            time.sleep(3)

            assert store.get_run(body["id"]) == done  # not one write more
            assert len(store.events_after(body["id"])) == events
            titles_now = [todo.title for todo in store.list_todos(ALICE)]
            assert sorted(titles_now) == sorted(f"frozen {n}" for n in range(50))
        finally:
            store.close()


def test_an_sse_reader_on_one_replica_sees_a_run_executed_on_another(
    shared_db: str, tmp_path: Path
) -> None:
    with replicas(shared_db, tmp_path, 2) as (reading, executing):
        store = Store(shared_db)
        store.add_todo(ALICE, "buy milk")
        store.close()
        with executing.client() as http:
            run_id = http.post("/api/v1/runs", json={"text": "delete todo 1"}).json()["id"]
            _wait_status(http, run_id, "awaiting_approval")
        seen: list[SseEvent] = []

        def follow() -> None:
            with (
                reading.client() as client,
                client.stream("GET", f"/api/v1/runs/{run_id}/events") as stream,
            ):
                seen.extend(parse_sse(stream.iter_lines()))

        follower = threading.Thread(target=follow)
        follower.start()  # replica A replays what is stored, then waits with the run
        time.sleep(1)  # (the stream's frames arrive only when it ends: give it time to open)
        with executing.client() as http:  # replica B executes the rest
            assert http.post(f"/api/v1/runs/{run_id}/approve").status_code == 200
        follower.join(15)

        assert not follower.is_alive(), "the stream on the other replica never ended"
        assert [e.id for e in seen] == list(range(1, len(seen) + 1))
        assert [e.event for e in seen][-3:] == ["step.started", "step.finished", "run.finished"]
        assert seen[-1].data["status"] == "completed"


def _wait_status(http: httpx.Client, run_id: str, status: str) -> None:
    _wait_until(lambda: http.get(f"/api/v1/runs/{run_id}").json()["status"] == status)


def _wait_until(done: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
