"""/api/v1/runs and /api/v1/todos as a client sees them: status codes, shapes, paging,
idempotency, back-pressure and refusals (problem+json, nothing stored)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import cli
from core.errors import TransientError
from tests.api.conftest import ALICE, BOB, Gate, LiveApi

PROBLEM = "application/problem+json"
RUN_KEYS = {
    "id", "status", "text", "planner", "fallback_reason", "usage", "answer", "steps",
    "created_at", "finished_at", "feedback", "trace_id",
}  # fmt: skip


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    cli.main(list(argv))
    return json.loads(capsys.readouterr().out)


# --- create and read -------------------------------------------------------------------------


def test_post_run_answers_202_with_id_status_and_links(api: LiveApi) -> None:
    response = api.post_run("calculate 2+3 and add a todo to buy milk")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] in ("pending", "running", "completed")
    assert body["text"] == "calculate 2+3 and add a todo to buy milk"
    assert [step["tool"] for step in body["steps"]] == ["calculator", "add_todo"]
    assert body["links"] == {
        "self": f"/api/v1/runs/{body['id']}",
        "events": f"/api/v1/runs/{body['id']}/events",
    }


def test_finished_run_reads_back_with_answer_and_completed_steps(api: LiveApi) -> None:
    run = api.run_to_end("calculate 2+3 and add a todo to buy milk")

    assert run["status"] == "completed"
    assert "5" in run["answer"] and "buy milk" in run["answer"]
    assert [step["status"] for step in run["steps"]] == ["completed", "completed"]
    assert run["finished_at"] is not None
    assert api.client().get(run["links"]["self"]).json() == run


def test_run_record_has_the_shape_of_crane_ask_json(
    api: LiveApi, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from_api = api.run_to_end("calculate 2+3 and add a todo to buy milk")
    from_cli = cli_json(
        capsys, "ask", "calculate 2+3 and add a todo to buy milk", "--json",
        "--db", str(tmp_path / "cli.db"),
    )  # fmt: skip

    assert set(from_cli) == RUN_KEYS
    assert set(from_api) == RUN_KEYS | {"links"}
    assert [set(step) for step in from_api["steps"]] == [set(step) for step in from_cli["steps"]]
    same = ("status", "text", "planner", "answer")
    assert {key: from_api[key] for key in same} == {key: from_cli[key] for key in same}


def test_follow_up_in_the_same_thread_uses_the_previous_result(api: LiveApi) -> None:
    api.run_to_end("calculate 2+3", thread="conversation-1")

    follow_up = api.run_to_end("add 10 to that", thread="conversation-1")

    assert follow_up["status"] == "completed"
    assert "15" in follow_up["answer"]


def test_unknown_run_is_404_problem(api: LiveApi) -> None:
    assert_problem(api.client().get("/api/v1/runs/does-not-exist"), 404)
    assert_problem(api.client().get("/api/v1/runs/does-not-exist/events"), 404)


def test_failed_step_makes_a_failed_run_not_an_http_error(api: LiveApi) -> None:
    run = api.run_to_end("calculate 1/0")

    assert run["status"] == "failed"
    assert run["steps"][0]["status"] == "failed"
    assert "division by zero" in run["answer"]


# --- listing ---------------------------------------------------------------------------------


def test_list_is_newest_first_and_pages_with_next_cursor(api: LiveApi) -> None:
    made = [api.run_to_end(f"calculate {n}+{n}")["id"] for n in range(1, 6)]
    http = api.client()

    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = http.get("/api/v1/runs", params=params)
        assert page.status_code == 200
        body = page.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        assert all("links" in item for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(made))
    assert pages == 3


def test_list_filters_by_status(api: LiveApi) -> None:
    ok = api.run_to_end("calculate 1+1")["id"]
    bad = api.run_to_end("calculate 1/0")["id"]
    http = api.client()

    failed = http.get("/api/v1/runs", params={"status": "failed"}).json()
    completed = http.get("/api/v1/runs", params={"status": "completed"}).json()

    assert [item["id"] for item in failed["items"]] == [bad]
    assert [item["id"] for item in completed["items"]] == [ok]
    assert http.get("/api/v1/runs", params={"status": "running"}).json()["items"] == []


@pytest.mark.parametrize("cursor", ["not-a-cursor", "%%%", "Zm9v", "fA", "YWJjfGRlZg", "_w"])
def test_bad_cursor_is_400_problem(api: LiveApi, cursor: str) -> None:
    assert_problem(api.client().get("/api/v1/runs", params={"cursor": cursor}), 400)


@pytest.mark.parametrize(
    "params", [{"status": "bogus"}, {"limit": "0"}, {"limit": "101"}, {"limit": "many"}]
)
def test_bad_query_is_422_problem(api: LiveApi, params: dict[str, str]) -> None:
    assert_problem(api.client().get("/api/v1/runs", params=params), 422)


# --- todos -----------------------------------------------------------------------------------


def test_todos_lists_the_callers_todos_with_done_ones(
    api: LiveApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.run_to_end("add a todo to buy milk")
    api.run_to_end("add a todo to call mom")
    api.run_to_end("complete todo 1")

    body = api.client().get("/api/v1/todos").json()

    assert set(body) == {"items"}
    items = body["items"]
    assert [(t["number"], t["title"], t["done"]) for t in items] == [
        (1, "buy milk", True),
        (2, "call mom", False),
    ]
    assert all(set(t) == {"number", "title", "done", "created_at", "done_at"} for t in items)
    assert items[0]["done_at"] is not None and items[1]["done_at"] is None
    # the very objects `crane todos --all --json` prints for the same (local) user
    assert cli_json(capsys, "todos", "--all", "--json", "--db", api.settings.db) == items


# --- idempotency -----------------------------------------------------------------------------


def test_same_idempotency_key_and_body_returns_the_same_run_with_200(api: LiveApi) -> None:
    first = api.post_run("calculate 2+3", **{"Idempotency-Key": "k-1"})
    assert first.status_code == 202
    api.events(first.json()["id"])  # wait until it finished

    again = api.post_run("calculate 2+3", **{"Idempotency-Key": "k-1"})

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "completed"
    assert len(api.stored_runs()) == 1


def test_idempotency_key_of_a_run_in_flight_returns_that_run_with_202(
    start_api: Callable[..., LiveApi], gate: Gate
) -> None:
    api = start_api(gate=gate)
    first = api.post_run("wait for the gate", **{"Idempotency-Key": "k-2"})
    assert first.status_code == 202
    gate.wait_entered()

    again = api.post_run("wait for the gate", **{"Idempotency-Key": "k-2"})

    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "running"
    gate.open()
    api.events(first.json()["id"])
    after = api.post_run("wait for the gate", **{"Idempotency-Key": "k-2"})
    assert (after.status_code, after.json()["id"]) == (200, first.json()["id"])
    assert len(api.stored_runs()) == 1
    assert gate.calls == 1


def test_same_idempotency_key_with_another_body_is_422_and_stores_nothing(api: LiveApi) -> None:
    first = api.post_run("calculate 2+3", **{"Idempotency-Key": "k-3"})
    assert first.status_code == 202

    for body in ({"text": "calculate 9+9"}, {"text": "calculate 2+3", "thread": "x"}):
        other = api.client().post("/api/v1/runs", json=body, headers={"Idempotency-Key": "k-3"})
        assert "Idempotency-Key" in assert_problem(other, 422)["detail"]
    api.settle()
    assert [run.id for run in api.stored_runs()] == [first.json()["id"]]


def test_idempotency_keys_are_scoped_per_caller(api_tokens: LiveApi) -> None:
    alice = api_tokens.post_run("calculate 2+3", token=ALICE, **{"Idempotency-Key": "same"})
    bob = api_tokens.post_run("calculate 2+3", token=BOB, **{"Idempotency-Key": "same"})

    assert alice.status_code == bob.status_code == 202
    assert alice.json()["id"] != bob.json()["id"]
    api_tokens.settle()
    assert len(api_tokens.stored_runs()) == 2


def test_concurrent_requests_with_one_key_make_one_run(api: LiveApi) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def post(_: int) -> httpx.Response:
        return api.post_run("calculate 4+4", **{"Idempotency-Key": "race"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))

    assert {answer.status_code for answer in answers} <= {200, 202}
    assert len({answer.json()["id"] for answer in answers}) == 1
    api.settle()
    assert len(api.stored_runs()) == 1


def test_concurrent_requests_with_one_key_and_other_bodies_get_422(api: LiveApi) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = ["calculate 1+1", "calculate 2+2"] * 6

    def post(text: str) -> tuple[str, httpx.Response]:
        return text, api.post_run(text, **{"Idempotency-Key": "race-2"})

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(post, texts))

    accepted = [(text, r) for text, r in answers if r.status_code in (200, 202)]
    assert len({r.json()["id"] for _, r in accepted}) == 1
    for text, response in answers:  # never someone else's run for another body
        if response.status_code in (200, 202):
            assert response.json()["text"] == text
        else:
            assert_problem(response, 422)
    api.settle()
    assert len(api.stored_runs()) == 1


# --- back-pressure and refusals --------------------------------------------------------------


def test_full_queue_is_429_with_retry_after_and_stores_nothing(
    start_api: Callable[..., LiveApi], gate: Gate
) -> None:
    api = start_api(gate=gate, queue_limit=1, workers=1)
    busy = api.post_run("wait for the gate")
    assert busy.status_code == 202
    gate.wait_entered()

    refused = api.post_run("calculate 2+3")

    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert [run.id for run in api.stored_runs()] == [busy.json()["id"]]
    gate.open()
    api.settle()
    assert api.post_run("calculate 2+3").status_code == 202


def _raw(content: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": content, "headers": {"Content-Type": content_type}}


BAD_BODIES: dict[str, tuple[dict[str, Any], int]] = {
    "empty text": ({"json": {"text": ""}}, 422),
    "blank text": ({"json": {"text": "   \n "}}, 422),
    "text of 4001 chars": ({"json": {"text": "x" * 4001}}, 422),
    "text not a string": ({"json": {"text": 5}}, 422),
    "no text": ({"json": {"thread": "t"}}, 422),
    "empty thread": ({"json": {"text": "calculate 1+1", "thread": ""}}, 422),
    "extra field": ({"json": {"text": "calculate 1+1", "user": "U999"}}, 422),
    "not an object": ({"json": ["calculate 1+1"]}, 422),
    "invalid json": (_raw(b'{"text": "calculate 1+1"'), 422),
    "empty body": (_raw(b""), 422),
    "body over 64 KiB": ({"json": {"text": "x" * (64 * 1024)}}, 413),
    "wrong content type": (_raw(b'{"text": "calculate 1+1"}', "text/plain"), 415),
    "form content type": (_raw(b"text=calculate+1%2B1", "application/x-www-form-urlencoded"), 415),
    "no content type": ({"content": b'{"text": "calculate 1+1"}'}, 415),
}


@pytest.mark.parametrize("case", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_request_body_is_a_problem_and_stores_nothing(
    api: LiveApi, case: tuple[dict[str, Any], int]
) -> None:
    request, status = case

    response = api.client().post("/api/v1/runs", **request)

    assert_problem(response, status)
    assert api.stored_runs() == []


def test_chunked_body_over_64_kib_is_413(api: LiveApi) -> None:
    def chunks() -> Any:
        yield b'{"text": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = api.client().post(
        "/api/v1/runs", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 413)
    assert api.stored_runs() == []


def test_text_of_exactly_4000_chars_is_accepted(api: LiveApi) -> None:
    assert api.post_run("x" * 4000).status_code == 202


def test_idempotency_key_over_200_chars_is_422(api: LiveApi) -> None:
    response = api.post_run("calculate 1+1", **{"Idempotency-Key": "k" * 201})
    assert_problem(response, 422)
    assert api.stored_runs() == []


def test_wrong_method_and_unknown_path_are_problems(api: LiveApi) -> None:
    assert_problem(api.client().delete("/api/v1/runs"), 405)
    assert_problem(api.client().get("/api/v1/nothing-here"), 404)


def test_busy_database_is_503_with_retry_after_and_frees_the_slot(
    start_api: Callable[..., LiveApi], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = start_api(queue_limit=1, workers=1)
    real_insert = api.store.insert_run

    def locked(*args: Any, **kwargs: Any) -> str:
        raise TransientError("database busy: database is locked")

    monkeypatch.setattr(api.store, "insert_run", locked)
    busy = api.post_run("calculate 2+3")
    monkeypatch.setattr(api.store, "insert_run", real_insert)

    assert_problem(busy, 503)
    assert busy.headers["retry-after"] == "1"
    assert "locked" not in busy.text  # internals stay in the logs
    assert api.stored_runs() == []
    assert api.post_run("calculate 2+3").status_code == 202  # the one slot was given back
