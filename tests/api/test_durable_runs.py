"""`POST /api/v1/runs` answers 202 only once the run is stored: a `crane serve` killed (SIGKILL)
or stopped (SIGTERM) right after the 202s leaves every accepted run to the next process on the
same database, which runs each to the end exactly once — and an Idempotency-Key sent again
after the restart finds its run, not a new one."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.plan import RunStatus, Scope
from core.store import Store
from tests.processes import CraneProcess

LOCAL = Scope(user_id="local")  # no CRANE_API_TOKENS: loopback callers are the local user
RUNS = 12


@pytest.fixture
def start(tmp_path: Path, databases: Callable[[Path], str]) -> Iterator[Callable[[], CraneProcess]]:
    db = databases(tmp_path)
    started: list[CraneProcess] = []

    def launch() -> CraneProcess:
        started.append(CraneProcess(db))
        return started[-1]

    yield launch
    for each in started:
        if each.process.poll() is None:
            each.stop(signal.SIGKILL)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_every_accepted_run_finishes_once_after_the_process_dies(
    start: Callable[[], CraneProcess], how: signal.Signals
) -> None:
    first = start()

    def post(i: int) -> str:
        response = first.http.post("/api/v1/runs", json={"text": f"add a todo to job {i}"},
                                   headers={"Idempotency-Key": f"job-{i}"})  # fmt: skip
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    with ThreadPoolExecutor(RUNS) as clients:  # all at once: most are still queued
        accepted = list(clients.map(post, range(RUNS)))
    first.stop(how)

    second = start()
    store = Store(second.db)
    try:
        deadline = time.monotonic() + 60
        while any(store.get_run(r).status is not RunStatus.completed for r in accepted):
            assert time.monotonic() < deadline, [store.get_run(r).status for r in accepted]
            time.sleep(0.1)
        titles = sorted(t.title for t in store.list_todos(LOCAL))
        assert titles == sorted(f"job {i}" for i in range(RUNS))  # each ran exactly once
        again = second.http.post("/api/v1/runs", json={"text": "add a todo to job 0"},
                                 headers={"Idempotency-Key": "job-0"})  # fmt: skip
        assert again.status_code == 200 and again.json()["id"] == accepted[0]
    finally:
        store.close()
