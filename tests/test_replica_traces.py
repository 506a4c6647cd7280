"""On PostgreSQL, a run whose replica was killed (-9) while it waited for an approval, approved
and finished on another replica, is still one trace with one root: the steps of both processes
are children of the root fixed when the run was accepted, and the root is emitted once, by the
replica that finished the run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from core.plan import RunStatus
from core.store import Store
from tests.fakes.otlp_receiver import OtlpReceiver, Span
from tests.pg import fresh_schema
from tests.replicas import ALICE as ALICE_TOKEN
from tests.replicas import replicas
from tests.test_replicas import ALICE, TAKEOVER_S, _wait_finished, _wait_until

AUTH = {"Authorization": f"Bearer {ALICE_TOKEN}"}


@pytest.fixture
def shared_db() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def _traced(receiver: OtlpReceiver, name: str) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_RESOURCE_ATTRIBUTES": f"crane.replica={name}"}  # fmt: skip


def _named(name: str) -> Callable[[list[Span]], bool]:
    return lambda spans: any(span.name == name for span in spans)


def test_a_run_finished_by_another_replica_after_kill_9_is_one_trace_with_one_root(
    shared_db: str, tmp_path: Path
) -> None:
    store = Store(shared_db)
    try:
        store.add_todo(ALICE, "milk")
        with (
            OtlpReceiver() as receiver,
            replicas(shared_db, tmp_path / "a", 1, **_traced(receiver, "a")) as (victim,),
        ):
            created = httpx.post(victim.url + "/api/v1/runs", headers=AUTH, timeout=30,
                                 json={"text": "calculate 2+3 and delete todo 1"})  # fmt: skip
            run_id = created.json()["id"]
            waiting = RunStatus.awaiting_approval
            _wait_until(lambda: store.get_run(run_id).status is waiting, 20)
            receiver.wait_for(_named("execute_tool calculator"))
            with replicas(shared_db, tmp_path / "b", 1, **_traced(receiver, "b")) as (live,):
                victim.kill()
                approved = httpx.post(f"{live.url}/api/v1/runs/{run_id}/approve",
                                      headers=AUTH, timeout=30)  # fmt: skip
                assert approved.status_code == 200, approved.text
                _wait_finished(store, run_id, TAKEOVER_S)
                spans = receiver.wait_for(_named("invoke_agent Crane"))
        run = store.get_run(run_id)
    finally:
        store.close()

    assert run.status is RunStatus.completed and run.trace_id and run.root_span_id
    mine: list[Span] = [span for span in spans if span.trace_id == run.trace_id]
    (root,) = [span for span in mine if span.name == "invoke_agent Crane"]
    assert root.span_id == run.root_span_id and root.resource["crane.replica"] == "b"
    (request,) = [span for span in mine if span.name == "POST /api/v1/runs"]
    assert request.kind == "SERVER" and root.parent_id == request.span_id
    tools = {span.name: span for span in mine if span.name.startswith("execute_tool ")}
    assert tools["execute_tool calculator"].resource["crane.replica"] == "a"
    assert tools["execute_tool delete_todo"].resource["crane.replica"] == "b"
    assert all(span.parent_id == root.span_id for span in tools.values())
    known = {span.span_id for span in mine}
    assert [span.name for span in mine if span.parent_id not in known] == ["POST /api/v1/runs"]
