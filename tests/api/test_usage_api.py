"""Limits and usage over REST, on both backends: a run over a limit is a 429 of its own problem
type naming the limit, with Retry-After; an Idempotency-Key replay is never refused; a caller
sees its own usage rows and its workspace's totals."""

from __future__ import annotations

from collections.abc import Callable

from api.problems import LIMIT_PROBLEM
from tests.api.conftest import ALICE, BOB, TOKENS, LiveApi


def test_a_run_over_the_daily_limit_is_a_429_naming_the_limit(
    start_api: Callable[..., LiveApi],
) -> None:
    api = start_api(api_tokens=TOKENS, limit_runs_per_day=1)
    first = api.post_run("calculate 2+3", token=ALICE, **{"Idempotency-Key": "k1"})
    assert first.status_code == 202

    refused = api.post_run("calculate 3+4", token=ALICE)
    replayed = api.post_run("calculate 2+3", token=ALICE, **{"Idempotency-Key": "k1"})

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == LIMIT_PROBLEM != "about:blank"
    assert body["limit"] == "CRANE_LIMIT_RUNS_PER_DAY"
    assert int(refused.headers["Retry-After"]) == body["retry_after_s"] > 0
    assert replayed.status_code in (200, 202) and replayed.json()["id"] == first.json()["id"]
    assert api.post_run("calculate 3+4", token=BOB).status_code == 202  # per user
    api.settle()
    assert len(api.stored_runs()) == 2


def test_usage_shows_the_callers_rows_and_the_workspace_totals(
    start_api: Callable[..., LiveApi],
) -> None:
    api = start_api(api_tokens=TOKENS + ",third:T01:U03", limit_runs_per_day=100)
    for token in (ALICE, ALICE, "third", BOB):
        assert api.post_run("calculate 2+3", token=token).status_code == 202
    api.settle()

    body = api.client(ALICE).get("/api/v1/usage", params={"days": 3}).json()

    (mine,) = body["items"]
    assert (mine["user"], mine["runs"], mine["steps"]) == ("U01", 2, 2)
    assert set(mine) == {"date", "user", "runs", "steps", "prompt_tokens", "completion_tokens",
                         "cached_tokens", "cost_usd"}  # fmt: skip
    (workspace,) = body["workspace"]
    assert (workspace["user"], workspace["runs"]) == (None, 3)  # T01 only: Bob is T02
    assert body["limits"]["runs_per_day"] == 100 and body["limits"]["tokens_per_day"] is None
    assert api.client(ALICE).get("/api/v1/usage", params={"days": 0}).status_code == 422
