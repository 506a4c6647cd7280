"""REST: a run from the API waits before a deletion; its caller approves, cancels or rates it."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from core.plan import Scope
from tests.api.conftest import ALICE, ALICE_SCOPE, BOB, LiveApi, SseEvent, parse_sse

PROBLEM = "application/problem+json"


def waiting_run(api: LiveApi, token: str | None = ALICE, scope: Scope = ALICE_SCOPE) -> str:
    """POST "delete todo 1" (todo #1 exists); returns the run id once it waits."""
    api.store.add_todo(scope, "buy milk")
    created = api.post_run("delete todo 1", token=token)
    assert created.status_code == 202, created.text
    run_id: str = created.json()["id"]
    events = read_until(api, run_id, "run.awaiting_approval", token)
    assert events[-1].data["question"] == "Delete todo #1?"
    return run_id


def read_until(api: LiveApi, run_id: str, wanted: str, token: str | None) -> list[SseEvent]:
    """SSE events up to the first `wanted` one, leaving the stream (which stays open)."""
    lines: list[str] = []
    with api.client(token).stream("GET", f"/api/v1/runs/{run_id}/events") as response:
        for line in response.iter_lines():
            lines.append(line)
            if line == "" and any(f"event: {wanted}" == seen for seen in lines):
                break
    return parse_sse(iter(lines))


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def test_a_deletion_waits_and_the_stream_stays_open_until_approved(
    api_tokens: LiveApi,
) -> None:
    api = api_tokens
    run_id = waiting_run(api)
    http = api.client(ALICE)
    waiting = http.get(f"/api/v1/runs/{run_id}").json()
    assert waiting["status"] == "awaiting_approval"
    assert waiting["steps"][0]["status"] == "pending" and waiting["steps"][0]["args"] == {
        "number": 1
    }
    events: list[SseEvent] = []
    follower = threading.Thread(target=lambda: events.extend(api.events(run_id, ALICE)))
    follower.start()  # the stream replays, then waits with the run

    approved = http.post(f"/api/v1/runs/{run_id}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["id"] == run_id
    follower.join(10)
    assert [e.event for e in events][-3:] == ["step.started", "step.finished", "run.finished"]
    assert events[-1].data["status"] == "completed"
    assert api.store.list_todos(ALICE_SCOPE) == []
    assert_problem(http.post(f"/api/v1/runs/{run_id}/approve"), 409)  # not waiting any more
    assert_problem(http.post(f"/api/v1/runs/{run_id}/cancel"), 409)  # finished


def test_cancel_ends_a_waiting_run_as_cancelled_everywhere(api_tokens: LiveApi) -> None:
    api = api_tokens
    run_id = waiting_run(api)
    http = api.client(ALICE)
    cancelled = http.post(f"/api/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["steps"][0]["status"] == "skipped"
    assert api.events(run_id, ALICE)[-1].data["status"] == "cancelled"  # the stream ends
    listed = http.get("/api/v1/runs", params={"status": "cancelled"}).json()["items"]
    assert [run["id"] for run in listed] == [run_id]
    assert [t.title for t in api.store.list_todos(ALICE_SCOPE)] == ["buy milk"]


def test_an_idempotent_replay_of_a_cancelled_run_is_200(api_tokens: LiveApi) -> None:
    api = api_tokens
    api.store.add_todo(ALICE_SCOPE, "buy milk")
    http = api.client(ALICE)
    created = http.post("/api/v1/runs", json={"text": "delete todo 1"},
                        headers={"Idempotency-Key": "k1"})  # fmt: skip
    run_id = created.json()["id"]
    read_until(api, run_id, "run.awaiting_approval", ALICE)
    http.post(f"/api/v1/runs/{run_id}/cancel")
    again = http.post("/api/v1/runs", json={"text": "delete todo 1"},
                      headers={"Idempotency-Key": "k1"})  # fmt: skip
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_another_callers_run_is_not_found(api_tokens: LiveApi) -> None:
    api = api_tokens
    run_id = waiting_run(api)
    bob = api.client(BOB)
    for action in ("approve", "cancel"):
        assert_problem(bob.post(f"/api/v1/runs/{run_id}/{action}"), 404)
    assert_problem(bob.post(f"/api/v1/runs/{run_id}/feedback", json={"value": "up"}), 404)
    assert api.client(ALICE).get(f"/api/v1/runs/{run_id}").json()["status"] == ("awaiting_approval")


def test_feedback_counts_one_vote_per_caller_the_latest_wins(api_tokens: LiveApi) -> None:
    api = api_tokens
    record = api.run_to_end("calculate 2+3", token=ALICE)
    http = api.client(ALICE)
    url = f"/api/v1/runs/{record['id']}/feedback"
    assert http.post(url, json={"value": "up"}).json()["feedback"] == {"up": 1, "down": 0}
    assert http.post(url, json={"value": "down"}).json()["feedback"] == {"up": 0, "down": 1}
    assert_problem(http.post(url, json={"value": "meh"}), 422)
    assert_problem(http.post(url, content=b"up", headers={"Content-Type": "text/plain"}), 415)
    assert 'crane_feedback_votes{value="down"} 1.0' in http.get("/metrics").text


def test_a_run_that_is_not_waiting_cannot_be_approved(api_tokens: LiveApi) -> None:
    api = api_tokens
    record = api.run_to_end("calculate 2+3", token=ALICE)
    body = assert_problem(api.client(ALICE).post(f"/api/v1/runs/{record['id']}/approve"), 409)
    assert "not waiting" in body["detail"]
