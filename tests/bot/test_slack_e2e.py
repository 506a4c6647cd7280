"""End to end, offline: signed Slack requests over HTTP to the real server (uvicorn, Bolt, the
pattern planner, SQLite); what a user would see is read back from the fake Slack Web API."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import render
from bot.handling import INVITE_NOTE
from bot.listeners import BUSY
from core.plan import RunStatus, Scope
from tests.bot.conftest import (
    CHANNEL,
    ENTERPRISE,
    TEAM,
    USER,
    LiveServer,
    mention_event,
    message_event,
    new_ts,
    scope,
)
from tests.fakes.signing import event_body, load_payload, new_event_id, signed_headers
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, Call, FakeSlack, Message

DM = "D111"
SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.startStream",
         "chat.appendStream", "chat.stopStream", "response_url")  # fmt: skip


def in_thread(fake: FakeSlack, thread_ts: str, channel: str = CHANNEL) -> list[Message]:
    """The bot's messages in one thread, oldest first."""
    return [m for m in fake.messages(channel) if m.thread_ts == thread_ts]


def block_text(message: Message) -> str:
    return json.dumps(message.blocks or [], ensure_ascii=False)


def everything_shown(fake: FakeSlack) -> str:
    """Every text, block and chunk the bot sent anywhere a user could read it."""
    return "\n".join(
        json.dumps(call.params, ensure_ascii=False) for call in fake.calls() if call.method in SHOWN
    )


def shown_calls(fake: FakeSlack) -> list[Call]:
    return [call for call in fake.calls() if call.method in SHOWN]


def whispers(fake: FakeSlack, user: str = USER, channel: str = CHANNEL) -> list[str]:
    """The texts only `user` was shown (chat.postEphemeral) in `channel`, oldest first."""
    return [e["text"] for e in fake.ephemerals(channel) if e["user"] == user]


def todo_titles(server: LiveServer, who: Scope) -> list[str]:
    return [todo.title for todo in server.store.list_todos(who, include_done=True)]


def ask_in_channel(server: LiveServer, text: str, **kwargs: Any) -> str:
    """@Crane <text> at the top of the channel; returns the message ts (= the reply thread)."""
    ts = new_ts()
    server.event(mention_event(text, ts=ts, **kwargs))
    server.settle()
    return ts


# ---------------------------------------------------------------------------------- /crane


def test_slash_command_acks_empty_then_shows_header_step_and_answer_in_a_thread(
    server: LiveServer,
) -> None:
    ack = server.command("calculate 2+3")
    assert ack.text == ""
    server.settle()

    header, step, answer = server.fake.messages(CHANNEL)
    assert header.thread_ts is None
    assert header.text == f"✅ <@{USER}> asked: calculate 2+3"
    assert "Status: *completed*" in block_text(header)
    assert step.thread_ts == answer.thread_ts == header.ts
    # the step reply was posted as running and then updated in place
    posted = server.fake.calls("chat.postMessage")
    assert posted[1].params["text"].startswith("⏳") and "running" in posted[1].params["text"]
    assert posted[1].params["thread_ts"] == header.ts
    assert step.edited and step.text.startswith("✅ *1. calculator*") and "5" in step.text
    assert "2+3 = 5" in answer.text and "*Done.*" in block_text(answer)
    (run,) = server.runs(scope())
    assert run.status is RunStatus.completed and run.conversation == f"{CHANNEL}:{header.ts}"


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
def test_slash_command_without_a_request_answers_usage_in_the_ack(
    server: LiveServer, text: str
) -> None:
    ack = server.command(text)
    usage = render.usage(server.server.crane.examples)
    assert ack.json() == {"response_type": "ephemeral", "text": usage}
    server.settle()
    assert shown_calls(server.fake) == [] and server.runs() == []


def test_slash_command_too_long_is_refused_in_the_ack_and_nothing_stored(
    server: LiveServer,
) -> None:
    ack = server.command("calculate " + "1+" * 1995 + "1")  # 4001 characters
    body = ack.json()
    assert body["response_type"] == "ephemeral"
    assert "too long" in body["text"] and "4000" in body["text"]
    server.settle()
    assert shown_calls(server.fake) == [] and server.runs() == []


def test_slash_command_where_the_bot_is_not_in_the_channel_answers_via_response_url(
    server: LiveServer,
) -> None:
    server.fake.fail("chat.postMessage", "not_in_channel")
    server.command("calculate 2+3")
    server.settle()
    note, result = (call.params for call in server.fake.calls("response_url"))
    assert note == {"text": INVITE_NOTE, "response_type": "ephemeral"}
    assert "/invite" in note["text"]
    assert "5" in result["text"] and result["response_type"] == "ephemeral"
    assert server.fake.messages() == []


def test_failed_step_shows_the_error_and_marks_the_run_failed(server: LiveServer) -> None:
    server.command("complete todo 42")
    server.settle()
    header, step, answer = server.fake.messages(CHANNEL)
    assert step.text.startswith("❌ *1. complete_todo* `42`")
    assert "failed: " in step.text and "42" in step.text.split("failed: ")[1]
    assert "*Failed.*" in block_text(answer) and "complete_todo" in answer.text
    assert header.text.startswith("❌") and "Status: *failed*" in block_text(header)
    (run,) = server.runs()
    assert run.status is RunStatus.failed


def test_a_plan_of_more_than_five_steps_shows_one_progress_message(server: LiveServer) -> None:
    request = " and ".join(f"add a todo to item {i}" for i in range(7))
    root = ask_in_channel(server, request)
    header, progress, answer = in_thread(server.fake, root)
    assert header.text.startswith("✅")
    assert progress.text == "Progress" and len(progress.blocks or []) == 7
    assert all(b["text"]["text"].startswith("✅") for b in progress.blocks or [])
    assert "Added todo #7: item 6" in answer.text


# -------------------------------------------------------------------------- mentions, threads


def test_mention_in_a_channel_replies_in_that_messages_thread(server: LiveServer) -> None:
    root = ask_in_channel(server, "add a todo to buy milk")
    messages = server.fake.messages(CHANNEL)
    assert messages and all(m.thread_ts == root for m in messages)
    header, step, answer = messages
    assert header.text == f"✅ <@{USER}> asked: add a todo to buy milk"
    assert step.text.startswith("✅ *1. add_todo* `buy milk`")
    assert answer.text == "Added todo #1: buy milk"
    assert todo_titles(server, scope()) == ["buy milk"]


def test_mention_inside_a_thread_replies_in_that_thread(server: LiveServer) -> None:
    parent = new_ts()
    server.event(mention_event("calculate 2+3", thread_ts=parent))
    server.settle()
    messages = server.fake.messages(CHANNEL)
    assert len(messages) == 3 and all(m.thread_ts == parent for m in messages)
    assert "5" in messages[-1].text


def test_follow_up_in_thread_without_mention_uses_previous_result(server: LiveServer) -> None:
    root = ask_in_channel(server, "calculate 2+3")
    server.event(message_event("calculate 2+3", ts=root))  # the mention's `message` twin
    server.event(message_event("add 10 to that", thread_ts=root))
    server.settle()
    messages = server.fake.messages(CHANNEL)
    assert len(messages) == 6 and all(m.thread_ts == root for m in messages)
    assert "15" in messages[-1].text
    latest = server.runs()[0]
    assert latest.text == "add 10 to that" and "15" in (latest.answer or "")
    assert latest.conversation == f"{CHANNEL}:{root}"


def test_thanks_in_a_known_thread_gets_no_reply_and_stores_no_run(server: LiveServer) -> None:
    root = ask_in_channel(server, "calculate 2+3")
    shown, runs = len(shown_calls(server.fake)), len(server.runs())
    server.event(message_event("thanks!", thread_ts=root))
    server.settle()
    assert len(shown_calls(server.fake)) == shown and len(server.runs()) == runs


@pytest.mark.parametrize("text", ["", "x" * 4500])
def test_unplannable_message_in_a_known_thread_without_mention_gets_no_reply(
    server: LiveServer, text: str
) -> None:
    # a file shared without a comment, a long log pasted for a colleague: not for Crane
    root = ask_in_channel(server, "calculate 2+3")
    shown, runs = len(shown_calls(server.fake)), len(server.runs())
    event = message_event(text, thread_ts=root)
    if not text:
        event.update(subtype="file_share", files=[{"id": "F1"}])
    server.event(event)
    server.settle()
    assert len(shown_calls(server.fake)) == shown and len(server.runs()) == runs


def test_message_with_a_non_string_text_is_acknowledged_and_ignored(server: LiveServer) -> None:
    event = message_event("x", channel=DM, channel_type="im")
    event["text"] = 5
    server.event(event)
    server.settle()
    assert shown_calls(server.fake) == [] and server.runs() == []


def test_message_in_a_thread_crane_never_answered_is_ignored(server: LiveServer) -> None:
    server.event(message_event("calculate 2+3", thread_ts=new_ts()))
    server.settle()
    assert shown_calls(server.fake) == [] and server.runs() == []


def test_follow_up_after_a_question_is_handled_in_that_thread(server: LiveServer) -> None:
    server.store.add_todo(scope(), "buy milk")
    root = ask_in_channel(server, "complete the first one")
    (question,) = in_thread(server.fake, root)
    assert "Which todo" in question.text
    server.event(message_event("complete todo 1", thread_ts=root))
    server.settle()
    public = in_thread(server.fake, root)[-1].text
    assert "#1" in public and "shown only to you" in public and "buy milk" not in public
    assert "Completed todo #1: buy milk" in whispers(server.fake)[-1]
    assert all(todo.done for todo in server.store.list_todos(scope(), include_done=True))


@pytest.mark.parametrize("mention_first", [True, False])
def test_mention_and_its_message_twin_run_once(server: LiveServer, mention_first: bool) -> None:
    parent, ts, msg_id = new_ts(), new_ts(), "6f1c1bd1-0c3a-4c5e-9d0a-0d3f0b7a1111"
    mention = mention_event("calculate 2+3", ts=ts, thread_ts=parent, client_msg_id=msg_id)
    twin = message_event(mention["text"], ts=ts, thread_ts=parent, client_msg_id=msg_id)
    for event in [mention, twin] if mention_first else [twin, mention]:
        server.event(event)
    server.settle()
    assert len(server.runs()) == 1
    header, step, answer = in_thread(server.fake, parent)
    assert header.text.startswith("✅") and step.text.startswith("✅") and "5" in answer.text


def test_slack_retry_of_a_seen_event_is_acknowledged_and_ignored(server: LiveServer) -> None:
    body = event_body(mention_event("add a todo to buy milk"))
    assert server.post_signed(body).status_code == 200
    server.settle()
    seen = len(server.fake.calls())
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert server.post_signed(body, headers=retry).status_code == 200
    server.settle()
    assert len(server.fake.calls()) == seen
    assert len(server.runs()) == 1 and todo_titles(server, scope()) == ["buy milk"]


def test_in_a_shared_thread_another_user_cannot_act_on_my_listing(server: LiveServer) -> None:
    alice, bob = scope("W111"), scope("W222")
    root = ask_in_channel(server, "add a todo to buy milk", user="W111")
    for text in ["add a todo to walk the dog", "list my todos"]:
        server.event(message_event(text, thread_ts=root, user="W111"))
        server.settle()
    assert "#2 [ ] walk the dog" in whispers(server.fake, "W111")[-1]
    assert "walk the dog" not in in_thread(server.fake, root)[-1].text

    server.event(message_event("complete the first one", thread_ts=root, user="W222"))
    server.settle()  # a plain message that plans nothing: silence
    server.event(mention_event("complete the first one", thread_ts=root, user="W222"))
    server.settle()
    question = in_thread(server.fake, root)[-1]
    assert "Which todo" in question.text
    assert not any(todo.done for todo in server.store.list_todos(alice, include_done=True))
    assert server.store.list_todos(bob, include_done=True) == []
    assert all(not run.steps for run in server.runs(bob))


def test_which_todo_question_quoting_my_titles_is_shown_only_to_me_in_a_channel(
    server: LiveServer,
) -> None:
    root = ask_in_channel(server, "add todos: finish the report; write the report")
    server.event(mention_event("complete the report", thread_ts=root))
    server.settle()

    (question,) = [text for text in whispers(server.fake) if "More than one todo" in text]
    assert '"finish the report"' in question and '"write the report"' in question
    assert not any("More than one" in m.text for m in in_thread(server.fake, root))
    assert not any(todo.done for todo in server.store.list_todos(scope(), include_done=True))


# --------------------------------------------------------------------------------- tenancy


def test_org_wide_install_stores_todos_under_the_envelope_workspace(server: LiveServer) -> None:
    body = load_payload("org_wide_message")
    assert body["authorizations"][0]["team_id"] is None
    body["event"] = mention_event("add a todo to buy milk", user="W111")
    body["event_id"] = new_event_id()
    assert server.post_signed(body).status_code == 200
    server.settle()
    assert todo_titles(server, Scope(enterprise_id="E111", team_id="T111", user_id="W111")) == [
        "buy milk"
    ]
    assert todo_titles(server, Scope(enterprise_id="E111", team_id="", user_id="W111")) == []
    (run,) = server.runs()
    assert run.scope == Scope(enterprise_id="E111", team_id="T111", user_id="W111")


def test_two_workspaces_of_one_org_do_not_see_each_others_todos(server: LiveServer) -> None:
    ask_in_channel(server, "add a todo to buy milk")
    other = mention_event("list my todos", channel="C222")
    other["team"] = "T222"
    authorizations = load_payload("envelope_message")["authorizations"]
    authorizations[0]["team_id"] = "T222"
    server.event(other, team_id="T222", authorizations=authorizations)
    server.settle()
    assert whispers(server.fake, USER, "C222") == ["You have no open todos."]
    assert todo_titles(server, scope(team=TEAM)) == ["buy milk"]
    assert todo_titles(server, scope(team="T222")) == []


# --------------------------------------------------------------------- DMs and the Assistant


def dm(text: str, **kwargs: Any) -> dict[str, Any]:
    return message_event(text, channel=DM, channel_type="im", **kwargs)


def tasks(message: Message) -> list[dict[str, Any]]:
    return [chunk for chunk in message.chunks if chunk.get("type") == "task_update"]


def test_dm_is_answered_in_the_dm_with_a_stream(server: LiveServer) -> None:
    ts = new_ts()
    server.event(dm("calculate 2+3", ts=ts))
    server.settle()
    (answer,) = server.fake.messages(DM)
    assert answer.streamed and not answer.streaming and answer.thread_ts == ts
    assert answer.text == "2+3 = 5"
    (start,) = server.fake.calls("chat.startStream")
    assert (start.params["recipient_user_id"], start.params["recipient_team_id"]) == (USER, TEAM)
    statuses = [task["status"] for task in tasks(answer)]
    assert statuses == ["pending", "in_progress", "complete"]
    assert tasks(answer)[-1]["output"] == "2+3 = 5"


def test_dm_falls_back_to_classic_messages_when_streaming_fails(server: LiveServer) -> None:
    server.fake.fail("chat.startStream", "invalid_arguments")
    ts = new_ts()
    server.event(dm("calculate 2+3", ts=ts))
    server.settle()
    header, step, answer = server.fake.messages(DM)
    assert all(m.thread_ts == ts and not m.streamed for m in (header, step, answer))
    assert step.text.startswith("✅") and answer.text == "2+3 = 5"


def test_top_level_dms_form_one_rolling_conversation(server: LiveServer) -> None:
    for text in ["calculate 2+3", "add 10 to that"]:
        server.event(dm(text))
        server.settle()
    assert "15" in server.fake.messages(DM)[-1].text
    assert {run.conversation for run in server.runs()} == {f"{DM}:dm"}


def test_assistant_thread_started_greets_and_suggests_prompts(server: LiveServer) -> None:
    event = load_payload("assistant_thread_started")
    server.event(event)
    server.settle()
    thread_ts = event["assistant_thread"]["thread_ts"]
    (greeting,) = server.fake.messages(DM)
    assert greeting.thread_ts == thread_ts and greeting.text.startswith("Hi!")
    (prompts,) = server.fake.calls("assistant.threads.setSuggestedPrompts")
    assert prompts.params["thread_ts"] == thread_ts
    assert [p["title"] for p in prompts.params["prompts"]] == [
        "Calculate", "Add a todo", "My todos"
    ]  # fmt: skip


def test_assistant_user_message_sets_status_and_streams_tasks(server: LiveServer) -> None:
    event = load_payload("assistant_user_message")
    event["text"] = "calculate 2+3"
    server.event(event)
    server.settle()
    (status,) = server.fake.calls("assistant.threads.setStatus")
    assert status.params["status"] == "thinking…"
    assert status.params["thread_ts"] == event["thread_ts"]
    (answer,) = server.fake.messages(DM)
    assert answer.streamed and answer.thread_ts == event["thread_ts"] and "5" in answer.text
    assert [task["status"] for task in tasks(answer)][-1] == "complete"
    (run,) = server.runs()
    assert run.scope == Scope(enterprise_id=ENTERPRISE, team_id=TEAM, user_id="W222")


def test_a_threaded_dm_that_refuses_a_status_still_gets_its_answer(server: LiveServer) -> None:
    # Bolt routes every threaded DM through the Assistant listener; outside the Assistant
    # pane Slack may refuse the status, and the user must still get the answer.
    server.fake.fail("assistant.threads.setStatus", "invalid_thread")
    event = load_payload("assistant_user_message")
    event["text"] = "calculate 6*7"
    server.event(event)
    server.settle()
    (answer,) = server.fake.messages(DM)
    assert "42" in answer.text and "wrong" not in answer.text


def test_the_bots_own_message_in_an_assistant_thread_is_ignored(server: LiveServer) -> None:
    thread_ts = load_payload("assistant_user_message")["thread_ts"]
    event = load_payload("bot_message")
    event.update(channel=DM, channel_type="im", thread_ts=thread_ts, user=BOT_USER_ID,
                 bot_id=BOT_ID, text="calculate 2+3")  # fmt: skip
    event["bot_profile"].update(id=BOT_ID, app_id="A111")
    server.event(event)
    server.settle()
    assert [c.method for c in server.fake.calls() if c.method != "auth.test"] == []
    assert server.runs() == []


# ----------------------------------------------------------------- what Crane never reacts to


def _bot(name: str) -> Callable[[str], dict[str, Any]]:
    def build(root: str) -> dict[str, Any]:
        event = load_payload(name)
        event.update(thread_ts=root, text="calculate 2+3")
        return event

    return build


def _edit(root: str) -> dict[str, Any]:
    event = load_payload("message_changed_thread")
    event["message"].update(thread_ts=root, text="calculate 2+3", user=USER)
    event["previous_message"].update(thread_ts=root, user=USER)
    return event


def _deletion(root: str) -> dict[str, Any]:
    event = load_payload("message_deleted")
    event["previous_message"].update(thread_ts=root, user=USER)
    return event


def _other_event(root: str) -> dict[str, Any]:
    item = {"type": "message", "channel": CHANNEL, "ts": root}
    return {"type": "reaction_added", "user": USER, "reaction": "tada", "item": item,
            "event_ts": new_ts()}  # fmt: skip


@pytest.mark.parametrize(
    "build",
    [_bot("bot_message"), _bot("classic_bot_message"), _edit, _deletion, _other_event],
    ids=["bot_message", "classic_bot_message", "message_changed", "message_deleted", "other"],
)
def test_bots_edits_deletions_and_other_events_are_ignored_in_a_known_thread(
    server: LiveServer, build: Callable[[str], dict[str, Any]]
) -> None:
    root = ask_in_channel(server, "calculate 2+3")
    shown, runs = len(shown_calls(server.fake)), len(server.runs())
    server.event(build(root))
    server.settle()
    assert len(shown_calls(server.fake)) == shown and len(server.runs()) == runs


def test_thread_broadcast_in_a_known_thread_is_a_follow_up(server: LiveServer) -> None:
    event = load_payload("thread_broadcast")
    root = event["thread_ts"]
    server.event(mention_event("calculate 2+3", ts=root, user=event["user"]))
    server.settle()
    event["text"] = "add 10 to that"
    event["blocks"][0]["elements"][0]["elements"][0]["text"] = "add 10 to that"
    server.event(event)
    server.settle()
    assert "15" in in_thread(server.fake, root)[-1].text
    assert server.runs()[0].text == "add 10 to that"


# ---------------------------------------------------------------------------- Slack markup


def test_slack_links_become_readable_todo_titles(server: LiveServer) -> None:
    ask_in_channel(server, "add a todo to read <https://example.com|the doc>")
    assert todo_titles(server, scope()) == ["read the doc (https://example.com)"]


def test_entities_are_unescaped_when_stored_and_escaped_again_when_echoed(
    server: LiveServer,
) -> None:
    root = ask_in_channel(server, "add a todo to buy salt &amp; pepper")
    assert todo_titles(server, scope()) == ["buy salt & pepper"]
    header, step, answer = in_thread(server.fake, root)
    assert "salt &amp; pepper" in header.text and "salt &amp; pepper" in step.text
    assert answer.text == "Added todo #1: buy salt &amp; pepper"
    assert "salt & pepper" not in everything_shown(server.fake)


def test_broadcasts_and_mentions_in_todo_titles_ping_nobody(server: LiveServer) -> None:
    ask_in_channel(server, "add a todo to &lt;!channel&gt; party")
    ask_in_channel(server, "add a todo to call <@U123>")
    server.command("list my todos")
    server.settle()
    assert todo_titles(server, scope()) == ["<!channel> party", "call <@U123>"]
    shown = everything_shown(server.fake)
    assert "&lt;!channel&gt; party" in shown and "&lt;@U123&gt;" in shown
    assert "<!channel>" not in shown and "<@U123>" not in shown


# ------------------------------------------------------------------------------ Slack limits


def test_long_listing_stays_within_slack_limits(server: LiveServer) -> None:
    for i in range(40):
        server.store.add_todo(scope(), f"{i:02d} " + "a rather long todo title " * 19)
    server.command("list my todos")
    server.settle()
    sent = [c for c in server.fake.calls() if c.method in ("chat.postMessage", "chat.update")]
    assert sent and not any(c.failed for c in sent)
    for call in sent:
        blocks = call.params.get("blocks") or []
        assert len(call.params["text"]) <= 4000 and len(blocks) <= 50
        for block in blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
    listing = whispers(server.fake)[-1]
    assert listing.startswith("Your todos:") and listing.endswith("(truncated)")
    answer = server.fake.messages(CHANNEL)[-1]
    assert answer.text.startswith("40 todo(s) #1, #2") and "shown only to you" in answer.text


def test_msg_too_long_once_still_gets_a_reply(server: LiveServer) -> None:
    server.fake.fail("chat.postMessage", "msg_too_long")
    root = ask_in_channel(server, "calculate 2+3")
    assert [c.failed for c in server.fake.calls("chat.postMessage")].count(True) == 1
    assert in_thread(server.fake, root)[-1].text == "2+3 = 5"


# -------------------------------------------------------------------------------- failures


def test_ratelimited_post_is_retried_and_delivered(server: LiveServer) -> None:
    server.fake.fail("chat.postMessage", "ratelimited", retry_after=0)
    server.command("calculate 2+3")
    server.settle()
    first, *_ = server.fake.calls("chat.postMessage")
    assert first.failed and first.status == 429
    header, step, answer = server.fake.messages(CHANNEL)
    assert header.text.startswith("✅") and step.thread_ts == header.ts
    assert answer.text == "2+3 = 5"


def test_persistent_500_gives_the_user_one_short_line_and_no_traceback(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.fake.fail("chat.postMessage", "internal_error", times=50, http_status=500)
    with caplog.at_level(logging.ERROR, logger="crane.slack"):
        assert server.command("calculate 2+3").status_code == 200
        server.settle()
    (sorry,) = server.fake.ephemerals(CHANNEL)
    assert sorry["user"] == USER and sorry["text"].startswith("Sorry — something went wrong (ref")
    assert "Traceback" not in everything_shown(server.fake)
    assert any(r.name == "crane.slack" and r.exc_info for r in caplog.records)


def test_a_full_pool_answers_busy_at_once_and_stores_nothing(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(workers=1, queue_limit=1)
    gate = threading.Event()
    assert server.server.jobs.try_submit(gate.wait, 5)  # a first job holds the only worker
    try:
        ack = server.command("calculate 2+3")
        assert ack.json() == {"response_type": "ephemeral", "text": BUSY}
        root = new_ts()
        server.event(mention_event("calculate 2+3", ts=root))
        server.fake.wait_for("chat.postMessage")
    finally:
        gate.set()
    server.settle()
    assert [(m.thread_ts, m.text) for m in server.fake.messages(CHANNEL)] == [(root, BUSY)]
    assert server.runs() == []


def test_a_full_pool_says_busy_once_per_message_and_never_to_thanks(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(workers=1, queue_limit=1)
    root = ask_in_channel(server, "calculate 2+3")
    server.fake.reset()
    gate = threading.Event()
    assert server.server.jobs.try_submit(gate.wait, 5)  # a first job holds the only worker
    try:
        ts, client_msg_id = new_ts(), "twin-1"
        server.event(mention_event("add 10 to that", ts=ts, thread_ts=root,
                                   client_msg_id=client_msg_id))  # fmt: skip
        server.event(message_event(f"<@{BOT_USER_ID}> add 10 to that", ts=ts, thread_ts=root,
                                   client_msg_id=client_msg_id))  # fmt: skip
        server.event(message_event("thanks!", thread_ts=root))  # listeners ran before each ack
    finally:
        gate.set()
    server.settle()
    assert [(m.thread_ts, m.text) for m in server.fake.messages(CHANNEL)] == [(root, BUSY)]


def test_a_retried_assistant_thread_started_greets_once(server: LiveServer) -> None:
    body = event_body(load_payload("assistant_thread_started"))
    assert server.post_signed(body).status_code == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert server.post_signed(body, headers=retry).status_code == 200
    server.settle()
    assert len(server.fake.messages(DM)) == 1
    assert len(server.fake.calls("assistant.threads.setSuggestedPrompts")) == 1


def test_without_slack_credentials_events_answer_503_and_health_200(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(slack_bot_token=None, slack_signing_secret=None)
    response = server.post_signed(event_body(mention_event("calculate 2+3")))
    assert response.status_code == 503
    assert "SLACK_BOT_TOKEN" in response.text and "SLACK_SIGNING_SECRET" in response.text
    assert server.http.get("/health").status_code == 200
    assert server.fake.calls() == [] and server.runs() == []


def test_socket_mode_without_signing_secret_keeps_http_events_shut(
    start_server: Callable[..., LiveServer],
) -> None:
    # With only an app token, requests signed with an empty secret must not get through.
    server = start_server(slack_signing_secret=None, slack_app_token="xapp-test")
    body = event_body(mention_event("add a todo to buy milk"))
    response = server.post_signed(body, headers=signed_headers(body, ""))
    assert response.status_code == 503
    assert "SLACK_SIGNING_SECRET" in response.text
    assert server.fake.calls() == [] and server.runs() == []


def test_a_bare_mention_gets_the_usage_not_an_error(server: LiveServer) -> None:
    root = new_ts()
    server.event(mention_event("", ts=root))
    server.settle()
    (reply,) = server.fake.messages(CHANNEL)
    assert reply.thread_ts == root
    assert "/crane calculate" in reply.text and "Sorry" not in reply.text
    assert server.runs() == []


def _gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_resumed_after_a_crash_reports_its_answer_in_its_thread(
    start_server: Callable[..., LiveServer], fake: FakeSlack, tmp_path: Path
) -> None:
    # A process died mid-run: its Slack thread would stay at ⏳ unless the next server says.
    from core.orchestrator import Orchestrator
    from core.plan import Plan, PlannedStep
    from core.runtime import Crane
    from core.store import Store
    from tests.bot.conftest import settings_for

    folder = tmp_path / "crashed"
    folder.mkdir()
    settings = settings_for(fake, folder)
    root = new_ts()
    store = Store(settings.db)
    dead = (socket.gethostname(), _gone_pid(), "gone")  # this host, a process that is gone
    orchestrator = Orchestrator(store, owner=dead)
    crane = Crane(store, lambda text, history: Plan(), orchestrator)
    plan = Plan(steps=[PlannedStep(tool="calculator", args={"expression": "6*7"})])
    run = crane.start(scope(), "calculate 6*7", plan, f"{CHANNEL}:{root}")
    store.close()

    server = start_server(settings=settings)
    (reply,) = fake.wait_for("chat.postMessage")
    assert reply.params["channel"] == CHANNEL and reply.params["thread_ts"] == root
    assert "42" in reply.params["text"] and "restart" in reply.params["text"]
    (stored,) = server.runs()
    assert stored.id == run.id and stored.status is RunStatus.completed
