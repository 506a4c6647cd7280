"""A new built-in tool is one module (tests/reverse_tool.py) and one registry line: with nothing
else changed it is planned by its own pattern rule, offered to the LLM planner, run, listed in
every help text (the planner's answer, /crane help, the Home tab, the CLI, the playground and
the REST listing) and shown in Slack — through the real server and the fake Slack Web API."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import cli
from core.planners.llm_schema import parse_plan, strict_schema
from core.planners.pattern import help_text, plan
from core.tools import REGISTRY
from tests import reverse_tool
from tests.bot.conftest import CHANNEL, USER, LiveServer
from tests.fakes.signing import load_payload

NEWCOMER = "U0NEWCOMER"


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    """The tool's one registry line, added at test time and taken away after."""
    REGISTRY[reverse_tool.TOOL.name] = reverse_tool.TOOL
    try:
        yield
    finally:
        del REGISTRY[reverse_tool.TOOL.name]


def steps(text: str) -> list[tuple[str, dict[str, Any]]]:
    return [(step.tool, step.args) for step in plan(text).steps]


def test_the_pattern_planner_plans_it_by_the_rule_in_its_module() -> None:
    assert steps("reverse hello world") == [("reverse", {"text": "hello world"})]
    assert steps("could you spell stressed backwards please?") == [
        ("reverse", {"text": "stressed"})
    ]
    assert steps("hey crane, can you reverse Ana’s pen?") == [("reverse", {"text": "Ana’s pen"})]
    # it composes with the built-ins, and they plan as before
    assert steps("reverse hello world and calculate 2+3") == [
        ("reverse", {"text": "hello world"}),
        ("calculator", {"expression": "2+3"}),
    ]
    assert steps("list my todos") == [("list_todos", {"include_done": False})]
    # words its input model refuses (over 200 characters) are not a call of it
    assert plan("reverse " + "x" * 201).steps == []


def test_the_llm_planner_is_offered_it_from_its_input_model() -> None:
    schema = json.dumps(strict_schema(tuple(REGISTRY.values())))
    assert '"reverse"' in schema and "The words to spell backwards" in schema
    reply = {"steps": [{"tool": "reverse", "args": {"text": "abc"}}], "answer": None}
    planned = parse_plan(json.dumps(reply))
    assert planned.steps[0].tool == "reverse" and planned.steps[0].args == {"text": "abc"}


def test_the_planners_help_and_the_cli_list_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "• reverse hello world\n" in help_text()
    assert "reverse hello world" in plan("what can you do?").answer  # type: ignore[operator]

    monkeypatch.setattr(sys, "stdin", io.StringIO("reverse stressed\n"))
    assert cli.main(["chat", "--db", str(tmp_path / "crane.db")]) == 0
    out = capsys.readouterr().out
    assert "Try: calculate 2+3 · add a todo to buy milk" in out and "· reverse hello world." in out
    assert "stressed backwards is desserts" in out

    assert cli.main(["tools"]) == 0
    out = capsys.readouterr().out
    assert "reverse [built-in]: Spell the given words backwards.\n  e.g. reverse hello world" in out


def test_slack_help_the_home_tab_and_the_playground_list_it(server: LiveServer) -> None:
    ack = server.command("help")
    assert "• `/crane reverse hello world`" in ack.json()["text"]

    server.event(load_payload("app_home_opened") | {"user": NEWCOMER, "tab": "home"})
    server.settle()
    welcome = json.dumps(server.fake.home_view(NEWCOMER), ensure_ascii=False)
    assert "• `reverse hello world`" in welcome

    page = server.http.get("/")
    assert page.status_code == 200 and "<code>reverse hello world</code>" in page.text
    listed = {tool["name"]: tool for tool in server.http.get("/api/v1/tools").json()["items"]}
    assert listed["reverse"]["examples"] == ["reverse hello world"]
    assert listed["reverse"]["needs_approval"] is False


def test_it_runs_from_slack_and_its_output_is_shown_in_the_thread(server: LiveServer) -> None:
    server.command("reverse hello world")
    server.settle()

    header, step, answer = server.fake.messages(CHANNEL)
    assert header.text == f"✅ <@{USER}> asked: reverse hello world"
    assert step.thread_ts == answer.thread_ts == header.ts
    assert step.text.startswith("✅ *1. reverse* `hello world`")
    assert "hello world backwards is dlrow olleh" in step.text
    assert "hello world backwards is dlrow olleh" in answer.text
    (run,) = server.runs()
    assert run.status.value == "completed" and run.steps[0].tool == "reverse"
