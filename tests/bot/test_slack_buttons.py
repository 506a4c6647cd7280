"""Buttons, end to end and offline: signed block_actions requests (form-encoded `payload=…`, the
shape of ../shared/slack_payloads/block_actions.json) to the real server; what people see is
read back from the fake Slack Web API."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from core.orchestrator import Orchestrator
from core.plan import RunStatus
from core.planners.pattern import plan as pattern_plan
from core.runtime import Crane
from core.store import Store
from tests.bot.conftest import (
    CHANNEL,
    ENTERPRISE,
    TEAM,
    USER,
    LiveServer,
    mention_event,
    new_ts,
    scope,
    settings_for,
)
from tests.fakes.signing import load_payload, signed_headers
from tests.fakes.slack_api import FakeSlack, Message

OTHER = "W222"
SHOWN_TO_ALL = ("chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream",
                "chat.stopStream")  # fmt: skip


def click_body(
    fake: FakeSlack,
    action_id: str,
    value: str,
    *,
    user: str = USER,
    channel: str | None = CHANNEL,
    message: Message | None = None,
) -> bytes:
    """A button click as Slack sends it: form-encoded `payload=<json>`."""
    body: dict[str, Any] = load_payload("block_actions")
    body["user"].update(id=user, team_id=TEAM)
    body["team"].update(id=TEAM, enterprise_id=ENTERPRISE)
    if channel is None:  # the App Home
        body["container"] = {"type": "view", "view_id": "VHOME"}
        body.pop("channel", None)
    else:
        ts = message.ts if message else "1700000000.999999"
        body["container"].update(message_ts=ts, channel_id=channel, is_ephemeral=False)
        body["channel"]["id"] = channel
        body["message"] = {"type": "message", "ts": ts}
        if message and message.thread_ts:
            body["message"]["thread_ts"] = message.thread_ts
    body["response_url"] = fake.response_url("click")
    body["actions"][0].update(action_id=action_id, value=value, block_id="b1")
    return urlencode({"payload": json.dumps(body)}).encode()


def click(server: LiveServer, action_id: str, value: str, **kwargs: Any) -> httpx.Response:
    body = click_body(server.fake, action_id, value, **kwargs)
    response = server.post_signed(body)
    assert response.status_code == 200, response.text
    return response


def elements(message: Message) -> list[dict[str, Any]]:
    found = []
    for block in message.blocks or []:
        found += (
            block.get("elements", []) if block["type"] in ("actions", "context_actions") else []
        )
    return found


def button_of(message: Message, action_id: str) -> dict[str, Any] | None:
    return next((e for e in elements(message) if e.get("action_id") == action_id), None)


def prompt_in(server: LiveServer, thread: str) -> Message:
    (prompt,) = [m for m in server.fake.messages(CHANNEL)
                 if m.thread_ts == thread and button_of(m, "crane_approve")]  # fmt: skip
    return prompt


def whispers(fake: FakeSlack, user: str = USER) -> list[str]:
    return [e["text"] for e in fake.ephemerals(CHANNEL) if e["user"] == user]


def public_text(fake: FakeSlack) -> str:
    return "\n".join(json.dumps(c.params, ensure_ascii=False) for c in fake.calls()
                     if c.method in SHOWN_TO_ALL)  # fmt: skip


def ask_delete(server: LiveServer, title: str = "buy milk") -> tuple[str, Message]:
    """@Crane delete todo 1 (todo #1 = `title`): the run waits; returns (thread, prompt)."""
    server.store.add_todo(scope(), title)
    root = new_ts()
    server.event(mention_event("delete todo 1", ts=root))
    server.settle()
    return root, prompt_in(server, root)


def header_of(server: LiveServer, thread: str) -> Message:
    return next(m for m in server.fake.messages(CHANNEL)
                if m.thread_ts == thread and "asked:" in m.text)  # fmt: skip


# ---------------------------------------------------------------------------------- approval


def test_a_deletion_waits_for_approval_with_a_prompt_naming_only_the_number(
    server: LiveServer,
) -> None:
    root, prompt = ask_delete(server)

    (run,) = server.runs()
    assert run.status is RunStatus.awaiting_approval
    assert "Delete todo #1?" in prompt.text and f"<@{USER}>" in prompt.text
    approve = button_of(prompt, "crane_approve")
    assert approve and approve["style"] == "danger" and approve["confirm"]["style"] == "danger"
    assert button_of(prompt, "crane_cancel")
    assert "buy milk" not in public_text(server.fake)  # the title goes to the requester alone
    assert any("buy milk" in text for text in whispers(server.fake))
    header = header_of(server, root)
    assert "awaiting approval" in json.dumps(header.blocks) and button_of(header, "crane_stop")
    assert [t.title for t in server.store.list_todos(scope())] == ["buy milk"]


def test_approving_updates_the_prompt_and_runs_the_step_in_the_same_thread(
    server: LiveServer,
) -> None:
    root, prompt = ask_delete(server)
    click(server, "crane_approve", button_of(prompt, "crane_approve")["value"], message=prompt)
    server.settle()

    updated = server.fake.message(CHANNEL, prompt.ts)
    assert updated and updated.text.startswith(f"✅ Approved by <@{USER}>")
    assert button_of(updated, "crane_approve") is None  # no buttons left
    (run,) = server.runs()
    assert run.status is RunStatus.completed and server.store.list_todos(scope()) == []
    answer = [m for m in server.fake.messages(CHANNEL) if m.thread_ts == root][-1]
    assert "*Done.*" in json.dumps(answer.blocks) and button_of(answer, "crane_feedback")
    header = header_of(server, root)
    assert header.text.startswith("✅") and button_of(header, "crane_stop") is None
    assert "buy milk" not in public_text(server.fake)


def test_someone_elses_click_changes_nothing_and_tells_them_why(server: LiveServer) -> None:
    _, prompt = ask_delete(server)
    value = button_of(prompt, "crane_approve")["value"]
    click(server, "crane_approve", value, user=OTHER, message=prompt)
    click(server, "crane_cancel", value, user=OTHER, message=prompt)
    server.settle()

    assert sorted(whispers(server.fake, OTHER)) == [f"Only <@{USER}> can approve this.",
                                                    f"Only <@{USER}> can cancel this."]  # fmt: skip
    (run,) = server.runs()
    assert run.status is RunStatus.awaiting_approval
    assert not server.fake.message(CHANNEL, prompt.ts).edited  # type: ignore[union-attr]


def test_a_double_click_has_one_effect(server: LiveServer) -> None:
    _, prompt = ask_delete(server)
    body = click_body(server.fake, "crane_approve", button_of(prompt, "crane_approve")["value"],
                      message=prompt)  # fmt: skip
    statuses: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            response = http.post("/slack/events", content=body,
                                 headers=signed_headers(body, "test-signing-secret"))  # fmt: skip
            statuses.append(response.status_code)

    twins = [threading.Thread(target=send) for _ in range(2)]
    for twin in twins:
        twin.start()
    for twin in twins:
        twin.join()
    server.settle()

    assert statuses == [200, 200]
    approvals = [c for c in server.fake.calls("chat.update") if "Approved by" in c.params["text"]]
    assert len(approvals) == 1
    assert f"This was already approved by <@{USER}>." in whispers(server.fake)
    (run,) = server.runs()
    assert run.status is RunStatus.completed
    assert [s.status.value for s in run.steps] == ["completed"]


def test_a_stale_click_on_an_answered_prompt_is_refused(server: LiveServer) -> None:
    _, prompt = ask_delete(server)
    value = button_of(prompt, "crane_approve")["value"]
    click(server, "crane_cancel", value, message=prompt)
    server.settle()
    click(server, "crane_approve", value, message=prompt)  # the old prompt, clicked later
    server.settle()

    assert whispers(server.fake)[-1] == f"This was already cancelled by <@{USER}>."
    (run,) = server.runs()
    assert run.status is RunStatus.cancelled
    assert [t.title for t in server.store.list_todos(scope())] == ["buy milk"]


def test_cancelling_skips_the_deletion_and_says_so_everywhere(server: LiveServer) -> None:
    root, prompt = ask_delete(server)
    click(server, "crane_cancel", button_of(prompt, "crane_cancel")["value"], message=prompt)
    server.settle()

    updated = server.fake.message(CHANNEL, prompt.ts)
    assert updated and updated.text.startswith(f"🚫 Cancelled by <@{USER}>")
    (run,) = server.runs()
    assert run.status is RunStatus.cancelled and run.steps[0].status.value == "skipped"
    answer = [m for m in server.fake.messages(CHANNEL) if m.thread_ts == root][-1]
    assert "*Cancelled.*" in json.dumps(answer.blocks)
    assert "Status: *cancelled*" in json.dumps(header_of(server, root).blocks)
    assert [t.title for t in server.store.list_todos(scope())] == ["buy milk"]


def test_stop_on_the_header_of_a_waiting_run_cancels_it(server: LiveServer) -> None:
    root, _ = ask_delete(server)
    header = header_of(server, root)
    click(server, "crane_stop", button_of(header, "crane_stop")["value"], message=header)
    server.settle()
    (run,) = server.runs()
    assert run.status is RunStatus.cancelled
    click(server, "crane_stop", run.id, message=header)  # again, once finished
    server.settle()
    assert whispers(server.fake)[-1] == "This request has already finished."


def test_a_typed_reply_never_answers_the_question(server: LiveServer) -> None:
    root, _ = ask_delete(server)
    server.event(mention_event("yes", thread_ts=root))
    server.settle()
    waiting = [run for run in server.runs() if run.status is RunStatus.awaiting_approval]
    assert len(waiting) == 1 and len(server.store.list_todos(scope())) == 1


def test_a_click_after_expiry_does_nothing_and_the_prompt_says_it_expired(
    start_server: Callable[..., LiveServer],
    fake: FakeSlack,
    tmp_path: Path,
    databases: Callable[[Path], str],
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    settings = settings_for(fake, tmp_path, approval_ttl_s=60, db=databases(tmp_path))
    store = Store(settings.db, clock=lambda: now[0])
    crane = Crane(store, pattern_plan, Orchestrator(store, retry_base_s=0, approval_ttl_s=60))
    server = start_server(settings=settings, crane=crane)
    _, prompt = ask_delete(server)
    now[0] += timedelta(seconds=61)
    click(server, "crane_approve", button_of(prompt, "crane_approve")["value"], message=prompt)
    server.settle()

    assert whispers(server.fake)[-1] == "This question expired — nothing was done."
    updated = server.fake.message(CHANNEL, prompt.ts)
    assert updated and updated.text.startswith("⌛ Expired")
    (run,) = server.runs()
    assert run.status is RunStatus.cancelled and len(store.list_todos(scope())) == 1


def test_the_expiry_sweep_cancels_an_unanswered_question_and_updates_its_prompt(
    start_server: Callable[..., LiveServer],
    fake: FakeSlack,
    tmp_path: Path,
    databases: Callable[[Path], str],
) -> None:
    from bot.app import expiry_sweeper

    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    settings = settings_for(fake, tmp_path, approval_ttl_s=60, db=databases(tmp_path))
    store = Store(settings.db, clock=lambda: now[0])
    crane = Crane(store, pattern_plan, Orchestrator(store, retry_base_s=0, approval_ttl_s=60))
    server = start_server(settings=settings, crane=crane)
    root, prompt = ask_delete(server)
    now[0] += timedelta(seconds=61)
    expiry_sweeper(settings, crane)()  # what the server's sweeper thread does now and then

    assert server.fake.message(CHANNEL, prompt.ts).text.startswith("⌛ Expired")  # type: ignore[union-attr]
    assert "Status: *cancelled*" in json.dumps(header_of(server, root).blocks)
    (run,) = server.runs()
    assert run.status is RunStatus.cancelled


def test_a_click_after_a_restart_goes_on_in_the_same_thread(
    start_server: Callable[..., LiveServer],
    fake: FakeSlack,
    tmp_path: Path,
    databases: Callable[[Path], str],
) -> None:
    settings = settings_for(fake, tmp_path, db=databases(tmp_path))
    first = start_server(settings=settings)
    root, prompt = ask_delete(first)
    second = start_server(settings=settings)  # a new process on the same database
    click(second, "crane_approve", button_of(prompt, "crane_approve")["value"], message=prompt)
    second.settle()

    (run,) = second.runs()
    assert run.status is RunStatus.completed and second.store.list_todos(scope()) == []
    header = header_of(second, root)
    assert header.text.startswith("✅")  # the same header, updated in place
    answer = [m for m in fake.messages(CHANNEL) if m.thread_ts == root][-1]
    assert "*Done.*" in json.dumps(answer.blocks)


# ------------------------------------------------------------------------- private answers


def test_a_listing_in_a_channel_shows_titles_only_to_the_requester(server: LiveServer) -> None:
    for title in ("buy milk", "call mom"):
        server.store.add_todo(scope(), title)
    server.event(mention_event("list my todos"))
    server.settle()

    shown = public_text(server.fake)
    assert "buy milk" not in shown and "call mom" not in shown
    assert "shown only to you" in shown and "#1, #2" in shown
    (listing,) = [text for text in whispers(server.fake) if "Your todos" in text]
    assert "buy milk" in listing and "call mom" in listing
    assert all(e["user"] == USER for e in server.fake.ephemerals())


# -------------------------------------------------------------------------------- feedback


def test_feedback_is_one_vote_per_person_and_the_latest_wins(server: LiveServer) -> None:
    root = new_ts()
    server.event(mention_event("calculate 2+3", ts=root))
    server.settle()
    answer = [m for m in server.fake.messages(CHANNEL) if m.thread_ts == root][-1]
    buttons = button_of(answer, "crane_feedback")
    assert buttons and buttons["type"] == "feedback_buttons"
    up, down = buttons["positive_button"]["value"], buttons["negative_button"]["value"]
    for value, user in ((up, USER), (down, USER), (up, OTHER)):  # one after the other
        click(server, "crane_feedback", value, user=user, message=answer)
        server.settle()

    (run,) = server.runs()
    assert run.feedback.model_dump() == {"up": 1, "down": 1}
    assert whispers(server.fake) == ["Thanks for the feedback!"] * 2
    metrics = server.http.get("/metrics").text
    assert 'crane_feedback_votes{value="up"} 1.0' in metrics


# -------------------------------------------------------------------------------- App Home


def home_opened(user: str = USER) -> dict[str, Any]:
    return load_payload("app_home_opened") | {"user": user, "tab": "home"}


def test_the_home_tab_welcomes_a_newcomer(server: LiveServer) -> None:
    server.event(home_opened(OTHER))
    server.settle()
    view = server.fake.home_view(OTHER)
    assert view and "Welcome to Crane" in json.dumps(view)


def test_the_messages_tab_publishes_nothing(server: LiveServer) -> None:
    server.event(load_payload("app_home_opened"))
    server.settle()
    assert server.fake.calls("views.publish") == []


def test_done_on_the_home_tab_completes_the_todo_through_a_run(server: LiveServer) -> None:
    for title in ("buy milk", "call mom"):
        server.store.add_todo(scope(), title)
    server.event(home_opened())
    server.settle()
    view = server.fake.home_view(USER)
    assert "buy milk" in json.dumps(view) and "call mom" in json.dumps(view)
    done = [b["accessory"] for b in view["blocks"] if b.get("accessory")]
    assert [d["action_id"] for d in done] == ["crane_todo_done"] * 2

    click(server, "crane_todo_done", done[0]["value"], channel=None)
    server.settle()
    server.fake.wait_for("views.publish", count=2)  # republished in the background
    (run,) = server.runs()
    assert run.status is RunStatus.completed and run.steps[0].tool == "complete_todo"
    assert [t.title for t in server.store.list_todos(scope())] == ["call mom"]
    republished = json.dumps(server.fake.home_view(USER))
    assert "buy milk" not in republished and "complete todo 1" in republished


# ------------------------------------------------------------------- DMs and response_url


def test_in_a_dm_the_stream_stops_at_the_question_and_approval_goes_on_in_messages(
    server: LiveServer,
) -> None:
    from tests.bot.conftest import message_event

    server.store.add_todo(scope(), "buy milk")
    root = new_ts()
    server.event(message_event("delete todo 1", ts=root, channel="D111", channel_type="im"))
    server.settle()
    streamed, prompt = server.fake.messages("D111")
    assert streamed.streamed and not streamed.streaming
    assert "Waiting for your approval." in streamed.text
    assert "buy milk" in prompt.text or "buy milk" in json.dumps(prompt.blocks)  # a 1:1 DM
    assert prompt.thread_ts == root and server.fake.ephemerals() == []

    approve = button_of(prompt, "crane_approve")
    assert approve
    click(server, "crane_approve", approve["value"], channel="D111", message=prompt)
    server.settle()
    (run,) = server.runs()
    assert run.status is RunStatus.completed and server.store.list_todos(scope()) == []
    answer = server.fake.messages("D111")[-1]
    assert answer.thread_ts == root and "Deleted todo #1: buy milk" in answer.text


def test_where_crane_cannot_post_the_question_comes_by_response_url(
    server: LiveServer,
) -> None:
    server.store.add_todo(scope(), "buy milk")
    server.fake.fail("chat.postMessage", "not_in_channel")
    server.command("delete todo 1")
    server.settle()
    note, asked = (call.params for call in server.fake.calls("response_url"))
    assert "/invite" in note["text"]
    assert asked["response_type"] == "ephemeral" and "Delete todo #1?" in asked["text"]
    approve = next(e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == "crane_approve")  # fmt: skip
    click(server, "crane_approve", approve["value"])
    server.settle()

    (run,) = server.runs()
    assert run.status is RunStatus.completed and server.store.list_todos(scope()) == []
    replaced, result = (call.params for call in server.fake.calls("response_url")[2:])
    assert replaced["replace_original"] is True and "Approved" in replaced["text"]
    assert "Deleted todo #1" in result["text"]


def test_stop_ends_a_running_run_after_the_step_in_flight(
    start_server: Callable[..., LiveServer],
    fake: FakeSlack,
    tmp_path: Path,
    databases: Callable[[Path], str],
) -> None:
    from pydantic import BaseModel

    from core.plan import History, Plan, PlannedStep, ToolResult
    from core.tool import Tool, ToolContext
    from core.tools import REGISTRY

    class Nothing(BaseModel):
        pass

    entered, opened = threading.Event(), threading.Event()

    def wait(args: Nothing, ctx: ToolContext) -> ToolResult:
        entered.set()
        opened.wait(10)
        return ToolResult(text="waited")

    def planner(text: str, history: History) -> Plan:
        return Plan(steps=[PlannedStep(tool="wait"),
                           PlannedStep(tool="add_todo", args={"title": "never"})])  # fmt: skip

    settings = settings_for(fake, tmp_path, db=databases(tmp_path))
    store = Store(settings.db)
    tools = {**REGISTRY, "wait": Tool("wait", Nothing, wait, "waits for the test")}
    crane = Crane(store, planner, Orchestrator(store, tools=tools, retry_base_s=0))
    server = start_server(settings=settings, crane=crane)
    root = new_ts()
    server.event(mention_event("wait, then add a todo", ts=root))
    assert entered.wait(10), "the first step never started"
    header = fake.wait_for("chat.postMessage")[0]  # the header, with Stop
    stop = next(e for b in header.params["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "crane_stop")  # fmt: skip
    click(server, "crane_stop", stop["value"], user=OTHER)  # not theirs
    click(server, "crane_stop", stop["value"])
    fake.wait_for("chat.postEphemeral", count=2)
    opened.set()
    server.settle()

    assert f"Only <@{USER}> can stop this." in whispers(fake, OTHER)
    assert "Stopping after the step that is running now." in whispers(fake)
    (run,) = server.runs()
    assert run.status is RunStatus.cancelled
    assert [s.status.value for s in run.steps] == ["completed", "skipped"]
    assert store.list_todos(scope()) == []
    assert "Status: *cancelled*" in json.dumps(header_of(server, root).blocks)


def test_the_click_is_read_from_the_verified_payload() -> None:
    from bot.listeners.actions import click_from

    body = load_payload("block_actions")
    found = click_from(body)
    assert found is not None
    assert found.scope == scope() and found.action_id == "a" and found.value == "click_me_123"
    assert found.channel == CHANNEL and found.message_ts == "111.222"
    assert click_from({"type": "block_actions", "actions": []}) is None


def test_forged_or_unknown_button_values_change_nothing(server: LiveServer) -> None:
    _, prompt = ask_delete(server)
    (run,) = server.runs()
    for action_id, value in [("crane_approve", "nope:1"), ("crane_approve", ""),
                             ("crane_cancel", f"{run.id}:99"), ("crane_feedback", "sideways:x"),
                             ("crane_todo_done", "-1"), ("crane_stop", "<!channel>")]:  # fmt: skip
        click(server, action_id, value, message=prompt)
    server.settle()
    (after,) = server.runs()
    assert after.status is RunStatus.awaiting_approval and after.feedback.up == 0
    assert len(server.store.list_todos(scope())) == 1
    assert all("Traceback" not in text and "<!channel>" not in text
               for text in whispers(server.fake))  # fmt: skip
