"""Slack's agent surface, end to end through the real Bolt app and the fake Web API: each thread
where Crane shows runs is an agent session whose status follows its runs, Slack's own Stop
(`agent_session_stopped`) stops the requester's running runs of that thread, and the Messages
tab gets the suggested prompts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.listeners.assistant import PROMPTS
from core.plan import PlannedStep, RunStatus
from tests.bot.conftest import (
    CHANNEL,
    USER,
    LiveServer,
    mention_event,
    message_event,
    new_ts,
    scope,
    settings_for,
)
from tests.bot.gated import gated_server
from tests.bot.test_slack_buttons import button_of, click, prompt_in, whispers
from tests.fakes.signing import load_payload
from tests.fakes.slack_api import Call, FakeSlack

OTHER = "W222"


def statuses(server: LiveServer, channel: str, thread: str) -> list[str]:
    session = server.fake.session(channel, thread)
    return session["statuses"] if session else []


def stopped_event(thread: str, user: str = USER, channel: str = CHANNEL) -> dict[str, Any]:
    event = load_payload("agent_session_stopped")
    event.update(user=user, channel=channel, thread_ts=thread, streaming_message_ts=[])
    return event


def test_a_completed_run_makes_its_thread_a_session_processing_then_active(
    server: LiveServer,
) -> None:
    root = new_ts()
    server.event(mention_event("calculate 2+3", ts=root))
    server.settle()
    session = server.fake.session(CHANNEL, root)
    assert session is not None and session["title"] == "calculate 2+3"
    assert session["statuses"] == ["processing", "active"]
    assert server.fake.messages(CHANNEL)[-1].text == "2+3 = 5"


def test_a_run_waiting_for_approval_suspends_its_session_until_approved(
    server: LiveServer,
) -> None:
    server.store.add_todo(scope(), "buy milk")
    root = new_ts()
    server.event(mention_event("delete todo 1", ts=root))
    server.settle()
    # its first step is the question: the session is waiting for the requester at once
    assert statuses(server, CHANNEL, root) == ["suspended"]
    assert server.fake.session(CHANNEL, root)["title"] == "delete todo 1"  # type: ignore[index]

    prompt = prompt_in(server, root)
    click(server, "crane_approve", button_of(prompt, "crane_approve")["value"], message=prompt)  # type: ignore[index]
    server.settle()
    assert statuses(server, CHANNEL, root) == ["suspended", "processing", "active"]
    assert server.store.list_todos(scope()) == []


def test_a_slash_commands_session_is_the_thread_under_its_header(server: LiveServer) -> None:
    server.command("calculate 6*7")
    server.settle()
    header = server.fake.messages(CHANNEL)[0]
    assert statuses(server, CHANNEL, header.ts) == ["processing", "active"]


def test_a_dm_run_is_a_session_of_its_own_thread(server: LiveServer) -> None:
    root = new_ts()
    server.event(message_event("calculate 2+3", ts=root, channel="D111", channel_type="im"))
    server.settle()
    assert statuses(server, "D111", root) == ["processing", "active"]


def test_the_messages_tab_gets_the_suggested_prompts(server: LiveServer) -> None:
    server.event(load_payload("app_home_opened"))  # tab: messages, channel D111
    server.settle()
    (call,) = server.fake.calls("assistant.threads.setSuggestedPrompts")
    assert call.params["channel_id"] == "D111" and "thread_ts" not in call.params
    assert call.params["prompts"] == PROMPTS
    assert server.fake.calls("views.publish") == []


def test_a_workspace_without_agent_sessions_still_gets_its_answers_and_is_left_alone(
    server: LiveServer,
) -> None:
    server.fake.fail("agents.sessions.setStatus", "not_allowed")
    for n in (1, 2):
        server.event(mention_event(f"calculate {n}+1"))
        server.settle()
    answers = [m.text for m in server.fake.messages(CHANNEL) if m.text in ("1+1 = 2", "2+1 = 3")]
    assert answers == ["1+1 = 2", "2+1 = 3"]
    assert len(server.fake.calls("agents.sessions.setStatus")) == 1  # off for an hour after it


def test_an_argument_error_is_only_logged_for_that_call(server: LiveServer) -> None:
    server.fake.fail("agents.sessions.setStatus", "invalid_arguments")
    root = new_ts()
    server.event(mention_event("calculate 2+3", ts=root))
    server.settle()
    assert statuses(server, CHANNEL, root) == ["active"]  # the next call went through
    assert server.fake.messages(CHANNEL)[-1].text == "2+3 = 5"


# ------------------------------------------------------------------------------- Slack's Stop


@pytest.fixture
def waiting_server(
    start_server: Callable[..., LiveServer],
    fake: FakeSlack,
    tmp_path: Path,
    databases: Callable[[Path], str],
) -> Iterator[tuple[LiveServer, threading.Event, threading.Event]]:
    """A server whose plans wait in their first step until the test opens it."""
    steps = [PlannedStep(tool="wait"), PlannedStep(tool="add_todo", args={"title": "never"})]
    gate = gated_server(start_server, settings_for(fake, tmp_path, db=databases(tmp_path)), steps)
    assert gate.server is not None
    yield gate.server, gate.entered, gate.opened
    gate.opened.set()


def test_slacks_stop_from_the_requester_stops_the_running_run_once(
    waiting_server: tuple[LiveServer, threading.Event, threading.Event],
) -> None:
    server, entered, opened = waiting_server
    root = new_ts()
    server.event(mention_event("wait, then add a todo", ts=root))
    assert entered.wait(10), "the first step never started"
    stop = stopped_event(root)
    server.event(stop, event_id="Ev0STOP1")
    server.event(stop, event_id="Ev0STOP1")  # Slack delivers it again: nothing more happens

    def says_who(call: Call) -> bool:
        return "Stopped by" in str(call.params.get("text"))

    said = server.fake.wait_for("chat.postMessage", timeout=10, predicate=says_who)
    assert said[0].params["thread_ts"] == root
    opened.set()
    server.settle()

    (run,) = server.runs()
    assert run.status is RunStatus.cancelled
    assert [s.status.value for s in run.steps] == ["completed", "skipped"]
    assert server.store.list_todos(scope()) == []
    thread = [m.text for m in server.fake.messages(CHANNEL) if m.thread_ts == root]
    assert thread.count(f"Stopped by <@{USER}>.") == 1
    assert statuses(server, CHANNEL, root)[-1] == "active"


def test_slacks_stop_from_someone_else_stops_nothing_and_tells_them_why(
    waiting_server: tuple[LiveServer, threading.Event, threading.Event],
) -> None:
    server, entered, opened = waiting_server
    root = new_ts()
    server.event(mention_event("wait, then add a todo", ts=root))
    assert entered.wait(10), "the first step never started"
    server.event(stopped_event(root, user=OTHER))
    server.fake.wait_for("chat.postEphemeral")
    opened.set()
    server.settle()

    assert whispers(server.fake, OTHER) == [f"Only <@{USER}> can stop this."]
    (run,) = server.runs()
    assert run.status is RunStatus.completed
    assert [todo.title for todo in server.store.list_todos(scope())] == ["never"]


def test_slacks_stop_on_a_thread_with_nothing_running_sets_it_active(server: LiveServer) -> None:
    root = new_ts()
    server.event(mention_event("calculate 2+3", ts=root))
    server.settle()
    server.event(stopped_event(root))
    server.settle()
    assert statuses(server, CHANNEL, root) == ["processing", "active", "active"]
    assert server.runs()[0].status is RunStatus.completed
