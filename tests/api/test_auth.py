"""Who may call: bearer tokens from CRANE_API_TOKENS (each caller sees only its own runs and
todos, and can be the same tenant and user as in Slack); with no tokens, loopback only, as the
local user the CLI uses."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import cli
from core.errors import InvalidInput
from core.plan import Scope
from server import create
from tests.api.conftest import ALICE, ALICE_SCOPE, BOB, TOKENS, WAIT_S, LiveApi, api_settings
from tests.api.test_runs_api import assert_problem
from tests.fakes.signing import signed_headers, slash_command_body
from tests.fakes.slack_api import FakeSlack

ENDPOINTS = [
    ("GET", "/api/v1/runs"),
    ("POST", "/api/v1/runs"),
    ("GET", "/api/v1/runs/abc"),
    ("GET", "/api/v1/runs/abc/events"),
    ("GET", "/api/v1/todos"),
]


def call(http: httpx.Client, method: str, path: str) -> httpx.Response:
    body = {"json": {"text": "calculate 1+1"}} if method == "POST" else {}
    return http.request(method, path, **body)


def from_address(app: Any, host: str, method: str, path: str, **headers: str) -> httpx.Response:
    """One request to the ASGI app as if it came from `host` (no socket involved)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(host, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://crane") as http:
            body = {"json": {"text": "calculate 1+1"}} if method == "POST" else {}
            return await http.request(method, path, headers=headers, **body)

    return asyncio.run(send())


# --- tokens configured -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer nope", "Bearer", "Basic s3cret", "s3cret", "Bearer s3cret2"]
)
def test_missing_or_unknown_token_is_401(
    api_tokens: LiveApi, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = call(api_tokens.client(**headers), method, path)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert api_tokens.stored_runs() == []


def test_a_known_token_is_the_caller_it_names(api_tokens: LiveApi) -> None:
    run = api_tokens.run_to_end("calculate 2+3", token=ALICE)

    assert run["status"] == "completed"
    assert [stored.scope for stored in api_tokens.stored_runs()] == [ALICE_SCOPE]


def test_callers_see_only_their_own_runs(api_tokens: LiveApi) -> None:
    mine = api_tokens.run_to_end("calculate 2+3", token=ALICE)["id"]
    alice, bob = api_tokens.client(ALICE), api_tokens.client(BOB)
    unknown_id = "0" * len(mine)

    unknown = bob.get(f"/api/v1/runs/{unknown_id}")
    foreign = bob.get(f"/api/v1/runs/{mine}")

    assert_problem(foreign, 404)
    # the very same answer as for an id that does not exist: nothing to learn from it
    same = {**unknown.json(), "detail": unknown.json()["detail"].replace(unknown_id, mine)}
    assert foreign.json() == same
    assert_problem(bob.get(f"/api/v1/runs/{mine}/events"), 404)
    assert bob.get("/api/v1/runs").json() == {"items": [], "next_cursor": None}
    assert [item["id"] for item in alice.get("/api/v1/runs").json()["items"]] == [mine]


def test_callers_see_only_their_own_todos(api_tokens: LiveApi) -> None:
    api_tokens.run_to_end("add a todo to buy milk", token=ALICE)
    api_tokens.run_to_end("add a todo to walk the dog", token=BOB)

    alice = api_tokens.client(ALICE).get("/api/v1/todos").json()["items"]
    bob = api_tokens.client(BOB).get("/api/v1/todos").json()["items"]

    assert [(t["number"], t["title"]) for t in alice] == [(1, "buy milk")]
    assert [(t["number"], t["title"]) for t in bob] == [(1, "walk the dog")]


def test_a_follow_up_never_reads_another_callers_thread(api_tokens: LiveApi) -> None:
    api_tokens.run_to_end("calculate 2+3", thread="shared-name", token=ALICE)

    bob = api_tokens.run_to_end("add 10 to that", thread="shared-name", token=BOB)

    assert "15" not in (bob["answer"] or "")


def test_tokens_are_served_from_any_address(api_tokens: LiveApi) -> None:
    app = api_tokens.server.app
    auth = {"Authorization": f"Bearer {ALICE}"}
    assert from_address(app, "10.0.0.5", "GET", "/api/v1/todos", **auth).status_code == 200
    assert from_address(app, "10.0.0.5", "GET", "/").status_code == 200  # page asks for a token
    assert from_address(app, "10.0.0.5", "GET", "/api/v1/todos").status_code == 401


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


def test_api_caller_shares_todos_with_the_same_slack_user(
    start_api: Callable[..., LiveApi], fake_slack: FakeSlack, tmp_path: Any
) -> None:
    secret = "test-signing-secret"
    api = start_api(
        api_tokens=TOKENS, slack_bot_token="xoxb-test", slack_signing_secret=secret,
        slack_api_url=fake_slack.url,
    )  # fmt: skip
    body = slash_command_body(
        text="add a todo to buy milk", team_id="T01", user_id="U01", enterprise_id=None,
        response_url=fake_slack.response_url(),
    )  # fmt: skip
    slack = api.client().post("/slack/events", content=body, headers=signed_headers(body, secret))
    assert slack.status_code == 200, slack.text
    alice = api.client(ALICE)
    deadline = time.monotonic() + WAIT_S
    while not alice.get("/api/v1/todos").json()["items"]:
        assert time.monotonic() < deadline, "the Slack command never added its todo"
        time.sleep(0.02)

    api.run_to_end("add a todo to call mom", token=ALICE)

    titles = [(t["number"], t["title"]) for t in alice.get("/api/v1/todos").json()["items"]]
    assert titles == [(1, "buy milk"), (2, "call mom")]
    assert api.store.list_todos(ALICE_SCOPE) == api.store.list_todos(
        Scope(enterprise_id="", team_id="T01", user_id="U01")
    )
    assert api.client(BOB).get("/api/v1/todos").json()["items"] == []


def test_malformed_token_setting_is_refused_at_start(tmp_path: Any) -> None:
    with pytest.raises(InvalidInput, match="TOKEN:TEAM:USER"):
        create(api_settings(tmp_path, api_tokens="s3cret:T01"))


# --- no tokens: loopback only, as the local user ---------------------------------------------


def test_no_tokens_serves_loopback_as_the_local_user(api: LiveApi) -> None:
    run = api.run_to_end("add a todo to buy milk")

    assert run["status"] == "completed"
    assert [stored.scope for stored in api.stored_runs()] == [Scope(user_id="local")]
    assert any("loopback" in notice for notice in api.server.notices)


def test_no_tokens_local_user_shares_todos_with_the_cli(
    api: LiveApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", "add a todo to buy milk", "--db", api.settings.db]) == 0
    api.run_to_end("add a todo to call mom")
    capsys.readouterr()

    from_api = api.client().get("/api/v1/todos").json()["items"]
    cli.main(["todos", "--json", "--db", api.settings.db])
    from_cli = json.loads(capsys.readouterr().out)

    assert [t["title"] for t in from_api] == ["buy milk", "call mom"]
    assert from_cli == from_api


@pytest.mark.parametrize(("method", "path"), [*ENDPOINTS, ("GET", "/")])
def test_no_tokens_refuses_other_addresses_with_403(api: LiveApi, method: str, path: str) -> None:
    response = from_address(api.server.app, "10.0.0.5", method, path)

    assert_problem(response, 403)
    assert api.stored_runs() == []


def test_no_tokens_ipv6_loopback_is_local(api: LiveApi) -> None:
    assert from_address(api.server.app, "::1", "GET", "/api/v1/todos").status_code == 200


def test_tokens_configured_says_nothing_about_loopback(api_tokens: LiveApi) -> None:
    assert not any("loopback" in notice for notice in api_tokens.server.notices)
