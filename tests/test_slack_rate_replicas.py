"""Two `crane serve` replicas on one PostgreSQL database share one Slack rate budget per
workspace and method: a burst of 20 ten-step runs from one workspace, delivered to both,
keeps to the fake's scaled Tier 3 as if one process had sent it, and every thread ends right."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bot.conftest import SECRET, TOKEN, mention_event
from tests.bot.test_rate_limits import (
    CRANE_BURST,
    MINUTE_S,
    POSTS,
    RUNS,
    SCALED,
    TIER_3,
    shown_done,
    ten_todos,
    thread_of,
    wait_until,
)
from tests.fakes.signing import event_body, signed_headers
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_limits import busiest, early_calls
from tests.pg import fresh_schema
from tests.replicas import Replica, replicas


@pytest.fixture
def shared_db() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def _deliver(replica: Replica, event: dict[str, object]) -> None:
    raw = event_body(event)
    answer = httpx.post(replica.url + "/slack/events", content=raw,
                        headers=signed_headers(raw, SECRET), timeout=30)  # fmt: skip
    assert answer.status_code == 200


def test_two_replicas_spend_one_budget_and_every_thread_ends_right(
    shared_db: str, tmp_path: Path
) -> None:
    with FakeSlack() as fake:
        fake.limit("chat.update", TIER_3, minute_s=MINUTE_S)
        fake.limit("chat.postMessage", POSTS, minute_s=MINUTE_S)
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.url, "CRANE_SLACK_STREAMING": "off",
               "CRANE_WORKERS": "10", "CRANE_SLACK_RATE_LIMITS": SCALED}  # fmt: skip
        with replicas(shared_db, tmp_path, 2, **env) as group:
            mentions = [mention_event(ten_todos(run)) for run in range(RUNS)]
            for n, event in enumerate(mentions):
                _deliver(group[n % 2], event)

            def unfinished() -> list[int]:
                return [n for n, e in enumerate(mentions)
                        if not shown_done(thread_of(fake, e["ts"]))]  # fmt: skip

            wait_until(lambda: not unfinished(), 60, unfinished)
            for method, tier in (("chat.update", TIER_3), ("chat.postMessage", POSTS)):
                calls = fake.calls(method)
                assert early_calls(calls) == []
                assert [c for c in calls if c.status == 429] == []
                assert busiest(calls, MINUTE_S) <= tier + max(CRANE_BURST, tier // 6)
