"""api.hot: creating a run and following its events are served ahead of FastAPI, and answer
exactly as the routes FastAPI declares for them (and documents) do; runs created elsewhere
(the CLI, Slack, another process) are replayed from the store; a client that leaves a waiting
stream is let go."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import cli
from api.app import CraneApi
from tests.api.conftest import ALICE, BOB, WAIT_S, Gate, LiveApi
from tests.api.test_runs_api import assert_problem


def crane_api(live: LiveApi) -> CraneApi:
    api = live.server.app.app.api  # type: ignore[attr-defined]  # RequestIds → SlackFirst
    assert isinstance(api, CraneApi)
    return api


@pytest.fixture(params=["hot", "declared"])
def either(request: pytest.FixtureRequest, api_tokens: LiveApi) -> Iterator[LiveApi]:
    """The server with the hot handlers, and with FastAPI's declared routes only."""
    api = crane_api(api_tokens)
    hot = api.hot
    if request.param == "declared":
        api.hot = None
    yield api_tokens
    api.hot = hot


def test_a_run_goes_the_same_either_way(either: LiveApi) -> None:
    created = either.post_run("calculate 2+3 and add a todo to buy milk", token=ALICE)
    assert created.status_code == 202
    run_id = created.json()["id"]

    events = either.events(run_id, ALICE)

    assert [e.event for e in events][-1] == "run.finished"
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert either.events(run_id, ALICE, last_event_id="2") == events[2:]
    again = either.post_run("calculate 2+3", token=ALICE, **{"Idempotency-Key": "k"})
    assert again.status_code == 202
    either.events(again.json()["id"], ALICE)
    replayed = either.post_run("calculate 2+3", token=ALICE, **{"Idempotency-Key": "k"})
    assert (replayed.status_code, replayed.json()["id"]) == (200, again.json()["id"])


ONE_PLUS_ONE = {"text": "calculate 1+1"}
EXTRA = {**ONE_PLUS_ONE, "user": "U999"}
REFUSALS: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "no token": ("POST", "/api/v1/runs", {"json": ONE_PLUS_ONE}, 401),
    "no token (events)": ("GET", "/api/v1/runs/abc/events", {}, 401),
    "unknown run": ("GET", "/api/v1/runs/abc/events", {"token": ALICE}, 404),
    "long idempotency key": (
        "POST",
        "/api/v1/runs",
        {"token": ALICE, "json": ONE_PLUS_ONE, "headers": {"Idempotency-Key": "k" * 201}},
        422,
    ),
    "long last-event-id": (
        "GET",
        "/api/v1/runs/abc/events",
        {"token": ALICE, "headers": {"Last-Event-ID": "1" * 21}},
        422,
    ),
    "wrong content type": (
        "POST",
        "/api/v1/runs",
        {"token": ALICE, "content": b"{}", "headers": {"Content-Type": "text/plain"}},
        415,
    ),
    "extra field": ("POST", "/api/v1/runs", {"token": ALICE, "json": EXTRA}, 422),
    "blank text": ("POST", "/api/v1/runs", {"token": ALICE, "json": {"text": "  "}}, 422),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_are_the_same_problems_either_way(
    api_tokens: LiveApi, case: tuple[str, str, dict[str, Any], int]
) -> None:
    method, path, options, status = case
    options = dict(options)
    http = api_tokens.client(options.pop("token", None))
    api = crane_api(api_tokens)

    hot = http.request(method, path, **options)
    saved, api.hot = api.hot, None
    try:
        declared = http.request(method, path, **options)
    finally:
        api.hot = saved

    assert_problem(hot, status)
    assert hot.json() == declared.json()
    assert hot.headers.get("www-authenticate") == declared.headers.get("www-authenticate")
    assert api_tokens.stored_runs() == []


def test_a_run_created_elsewhere_is_replayed_from_the_store(api: LiveApi) -> None:
    # the CLI on the same database: this server never heard the run's events
    text = "calculate 2+3 and add a todo to buy milk"
    assert cli.main(["ask", text, "--db", api.settings.db]) == 0
    (run,) = api.stored_runs()

    events = api.events(run.id)

    assert [e.id for e in events] == [e.seq for e in api.store.events_after(run.id)]
    assert events[-1].event == "run.finished"
    assert api.events(run.id, last_event_id="3") == events[3:]
    assert api.events(run.id, last_event_id=str(events[-1].id)) == []


def test_another_callers_tracked_run_is_404_like_an_unknown_one(api_tokens: LiveApi) -> None:
    mine = api_tokens.post_run("calculate 2+3", token=ALICE).json()["id"]

    foreign = api_tokens.client(BOB).get(f"/api/v1/runs/{mine}/events")
    unknown = api_tokens.client(BOB).get(f"/api/v1/runs/{'0' * len(mine)}/events")

    assert_problem(foreign, 404)
    assert foreign.json()["detail"] == unknown.json()["detail"].replace("0" * len(mine), mine)


def test_last_event_id_that_is_not_an_ascii_number_replays_from_the_start(api: LiveApi) -> None:
    run_id = api.post_run("calculate 2+3").json()["id"]
    everything = api.events(run_id)

    with api.client().stream(
        "GET", f"/api/v1/runs/{run_id}/events", headers={"Last-Event-ID": b"\xb2"}
    ) as response:  # "²": a digit to str.isdigit, not to int()
        assert response.status_code == 200
        text = response.read().decode()

    assert text.startswith("id: 1\n") and text.count("event: ") == len(everything)


def test_a_client_that_leaves_a_waiting_stream_is_let_go(
    start_api: Any, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.hot.WATCH_AFTER_S", 0.05)
    api: LiveApi = start_api(gate=gate)
    run_id = api.post_run("wait for the gate").json()["id"]
    gate.wait_entered()
    hub = crane_api(api).hot.hub  # type: ignore[union-attr]

    with (
        httpx.Client(base_url=api.url, timeout=WAIT_S) as http,
        http.stream("GET", f"/api/v1/runs/{run_id}/events") as response,
    ):
        for line in response.iter_lines():
            if line == "event: step.started":
                break
        assert hub.readers(run_id) == 1
    # the connection is closed while the run still waits at the gate

    deadline = time.monotonic() + WAIT_S
    while hub.readers(run_id):
        assert time.monotonic() < deadline, "the stream kept waiting for a client that left"
        time.sleep(0.01)
    gate.open()
    assert api.events(run_id)[-1].event == "run.finished"
