"""Run and step → Slack text and blocks. Pure functions: every user string is escaped and cut
to Slack's limits here, so no caller can post a ping or hit msg_too_long."""

from __future__ import annotations

import json
from typing import Any

from bot import buttons
from bot.markup import escape, truncate

__all__ = ["escape", "truncate"]

SECTION_LIMIT = 3000
TEXT_LIMIT = 3900  # Slack truncates past 4000 chars of top-level text; stay under it
MAX_BLOCKS = 50
GROUP_STEPS_ABOVE = 5  # past this many steps, one progress message instead of one per step

ICONS = {"pending": "◻️", "running": "⏳", "completed": "✅", "failed": "❌", "skipped": "⏭️",
         "awaiting_approval": "✋", "cancelled": "🚫"}  # fmt: skip
TITLES = {"completed": "Done", "failed": "Failed", "cancelled": "Cancelled"}

FOLLOW_UPS = (
    "• Mention me in a channel, then follow up in the thread: _add 10 to that_, "
    "_mark it done_, _complete the first one_."
)


def usage(examples: list[tuple[str, ...]]) -> str:
    """What `/crane help` and a bare mention answer: the tools' own examples (Crane.examples),
    one line per tool."""
    lines = [" · ".join(f"`/crane {escape(example)}`" for example in tool) for tool in examples]
    return "\n".join(["*Crane* turns a request into tool steps and runs them here.",
                      *(f"• {line}" for line in lines), FOLLOW_UPS])  # fmt: skip


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 2000)}]}


def args_text(args: dict[str, Any]) -> str:
    """A lone text or number argument as itself ("2+3"); anything else as name=value."""
    if len(args) == 1:
        value = next(iter(args.values()))
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return escape(str(value))
    return escape(", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}"
                            for name, value in args.items()))  # fmt: skip


def step_line(step: dict[str, Any], shared: bool = False) -> str:
    """One line per step: icon, tool, its arguments, and the output or error once finished.
    `shared` (others can read): a private step's output is left out (sent ephemerally)."""
    status = step["status"]
    line = f"{ICONS.get(status, '•')} *{step['index']}. {step['tool']}* `{args_text(step['args'])}`"
    if status == "running":
        return line + " — running…"
    if status == "completed" and step.get("output"):
        if shared and step.get("private"):
            return line + "\n" + buttons.public_output(step)
        return line + "\n" + escape(step["output"])
    if status == "failed":
        tries = step.get("attempts", 0)
        after = f" after {tries} attempts" if tries > 1 else ""
        return line + f"\nfailed{after}: " + escape(step.get("error") or "unknown error")
    return line + (" — skipped" if status == "skipped" else "")


def header_text(user_id: str, text: str, status: str) -> str:
    return truncate(f"{ICONS.get(status, '•')} <@{user_id}> asked: {escape(text)}", TEXT_LIMIT)


def header_blocks(
    user_id: str, text: str, steps: list[dict[str, Any]], status: str, run_id: str | None = None
) -> list[dict[str, Any]]:
    """The request, its plan and its status; with `run_id`, a Stop button while it is active."""
    plan = "\n".join(
        f"{ICONS.get(s['status'], '•')} {s['index']}. {s['tool']} `{args_text(s['args'])}`"
        for s in steps
    )
    blocks = [section(f"<@{user_id}> asked: {escape(text)}")]
    if plan:
        blocks.append(section("*Plan*\n" + plan))
    blocks.append(context(f"Status: *{status.replace('_', ' ')}*"))
    if run_id and status in buttons.ACTIVE:
        blocks.append(buttons.stop_block(run_id))
    return blocks


def progress_blocks(steps: list[dict[str, Any]], shared: bool = False) -> list[dict[str, Any]]:
    """Many steps in one message: one section per step, folded to stay within 50 blocks."""
    lines = [step_line(step, shared) for step in steps]
    if len(lines) > MAX_BLOCKS:
        head = lines[: MAX_BLOCKS - 1]
        rest = f"… and {len(lines) - len(head)} more steps"
        return [section(line) for line in head] + [context(rest)]
    return [section(line) for line in lines]


def answer_blocks(
    answer: str, status: str, usage_line: str | None = None, run_id: str | None = None
) -> list[dict[str, Any]]:
    """The final answer; with `run_id`, Slack's feedback buttons under it."""
    blocks = [section(f"*{TITLES.get(status, 'Failed')}.* " + escape(answer))]
    if usage_line:
        blocks.append(context(escape(usage_line)))
    if run_id:
        blocks.append(buttons.feedback_block(run_id))
    return blocks


def public_answer(steps: list[dict[str, Any]], answer: str) -> str:
    """The answer as others may read it: a private step's output becomes "#N — shown only to
    you" (its text went to the requester alone); everything else as composed."""
    done = [step for step in steps if step["status"] == "completed" and step.get("output")]
    if not any(step.get("private") for step in done):
        return answer
    # the answer is the completed outputs, then failures or a cancellation (core.execution)
    outputs = "\n".join(step["output"] for step in done)
    rest = answer[len(outputs) :] if answer.startswith(outputs) else ""
    lines = [buttons.public_output(step) if step.get("private") else step["output"]
             for step in done]  # fmt: skip
    return "\n".join(lines) + rest


def plain(text: str) -> str:
    """Notification text (the `text` beside blocks): escaped and short."""
    return truncate(escape(text), TEXT_LIMIT)
