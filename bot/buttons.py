"""The interactive parts of Crane's messages as Block Kit (pure functions): the approval prompt,
Stop, feedback buttons, and the public and private forms of a step's output.

Button values carry only ids ("<run>:<step>", "up:<run>"): who clicked comes from the verified
payload, and what a click may do is decided by the store (core.approval), never by the value.
"""

from __future__ import annotations

from typing import Any

from bot.markup import escape, truncate

APPROVE = "crane_approve"
CANCEL = "crane_cancel"
SKIP = "crane_skip"  # the third answer when a crash left an MCP call's outcome unknown
STOP = "crane_stop"
FEEDBACK = "crane_feedback"
TODO_DONE = "crane_todo_done"
ONLY_YOU = "shown only to you"
ACTIVE = ("pending", "running", "awaiting_approval")  # a Stop button still makes sense


def plain_text(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    found = {"type": "button", "text": plain_text(text), "action_id": action_id, "value": value}
    if style:
        found["style"] = style
    return found


def stop_block(run_id: str) -> dict[str, Any]:
    return {"type": "actions", "elements": [button("Stop", STOP, run_id)]}


def prompt_blocks(
    user_id: str, run_id: str, index: int, question: str, detail: str = "", skip: bool = False
) -> list[dict[str, Any]]:
    """The question before a destructive step, with Approve (danger, confirmed) and Cancel
    (and, with `skip`, Skip: go on without that step).
    `detail` (stored data) is shown only where nobody else reads: callers leave it out in
    channels and send it to the requester ephemerally instead."""
    text = f"⚠️ <@{user_id}>, {escape(question)}"
    if detail:
        text += f"\n>{escape(detail)}"
    value = f"{run_id}:{index}"
    approve = button("Approve", APPROVE, value, "danger")
    approve["confirm"] = {
        "title": plain_text("Are you sure?"),
        "text": {"type": "plain_text", "text": truncate(question, 300)},
        "confirm": plain_text("Yes, do it"),
        "deny": plain_text("Keep it"),
        "style": "danger",
    }
    who = {"type": "mrkdwn", "text": f"Only <@{user_id}> can answer."}
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}},
        {
            "type": "actions",
            "elements": [
                approve,
                button("Cancel", CANCEL, value),
                *([button("Skip", SKIP, value)] if skip else []),
            ],
        },
        {"type": "context", "elements": [who]},
    ]


def prompt_text(user_id: str, question: str) -> str:
    return truncate(f"⚠️ <@{user_id}>, {escape(question)}", 3000)


DECIDED = {"approved": "✅ Approved by <@{by}>", "cancelled": "🚫 Cancelled by <@{by}>",
           "skipped": "⏭️ Skipped by <@{by}>",
           "expired": "⌛ Expired — nothing was done"}  # fmt: skip


def decided_blocks(question: str, outcome: str, by: str) -> list[dict[str, Any]]:
    """The prompt once answered: what was asked and the answer, no buttons."""
    text = decided_text(question, outcome, by)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def decided_text(question: str, outcome: str, by: str) -> str:
    return truncate(f"{DECIDED[outcome].format(by=by)}: {escape(question)}", 3000)


def feedback_block(run_id: str) -> dict[str, Any]:
    """Slack's own feedback buttons on a final answer."""
    up = {"text": plain_text("👍"), "value": f"up:{run_id}",
          "accessibility_label": "This answer was helpful"}  # fmt: skip
    down = {"text": plain_text("👎"), "value": f"down:{run_id}",
            "accessibility_label": "This answer was not helpful"}  # fmt: skip
    element = {"type": "feedback_buttons", "action_id": FEEDBACK,
               "positive_button": up, "negative_button": down}  # fmt: skip
    return {"type": "context_actions", "elements": [element]}


def public_output(step: dict[str, Any]) -> str:
    """A private step's output as others may read it: numbers, never stored titles."""
    numbers = step.get("todo_numbers")
    if numbers is not None:
        shown = ", ".join(f"#{n}" for n in numbers[:20]) + (" …" if len(numbers) > 20 else "")
        return f"{len(numbers)} todo(s) {shown} — {ONLY_YOU}".replace("  ", " ")
    number = step.get("todo_number") or step.get("value")
    about = f"Todo #{number}" if isinstance(number, int) else f"Step {step['index']}"
    return f"{about} — {ONLY_YOU}"


def is_shared(channel: str) -> bool:
    """Channels and group DMs: others can read. A 1:1 DM (and the Assistant pane) is private."""
    return not channel.startswith("D")
