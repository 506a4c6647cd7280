"""Slack requests that arrive together share one durable commit of their intake records:
each is acked only once its record is durable, a retry among them is still recognised, and
when their commit fails none is acked (503: Slack delivers them again) and none is recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.bot.conftest import CHANNEL, LiveServer, mention_event, scope
from tests.fakes.commits import HeldCommits
from tests.fakes.signing import event_body


def answers(live: LiveServer, thread: str) -> list[str]:
    return [m.text for m in live.fake.messages(CHANNEL)
            if m.thread_ts == thread and m.text.startswith("Added todo")]  # fmt: skip


def deliver_together(
    live: LiveServer, held: HeldCommits, bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    """Each delivery, sharing one commit after the first's; a body seen before is Slack's retry."""
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    return held.together(
        [lambda i=i: live.post_signed(bodies[i], retry if bodies[i] in bodies[:i] else None)
         for i in range(len(bodies))]
    )  # fmt: skip


def test_mentions_acked_in_one_commit_are_each_answered_once_and_a_retry_among_them_once(
    start_server: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    live = start_server()
    events = [mention_event(f"add a todo to task {i}") for i in range(4)]
    bodies = [event_body(event) for event in events]
    held = HeldCommits(live.store, monkeypatch)

    acks = deliver_together(live, held, [*bodies, bodies[1]])  # task 1 retried meanwhile

    assert [ack.status_code for ack in acks] == [200] * 5
    live.settle()
    for i, event in enumerate(events):  # task 1 once: its retry was recognised
        (answer,) = answers(live, event["ts"])
        assert answer.endswith(f": task {i}")
    assert sorted(todo.title for todo in live.store.list_todos(scope())) == [
        f"task {i}" for i in range(4)
    ]


def test_when_the_shared_commit_fails_no_request_in_it_is_acked_or_recorded(
    start_server: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    live = start_server()
    events = [mention_event(f"add a todo to task {i}") for i in range(4)]
    bodies = [event_body(event) for event in events]
    held = HeldCommits(live.store, monkeypatch)
    held.fail = True

    refused = deliver_together(live, held, bodies)

    assert [response.status_code for response in refused] == [503] * 4  # Slack retries each
    monkeypatch.undo()
    assert live.store.received_owners() == [] and live.runs() == []
    for body in bodies:  # Slack's retries: taken as new, since nothing was recorded
        assert live.post_signed(body, {"X-Slack-Retry-Num": "1"}).status_code == 200
    live.settle()
    for event in events:
        assert len(answers(live, event["ts"])) == 1
