"""Run and step → Slack text and blocks: escaped user text, within Slack's limits."""

from __future__ import annotations

from typing import Any

from bot import render
from core.tool import examples
from core.tools import REGISTRY


def step(index: int = 1, status: str = "completed", **fields: Any) -> dict[str, Any]:
    base = {"index": index, "tool": "calculator", "args": {"expression": "2+3"},
            "status": status, "output": None, "error": None, "attempts": 1}  # fmt: skip
    return base | fields


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in blocks
    ]


def test_step_line_shows_each_state_with_its_icon() -> None:
    assert render.step_line(step(status="pending")) == "◻️ *1. calculator* `2+3`"
    assert render.step_line(step(status="running")) == "⏳ *1. calculator* `2+3` — running…"
    assert render.step_line(step(output="2+3 = 5")) == "✅ *1. calculator* `2+3`\n2+3 = 5"
    assert render.step_line(step(status="skipped")) == "⏭️ *1. calculator* `2+3` — skipped"


def test_failed_step_says_why_and_after_how_many_attempts() -> None:
    once = render.step_line(step(status="failed", error="division by zero"))
    assert once == "❌ *1. calculator* `2+3`\nfailed: division by zero"
    many = render.step_line(step(status="failed", error="database is locked", attempts=4))
    assert many.endswith("failed after 4 attempts: database is locked")
    assert render.step_line(step(status="failed")).endswith("failed: unknown error")


def test_arguments_are_shown_plainly_and_escaped() -> None:
    one = step(tool="add_todo", args={"title": "<!channel> & co"}, status="running")
    assert "`&lt;!channel&gt; &amp; co`" in render.step_line(one)
    two = step(tool="list_todos", args={"include_done": True, "x": "<@U1>"}, status="pending")
    assert '`include_done=true, x="&lt;@U1&gt;"`' in render.step_line(two)
    # a lone flag is named, never shown as a bare `False`
    three = step(tool="list_todos", args={"include_done": False}, status="running")
    assert "`include_done=false`" in render.step_line(three)


def test_output_is_escaped_so_titles_ping_nobody() -> None:
    line = render.step_line(step(output="Added todo #1: <!here> <@U123>"))
    assert "&lt;!here&gt; &lt;@U123&gt;" in line and "<!here>" not in line


def test_header_names_the_user_escapes_the_request_and_shows_plan_and_status() -> None:
    assert render.header_text("W1", "add <!channel>", "running") == (
        "⏳ <@W1> asked: add &lt;!channel&gt;"
    )
    blocks = render.header_blocks("W1", "calculate 2+3", [step(status="completed")], "completed")
    assert texts(blocks) == [
        "<@W1> asked: calculate 2+3",
        "*Plan*\n✅ 1. calculator `2+3`",
        "Status: *completed*",
    ]
    assert len(render.header_blocks("W1", "hi", [], "pending")) == 2  # no plan section


def test_sections_are_cut_to_3000_characters() -> None:
    block = render.section("x" * 5000)
    assert len(block["text"]["text"]) == render.SECTION_LIMIT
    assert block["text"]["text"].endswith("(truncated)")
    line = render.step_line(step(output="y" * 10_000))
    assert len(render.section(line)["text"]["text"]) <= 3000


def test_progress_blocks_fold_past_fifty_steps() -> None:
    few = render.progress_blocks([step(i) for i in range(1, 8)])
    assert len(few) == 7
    many = render.progress_blocks([step(i) for i in range(1, 121)])
    assert len(many) == render.MAX_BLOCKS
    assert many[-1] == render.context("… and 71 more steps")
    assert texts(many)[48].startswith("✅ *49. calculator*")


def test_answer_blocks_say_done_or_failed_with_an_optional_usage_line() -> None:
    assert texts(render.answer_blocks("2+3 = 5", "completed")) == ["*Done.* 2+3 = 5"]
    failed = render.answer_blocks("Step 1 failed: <x>", "failed", "gpt · 10+2 tokens <y>")
    assert texts(failed) == ["*Failed.* Step 1 failed: &lt;x&gt;", "gpt · 10+2 tokens &lt;y&gt;"]
    assert len(texts(render.answer_blocks("z" * 9000, "completed"))[0]) <= 3000


def test_plain_text_is_escaped_and_short_enough_for_a_notification() -> None:
    assert render.plain("a <!everyone> & b") == "a &lt;!everyone&gt; &amp; b"
    long = render.plain("<" * 5000)
    assert len(long) == render.TEXT_LIMIT <= 4000 and long.endswith("(truncated)")


def test_usage_shows_each_tools_examples_as_slash_commands_and_follow_ups() -> None:
    usage = render.usage(examples(REGISTRY.values()))
    assert "`/crane calculate 2+3` · `/crane what is 15% of 80`" in usage
    assert "• `/crane delete todo 1`" in usage and "add 10 to that" in usage


def test_header_text_of_a_request_full_of_entities_stays_under_the_notification_limit() -> None:
    text = render.header_text("U1", "&" * 4000, "running")  # each "&" is echoed as "&amp;"
    assert len(text) <= render.TEXT_LIMIT and text.endswith("(truncated)")
