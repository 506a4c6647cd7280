"""Operating the server: /health, /ready, /metrics, request ids, JSON logs without secrets,
and graceful shutdown (running runs finish, new work is refused, the rest stays resumable)."""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.logs import JsonFormatter
from core.plan import RunStatus
from tests.api.conftest import ALICE, WAIT_S, Gate, LiveApi, gated_crane
from tests.api.test_auth import from_address
from tests.api.test_runs_api import assert_problem


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


# --- health, ready, metrics ------------------------------------------------------------------


def test_health_says_alive_to_anyone(api: LiveApi) -> None:
    response = api.client().get("/health")
    # no MCP servers configured: none to name
    assert (response.status_code, response.json()) == (200, {"ok": True, "mcp": {}})
    assert from_address(api.server.app, "10.0.0.5", "GET", "/health").status_code == 200


def test_ready_when_the_database_takes_a_write(api: LiveApi) -> None:
    response = api.client().get("/ready")
    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_not_ready_when_the_database_refuses_writes(
    api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Any:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(api.store, "write", broken)

    response = api.client().get("/ready")

    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert "readonly" in response.json()["error"]


def metrics(api: LiveApi) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_runs_steps_and_tool_errors(api: LiveApi) -> None:
    api.run_to_end("calculate 2+3 and add a todo to buy milk")
    api.run_to_end("calculate 1/0")
    api.client().post("/slack/events", content=b"{}")  # 503: Slack is not configured

    found = metrics(api)

    assert found[("crane_runs_total", (("status", "completed"),))] == 1
    assert found[("crane_runs_total", (("status", "failed"),))] == 1
    assert found[("crane_step_duration_seconds_count", (("tool", "calculator"),))] == 2
    assert found[("crane_step_duration_seconds_count", (("tool", "add_todo"),))] == 1
    assert found[("crane_tool_errors_total", (("tool", "calculator"),))] == 1
    assert found[("crane_slack_ack_seconds_count", ())] == 1
    assert found[("crane_planner_fallbacks_total", ())] == 0
    assert found[("crane_llm_cost_usd_total", ())] == 0
    text = api.client().get("/metrics").text  # labelled families are declared before first use
    assert "# TYPE crane_step_retries_total counter" in text
    assert "# TYPE crane_llm_tokens_total counter" in text


def test_openapi_docs_are_served_without_slack_events(api: LiveApi) -> None:
    schema = api.client().get("/openapi.json").json()
    assert "/api/v1/runs" in schema["paths"]
    assert "/slack/events" not in schema["paths"]
    assert api.client().get("/docs").status_code == 200


# --- request ids and logs --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/health", "/api/v1/runs", "/api/v1/runs/nope", "/nowhere"])
def test_request_id_is_honoured_and_echoed(api: LiveApi, path: str) -> None:
    response = api.client().get(path, headers={"X-Request-ID": "req-abc.123"})
    assert response.headers["x-request-id"] == "req-abc.123"


@pytest.mark.parametrize("given", [None, "has spaces", "x" * 129, "semi;colon"])
def test_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(
    api: LiveApi, given: str | None
) -> None:
    headers = {"X-Request-ID": given} if given is not None else {}
    first = api.client().get("/health", headers=headers).headers["x-request-id"]
    second = api.client().get("/health", headers=headers).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", first) and first != second


def test_request_id_is_echoed_on_the_event_stream(api: LiveApi) -> None:
    run_id = api.post_run("calculate 1+1").json()["id"]
    with api.client().stream(
        "GET", f"/api/v1/runs/{run_id}/events", headers={"X-Request-ID": "sse-1"}
    ) as response:
        assert response.headers["x-request-id"] == "sse-1"
        response.read()


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """Crane's JSON log lines, formatted as they are emitted (the request id is contextual)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("crane")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def test_json_logs_carry_request_and_run_ids_and_no_tokens(api_tokens: LiveApi) -> None:
    with json_logs() as out:
        created = api_tokens.post_run("calculate 2+3", token=ALICE, **{"X-Request-ID": "req-42"})
        run_id = created.json()["id"]
        api_tokens.events(run_id, ALICE)
        api_tokens.client("wrong-token-123").get("/api/v1/todos")
        api_tokens.settle()
        # a request's line is written just after its response went out
        wait_until(lambda: '"status": 401' in out.getvalue(), "the 401 request's log line")
    text = out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]

    post = [x for x in lines if x.get("path") == "/api/v1/runs" and x.get("method") == "POST"]
    assert post and post[0]["request_id"] == "req-42" and post[0]["status"] == 202
    assert isinstance(post[0]["duration_ms"], float)
    finished = [x for x in lines if x.get("run_id") == run_id and x.get("outcome")]
    assert finished, lines
    assert finished[0]["outcome"] == "completed"
    assert finished[0]["user"] == "U01" and finished[0]["tenant"] == "/T01"
    assert finished[0]["request_id"] == "req-42"  # the run's lines lead back to the request
    refused = [x for x in lines if x.get("status") == 401]
    assert refused and all(x["request_id"] for x in refused)
    for secret in (ALICE, "other", "wrong-token-123", "Bearer"):
        assert secret not in text


# --- graceful shutdown -----------------------------------------------------------------------


def test_shutdown_lets_a_running_run_finish_and_refuses_new_work(
    start_api: Callable[..., LiveApi], gate: Gate
) -> None:
    api = start_api(gate=gate)
    running = api.post_run("wait for the gate").json()["id"]
    gate.wait_entered()
    stopping = threading.Thread(target=api.server.jobs.shutdown, args=(WAIT_S,))
    stopping.start()
    wait_until(lambda: api.server.jobs.closed, "the pool to close")

    refused = api.post_run("calculate 1+1")

    assert_problem(refused, 503)  # shutting down, not busy: retry against the next instance
    assert refused.headers["retry-after"] == "5"
    assert [run.id for run in api.stored_runs()] == [running]
    assert stopping.is_alive()  # still waiting for the running run
    gate.open()
    stopping.join(WAIT_S)
    assert not stopping.is_alive()
    assert api.store.get_run(running).status is RunStatus.completed


def test_server_stop_waits_for_the_running_run(
    start_api: Callable[..., LiveApi], gate: Gate
) -> None:
    api = start_api(gate=gate, shutdown_timeout_s=5)
    running = api.post_run("wait for the gate").json()["id"]
    gate.wait_entered()

    stopping = threading.Thread(target=api.stop)
    stopping.start()
    time.sleep(0.3)
    assert api.thread.is_alive()  # uvicorn waits in the lifespan shutdown
    gate.open()
    stopping.join(WAIT_S)

    assert not api.thread.is_alive()
    assert api.store.get_run(running).status is RunStatus.completed


def test_runs_not_finished_in_time_stay_resumable(
    start_api: Callable[..., LiveApi], gate: Gate
) -> None:
    api = start_api(gate=gate, workers=1, shutdown_timeout_s=0.2)
    first = api.post_run("wait for the gate").json()["id"]
    gate.wait_entered()
    queued = api.post_run("wait for the gate").json()["id"]

    api.stop()  # the grace period ends with the first run still blocked
    assert not api.thread.is_alive()
    assert api.store.get_run(queued).status is RunStatus.pending
    gate.open()
    wait_until(lambda: api.store.get_run(first).status is RunStatus.completed, "the first run")

    restarted = gated_crane(api.settings.db, gate)  # what the next start does (core.app.build)
    assert restarted.orchestrator.recover() == [queued]
    assert restarted.store.get_run(queued).status is RunStatus.completed
    restarted.store.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("list_todos", "/api/v1/todos"), ("list_runs", "/api/v1/runs"),
     ("idempotent_run", "/api/v1/runs")],
)  # fmt: skip
def test_a_slow_database_call_never_holds_up_other_requests(
    api: LiveApi, monkeypatch: pytest.MonkeyPatch, method: str, path: str
) -> None:
    entered, release = threading.Event(), threading.Event()
    slow = getattr(api.store, method)

    def stuck(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(30)
        return slow(*args, **kwargs)

    monkeypatch.setattr(api.store, method, stuck)
    client = api.client()
    posting = path == "/api/v1/runs" and method == "idempotent_run"
    waiting = threading.Thread(
        target=lambda: client.post(path, json={"text": "calculate 1+1"},
                                   headers={"Idempotency-Key": "k1"}) if posting
        else client.get(path)
    )  # fmt: skip
    waiting.start()
    try:
        assert entered.wait(10)
        # the event loop is free: a probe (and Slack's acks) are answered meanwhile
        assert api.client().get("/health", timeout=5).status_code == 200
    finally:
        release.set()
        waiting.join(10)
