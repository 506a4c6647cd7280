"""Run limits seen from Slack, on both backends: a request over a limit is acknowledged, stores
no run, and its requester alone is told which limit and when it resets — once, even when
Slack retries the delivery. The App Home shows the viewer's usage today against the limits."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.bot.conftest import CHANNEL, USER, LiveServer, mention_event, new_ts
from tests.fakes.signing import event_body

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def limit_notes(server: LiveServer) -> list[str]:
    return [
        e["text"] for e in server.fake.ephemerals(CHANNEL)
        if e["user"] == USER and "CRANE_LIMIT_RUNS_PER_DAY" in e["text"]
    ]  # fmt: skip


def test_a_mention_over_the_limit_gets_one_private_note_even_when_slack_retries(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(limit_runs_per_day=1)
    server.event(mention_event("calculate 2+3", ts=new_ts()))
    server.settle()
    posted = len(server.fake.messages(CHANNEL))

    over = event_body(mention_event("calculate 3+4", ts=new_ts()))
    assert server.post_signed(over).status_code == 200
    server.settle()
    assert server.post_signed(over, headers=RETRY).status_code == 200
    server.settle()

    (note,) = limit_notes(server)
    assert "resets in" in note
    assert len(server.runs()) == 1
    assert len(server.fake.messages(CHANNEL)) == posted  # nothing in the channel for it


def test_a_slash_command_over_the_limit_posts_no_header_and_tells_only_its_requester(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(limit_runs_per_day=1)
    server.command("calculate 2+3")
    server.settle()
    headers = len(server.fake.messages(CHANNEL))

    server.command("calculate 3+4")
    server.settle()

    assert len(limit_notes(server)) == 1
    assert len(server.fake.messages(CHANNEL)) == headers
    assert len(server.runs()) == 1
    refused = server.http.get("/metrics").text
    assert 'crane_limit_refusals_total{limit="CRANE_LIMIT_RUNS_PER_DAY"} 1.0' in refused


def test_the_app_home_shows_todays_usage_against_the_limits(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(limit_runs_per_day=50)
    server.event(mention_event("add a todo to buy milk", ts=new_ts()))
    server.settle()

    server.event({"type": "app_home_opened", "user": USER, "tab": "home"})
    server.settle()

    shown = json.dumps(server.fake.home_view(USER))
    assert "Your usage today (UTC): 1 of 50 runs" in shown
