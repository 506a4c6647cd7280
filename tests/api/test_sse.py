"""GET /api/v1/runs/{id}/events: Server-Sent Events replayed from the store, then live, closing
after run.finished; Last-Event-ID resumes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

import cli
from api.events import EventHub
from tests.api.conftest import ALICE, BOB, WAIT_S, Gate, LiveApi, SseEvent, parse_sse
from tests.api.test_runs_api import assert_problem


def start(api: LiveApi, text: str) -> str:
    response = api.post_run(text)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["id"]
    return run_id


def test_events_tell_the_whole_run_in_order_and_the_stream_closes(api: LiveApi) -> None:
    run_id = start(api, "calculate 2+3 and add a todo to buy milk")

    events = api.events(run_id)  # returns only once the server closed the stream

    assert [e.event for e in events] == [
        "run.started", "step.started", "step.finished", "step.started", "step.finished",
        "run.finished",
    ]  # fmt: skip
    assert [e.id for e in events] == list(range(1, 7))
    assert [e.id for e in events] == [e.seq for e in api.store.events_after(run_id)]
    started, finished = events[0].data, events[-1].data
    assert started["run"]["id"] == run_id
    assert [s["tool"] for s in started["run"]["steps"]] == ["calculator", "add_todo"]
    assert [e.data["step"]["status"] for e in events[1:5]] == [
        "running", "completed", "running", "completed",
    ]  # fmt: skip
    assert events[2].data["step"]["output"] == "2+3 = 5"
    assert finished["status"] == "completed"
    assert "5" in finished["answer"] and "buy milk" in finished["answer"]


def test_stream_headers_say_event_stream_not_cached(api: LiveApi) -> None:
    run_id = start(api, "calculate 1+1")
    with api.client().stream("GET", f"/api/v1/runs/{run_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        response.read()


def test_finished_run_is_replayed_in_full(api: LiveApi) -> None:
    run_id = start(api, "calculate 2+3")
    first = api.events(run_id)

    again = api.events(run_id)

    assert again == first
    assert again[-1].event == "run.finished"


def test_last_event_id_resumes_after_that_event(api: LiveApi) -> None:
    run_id = start(api, "calculate 2+3 and add a todo to buy milk")
    everything = api.events(run_id)

    resumed = api.events(run_id, last_event_id="3")

    assert resumed == everything[3:]
    assert resumed[0].id == 4


def test_reconnecting_after_run_finished_closes_at_once(api: LiveApi) -> None:
    # EventSource reconnects by itself when a stream ends, sending the last id it saw
    run_id = start(api, "calculate 2+3")
    last = api.events(run_id)[-1].id

    assert api.events(run_id, last_event_id=str(last)) == []


def test_unusable_last_event_id_replays_from_the_start(api: LiveApi) -> None:
    run_id = start(api, "calculate 2+3")
    assert api.events(run_id, last_event_id="not-a-number")[0].event == "run.started"


def test_last_event_id_beyond_any_sequence_number_replays_from_the_start(
    start_api: Callable[..., LiveApi],
) -> None:
    api = start_api()
    run_id = start(api, "calculate 2+3")
    api.settle()
    # another server on the same database: the run is read from the store, not from memory
    fresh = start_api(settings=api.settings)
    for huge in ("9223372036854775808", "9" * 20):
        events = fresh.events(run_id, last_event_id=huge)
        assert events[0].event == "run.started" and events[-1].event == "run.finished"


def test_live_events_arrive_while_the_run_is_in_flight(
    start_api: Callable[..., LiveApi], gate: Gate
) -> None:
    api = start_api(gate=gate)
    run_id = start(api, "wait for the gate")
    seen: list[str] = []

    with api.client().stream("GET", f"/api/v1/runs/{run_id}/events") as response:
        lines = response.iter_lines()
        for line in lines:  # live: the step is running and has not finished yet
            if line.startswith("event: "):
                seen.append(line.removeprefix("event: "))
            if seen and seen[-1] == "step.started":
                break
        assert not gate.opened.is_set()
        assert api.client().get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
        gate.open()
        rest = parse_sse(lines)

    assert seen == ["run.started", "step.started"]
    assert [e.event for e in rest] == ["step.finished", "run.finished"]
    assert rest[-1].data["status"] == "completed"


def test_many_subscribers_on_one_run_all_see_it_finish(
    start_api: Callable[..., LiveApi], gate: Gate
) -> None:
    api = start_api(gate=gate)
    run_id = start(api, "wait for the gate")
    gate.wait_entered()
    results: list[list[SseEvent]] = []
    lock = threading.Lock()

    def subscribe() -> None:
        events = api.events(run_id)
        with lock:
            results.append(events)

    threads = [threading.Thread(target=subscribe) for _ in range(20)]
    for thread in threads:
        thread.start()
    gate.open()
    for thread in threads:
        thread.join(WAIT_S)

    assert len(results) == 20
    assert all([e.event for e in events][-1] == "run.finished" for events in results)
    assert all([e.id for e in events] == [1, 2, 3, 4] for events in results)


def hub_of(live: LiveApi) -> EventHub:
    api = live.server.app.app.api  # type: ignore[attr-defined]  # RequestIds → SlackFirst
    hub: EventHub = api.state.hub
    return hub


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


def test_the_caller_is_judged_before_what_it_sent(api_tokens: LiveApi) -> None:
    anonymous = api_tokens.client(None)
    bad_body = anonymous.post("/api/v1/runs", content=b"{", headers={"Content-Type": "text/plain"})
    long_id = anonymous.get("/api/v1/runs/abc/events", headers={"Last-Event-ID": "1" * 21})

    assert_problem(bad_body, 401)
    assert_problem(long_id, 401)
    assert bad_body.headers["www-authenticate"] == "Bearer"
    assert_problem(api_tokens.client(ALICE).get(
        "/api/v1/runs/abc/events", headers={"Last-Event-ID": "1" * 21}), 422)  # fmt: skip


def test_last_event_id_that_is_not_an_ascii_number_replays_from_the_start(api: LiveApi) -> None:
    run_id = api.post_run("calculate 2+3").json()["id"]
    everything = api.events(run_id)

    with api.client().stream(
        "GET", f"/api/v1/runs/{run_id}/events", headers={"Last-Event-ID": b"\xb2"}
    ) as response:  # "²": a digit to str.isdigit, not to int()
        assert response.status_code == 200
        text = response.read().decode()

    assert text.startswith("id: 1\n") and text.count("event: ") == len(everything)


def test_a_client_that_leaves_a_waiting_stream_is_let_go(start_api: Any, gate: Gate) -> None:
    api: LiveApi = start_api(gate=gate)
    run_id = api.post_run("wait for the gate").json()["id"]
    gate.wait_entered()
    hub = hub_of(api)

    with (
        httpx.Client(base_url=api.url, timeout=WAIT_S) as http,
        http.stream("GET", f"/api/v1/runs/{run_id}/events") as response,
    ):
        lines = response.iter_lines()  # kept: closing it would close the connection
        for line in lines:
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
