"""Run and step → Slack text and blocks. Pure functions: every user string is escaped and cut
to Slack's limits here, so no caller can post a ping or hit msg_too_long."""

from __future__ import annotations

import json
from typing import Any

from bot.markup import escape, truncate

__all__ = ["escape", "truncate"]

SECTION_LIMIT = 3000
TEXT_LIMIT = 3900  # Slack truncates past 4000 chars of top-level text; stay under it
MAX_BLOCKS = 50
GROUP_STEPS_ABOVE = 5  # past this many steps, one progress message instead of one per step

ICONS = {"pending": "◻️", "running": "⏳", "completed": "✅", "failed": "❌", "skipped": "⏭️"}

USAGE = (
    "*Crane* turns a request into tool steps and runs them here.\n"
    "• `/crane calculate (2 + 3) * 4`\n"
    "• `/crane add a todo to buy milk and list my todos`\n"
    "• `/crane complete todo 2` · `/crane delete todo 1`\n"
    "• Mention me in a channel, then follow up in the thread: _add 10 to that_, "
    "_mark it done_, _complete the first one_."
)


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


def step_line(step: dict[str, Any]) -> str:
    """One line per step: icon, tool, its arguments, and the output or error once finished."""
    status = step["status"]
    line = f"{ICONS.get(status, '•')} *{step['index']}. {step['tool']}* `{args_text(step['args'])}`"
    if status == "running":
        return line + " — running…"
    if status == "completed" and step.get("output"):
        return line + "\n" + escape(step["output"])
    if status == "failed":
        tries = step.get("attempts", 0)
        after = f" after {tries} attempts" if tries > 1 else ""
        return line + f"\nfailed{after}: " + escape(step.get("error") or "unknown error")
    return line + (" — skipped" if status == "skipped" else "")


def header_text(user_id: str, text: str, status: str) -> str:
    return truncate(f"{ICONS.get(status, '•')} <@{user_id}> asked: {escape(text)}", TEXT_LIMIT)


def header_blocks(
    user_id: str, text: str, steps: list[dict[str, Any]], status: str
) -> list[dict[str, Any]]:
    plan = "\n".join(
        f"{ICONS.get(s['status'], '•')} {s['index']}. {s['tool']} `{args_text(s['args'])}`"
        for s in steps
    )
    blocks = [section(f"<@{user_id}> asked: {escape(text)}")]
    if plan:
        blocks.append(section("*Plan*\n" + plan))
    blocks.append(context(f"Status: *{status}*"))
    return blocks


def progress_blocks(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Many steps in one message: one section per step, folded to stay within 50 blocks."""
    lines = [step_line(step) for step in steps]
    if len(lines) > MAX_BLOCKS:
        head = lines[: MAX_BLOCKS - 1]
        rest = f"… and {len(lines) - len(head)} more steps"
        return [section(line) for line in head] + [context(rest)]
    return [section(line) for line in lines]


def answer_blocks(answer: str, status: str, usage_line: str | None = None) -> list[dict[str, Any]]:
    title = "Done" if status == "completed" else "Failed"
    blocks = [section(f"*{title}.* " + escape(answer))]
    if usage_line:
        blocks.append(context(escape(usage_line)))
    return blocks


def plain(text: str) -> str:
    """Notification text (the `text` beside blocks): escaped and short."""
    return truncate(escape(text), TEXT_LIMIT)
