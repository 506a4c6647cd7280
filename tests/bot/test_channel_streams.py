"""Channel threads streamed as task timelines (CRANE_SLACK_STREAMING=auto): what the channel
sees, what only the requester sees, a stream Slack ends mid-run, and a workspace that does not
allow streaming in channels."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.plan import PlannedStep, RunStatus
from tests.bot.conftest import CHANNEL, USER, LiveServer, mention_event, new_ts, scope, settings_for
from tests.bot.gated import gated_server
from tests.fakes.slack_api import FakeSlack, Message


def tasks(message: Message) -> dict[str, dict[str, Any]]:
    """Each task of a streamed message as it stands at the end (its latest update)."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in message.chunks:
        if chunk.get("type") == "task_update":
            found[chunk["id"]] = chunk
    return found


@pytest.fixture
def streaming(start_server: Callable[..., LiveServer], fake: FakeSlack, tmp_path: Path,
              databases: Callable[[Path], str]) -> LiveServer:  # fmt: skip
    return start_server(settings=settings_for(fake, tmp_path, db=databases(tmp_path),
                                              slack_streaming="auto"))  # fmt: skip


def test_a_mention_in_a_channel_streams_its_steps_in_the_thread(streaming: LiveServer) -> None:
    root = new_ts()
    streaming.event(mention_event("calculate 2+3", ts=root))
    streaming.settle()
    (stream,) = streaming.fake.messages(CHANNEL)
    assert stream.streamed and not stream.streaming and stream.thread_ts == root
    assert tasks(stream)["step-1"]["status"] == "complete" and "5" in stream.text
    assert streaming.fake.calls("chat.startStream")[0].params["recipient_user_id"] == USER


def test_private_outputs_in_a_channel_stream_go_to_the_requester_alone(
    streaming: LiveServer,
) -> None:
    streaming.store.add_todo(scope(), "buy milk")
    streaming.event(mention_event("list my todos"))
    streaming.settle()
    (stream,) = streaming.fake.messages(CHANNEL)
    assert "buy milk" not in str(stream.chunks) + stream.text
    assert "shown only to you" in str(tasks(stream)["step-1"].get("output"))
    (whisper,) = streaming.fake.ephemerals(CHANNEL)
    assert whisper["user"] == USER and "buy milk" in whisper["text"]


def test_a_workspace_that_refuses_channel_streams_gets_todays_messages(
    streaming: LiveServer,
) -> None:
    streaming.fake.fail("chat.startStream", "not_allowed")
    root = new_ts()
    streaming.event(mention_event("calculate 2+3", ts=root))
    streaming.settle()
    header, step, answer = streaming.fake.messages(CHANNEL)
    assert header.text.startswith("✅") and step.thread_ts == root and answer.text == "2+3 = 5"


@pytest.fixture
def gated(
    start_server: Callable[..., LiveServer],
    fake: FakeSlack,
    tmp_path: Path,
    databases: Callable[[Path], str],
) -> Iterator[tuple[LiveServer, threading.Event, threading.Event]]:
    """A streaming server whose plans wait in their second step until the test opens it."""
    steps = [PlannedStep(tool="calculator", args={"expression": "1+1"}), PlannedStep(tool="wait"),
             PlannedStep(tool="calculator", args={"expression": "2+2"})]  # fmt: skip
    settings = settings_for(fake, tmp_path, db=databases(tmp_path), slack_streaming="auto")
    gate = gated_server(start_server, settings, steps)
    assert gate.server is not None
    yield gate.server, gate.entered, gate.opened
    gate.opened.set()


def test_a_stream_slack_ends_mid_run_goes_on_in_a_new_one_without_repeating_a_step(
    gated: tuple[LiveServer, threading.Event, threading.Event],
) -> None:
    server, entered, opened = gated
    root = new_ts()
    server.event(mention_event("one, wait, two", ts=root))
    assert entered.wait(10), "the second step never started"
    server.fake.end_streams()  # Slack's five minutes are over
    opened.set()
    server.settle()

    (run,) = server.runs()
    assert run.status is RunStatus.completed
    first, second = server.fake.messages(CHANNEL)
    assert first.thread_ts == second.thread_ts == root and second.streamed
    assert tasks(first)["step-1"]["status"] == "complete"
    assert "step-1" not in tasks(second)  # finished in the first: not shown again
    assert [tasks(second)[f"step-{n}"]["status"] for n in (2, 3)] == ["complete", "complete"]
    assert "2+2 = 4" in second.text and not second.streaming
