"""The interactive Block Kit (pure functions): prompt, decided prompt, Stop, feedback, the
public form of private outputs, the App Home view."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot import buttons, render
from bot.home import home_view
from core.plan import Run, RunStatus, Scope, Todo

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def step(**fields: Any) -> dict[str, Any]:
    base = {"index": 1, "tool": "list_todos", "args": {}, "status": "completed",
            "output": "Your todos:\n#1 [ ] buy milk\n#3 [ ] call mom", "error": None,
            "attempts": 1, "private": True, "todo_numbers": [1, 3],
            "todo_number": None}  # fmt: skip
    return base | fields


def test_the_prompt_asks_with_a_confirmed_danger_approve_and_a_cancel() -> None:
    blocks = buttons.prompt_blocks("W1", "r1", 2, "Delete todo #2?")
    approve, cancel = blocks[1]["elements"]
    assert approve["action_id"] == "crane_approve" and approve["style"] == "danger"
    assert approve["value"] == cancel["value"] == "r1:2"
    assert approve["confirm"]["text"]["text"] == "Delete todo #2?"
    assert cancel["action_id"] == "crane_cancel" and "style" not in cancel
    assert "<@W1>" in blocks[0]["text"]["text"] and ">" not in blocks[0]["text"]["text"][-3:]


def test_the_detail_is_shown_only_when_given_and_escaped() -> None:
    blocks = buttons.prompt_blocks("W1", "r1", 2, "Delete todo #2?", "#2 [ ] <!channel> party")
    text = blocks[0]["text"]["text"]
    assert "&lt;!channel&gt; party" in text and "<!channel>" not in text


def test_an_answered_prompt_has_no_buttons_and_says_who_answered() -> None:
    blocks = buttons.decided_blocks("Delete todo #2?", "approved", "W1")
    assert [b["type"] for b in blocks] == ["section"]
    assert blocks[0]["text"]["text"] == "✅ Approved by <@W1>: Delete todo #2?"
    assert buttons.decided_text("Delete todo #2?", "expired", "").startswith("⌛ Expired")


def test_an_active_header_carries_stop_and_a_finished_one_does_not() -> None:
    running = render.header_blocks("W1", "delete todo 2", [], "awaiting_approval", "r1")
    assert running[-1]["elements"][0] == buttons.button("Stop", "crane_stop", "r1")
    assert "awaiting approval" in json.dumps(running)
    done = render.header_blocks("W1", "delete todo 2", [], "cancelled", "r1")
    assert all(b["type"] != "actions" for b in done)


def test_a_final_answer_carries_slacks_feedback_buttons() -> None:
    blocks = render.answer_blocks("2+3 = 5", "completed", run_id="r9")
    feedback = blocks[-1]
    assert feedback["type"] == "context_actions"
    (element,) = feedback["elements"]
    assert element["type"] == "feedback_buttons" and element["action_id"] == "crane_feedback"
    assert element["positive_button"]["value"] == "up:r9"
    assert element["negative_button"]["value"] == "down:r9"
    assert render.answer_blocks("x", "cancelled")[0]["text"]["text"].startswith("*Cancelled.*")


def test_a_private_listing_in_a_shared_place_shows_numbers_not_titles() -> None:
    line = render.step_line(step(), shared=True)
    assert "buy milk" not in line and "#1, #3" in line and "shown only to you" in line
    assert "buy milk" in render.step_line(step(), shared=False)
    answer = render.public_answer([step()], "Your todos:\n#1 [ ] buy milk\n#3 [ ] call mom")
    assert answer == "2 todo(s) #1, #3 — shown only to you"


def test_the_public_answer_keeps_public_outputs_and_failures() -> None:
    steps = [step(index=1, tool="calculator", private=False, output="2+3 = 5"),
             step(index=2, tool="complete_todo", output="Completed todo #4: secret",
                  todo_numbers=None, todo_number=4)]  # fmt: skip
    composed = "2+3 = 5\nCompleted todo #4: secret\nStep 3 (delete_todo) failed: todo #9 not found"
    public = render.public_answer(steps, composed)
    assert public == ("2+3 = 5\nTodo #4 — shown only to you\n"
                      "Step 3 (delete_todo) failed: todo #9 not found")  # fmt: skip


def test_a_one_to_one_dm_is_private_and_channels_and_group_dms_are_shared() -> None:
    assert not buttons.is_shared("D123")
    assert buttons.is_shared("C123") and buttons.is_shared("G123")


def test_the_home_view_lists_open_todos_with_done_and_the_latest_runs() -> None:
    todos = [Todo(number=2, title="<b>milk", done=False, created_at=NOW)]
    runs = [Run(id=f"r{i}", scope=Scope(), text=f"ask {i}", status=RunStatus.completed,
                created_at=NOW) for i in range(7)]  # fmt: skip
    view = home_view(todos, runs)
    assert view["type"] == "home"
    (todo,) = [b for b in view["blocks"] if b.get("accessory")]
    assert todo["text"]["text"] == "#2 &lt;b&gt;milk"
    assert todo["accessory"]["action_id"] == "crane_todo_done" and todo["accessory"]["value"] == "2"
    shown = json.dumps(view)
    assert "ask 4" in shown and "ask 5" not in shown  # the five latest
    assert "Welcome" in json.dumps(home_view([], []))
