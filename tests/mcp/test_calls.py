"""`call NAME.tool …` from a request to the server and back, through the real runtime and a
real MCP server over stdio: what the requester sees, and what the server received."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.orchestrator import Orchestrator
from core.plan import RunStatus, Scope, StepStatus
from core.runtime import Crane
from core.toolbox import Toolbox
from core.tools import REGISTRY
from tests.mcp.servers import received

ME = Scope(team_id="T1", user_id="U1")


def test_a_call_runs_the_tool_and_its_output_is_the_step_s(crane: Crane, calls: Path) -> None:
    before = len(received(calls))
    run = crane.ask(ME, 'call demo.echo text="fish and chips"')
    assert run.status is RunStatus.completed
    assert [(s.tool, s.args, s.output) for s in run.steps] == [
        ("demo.echo", {"text": "fish and chips"}, "fish and chips")
    ]
    assert received(calls)[before:] == ["echo"]


def test_a_call_composes_with_the_rest_and_passes_structured_content(crane: Crane) -> None:
    run = crane.ask(ME, 'call demo.add {"a": 2, "b": 40} and add a todo to buy milk '
                        "then call demo.show value=$1")  # fmt: skip
    assert run.status is RunStatus.completed, run.steps
    assert [s.tool for s in run.steps] == ["demo.add", "add_todo", "demo.show"]
    assert run.steps[0].value == {"sum": 42}
    assert run.steps[2].output == '{"sum": 42}'
    assert [t.title for t in crane.store.list_todos(ME)] == ["buy milk"]


def test_key_value_pairs_take_json_values_and_strings(crane: Crane) -> None:
    run = crane.ask(ME, 'call demo.show value=[1,2] then call demo.show value="$5 inside" '
                        "then call demo.show value=plain")  # fmt: skip
    assert [s.output for s in run.steps] == ["[1, 2]", '"$5 inside"', '"plain"']


def test_arguments_that_do_not_fit_the_schema_are_refused_and_nothing_runs(
    crane: Crane, calls: Path
) -> None:
    before = len(received(calls))
    with pytest.raises(InvalidInput, match=r"demo\.add: invalid arguments — a: .x. is not of type"):
        crane.plan(ME, "call demo.echo text=first and call demo.add a=x b=1")
    with pytest.raises(InvalidInput, match="'b' is a required property"):
        crane.plan(ME, "call demo.add a=1")
    with pytest.raises(InvalidInput, match=r"unknown tools: demo\.nothing"):
        crane.plan(ME, "call demo.nothing")
    assert received(calls)[before:] == []
    assert crane.reads.runs(limit=5) == []


def test_an_error_result_fails_the_step_with_the_tool_s_message(crane: Crane) -> None:
    run = crane.ask(ME, "call demo.broken and add a todo to never happen")
    assert run.status is RunStatus.failed
    assert "the widget store is closed" in (run.steps[0].error or "")
    assert "Traceback" not in (run.steps[0].error or "")
    assert run.steps[1].status is StepStatus.skipped
    assert crane.store.list_todos(ME) == []


def test_a_huge_result_is_stored_and_shown_truncated_with_a_note(crane: Crane) -> None:
    run = crane.ask(ME, "call demo.huge size=200000")
    output = run.steps[0].output or ""
    assert run.status is RunStatus.completed
    assert len(output) < 25_000 and "truncated: 200,000 characters in all" in output
    assert (crane.reads.run(run.id).steps[0].output or "") == output


def test_the_requester_s_team_and_user_go_in_the_call_s_meta(crane: Crane) -> None:
    run = crane.ask(ME, "call demo.whoami")
    assert run.steps[0].value == {"crane/slack_team_id": "T1", "crane/slack_user_id": "U1"}


def test_a_tool_needs_approval_unless_trusted_and_read_only(crane: Crane) -> None:
    visible = crane.tools.visible(ME)
    assert not visible["demo.echo"].destructive  # trusted server, readOnlyHint
    assert visible["demo.delete_thing"].destructive
    assert visible["demo.set_flag"].destructive  # idempotent is not read-only
    assert visible["plain.echo"].destructive  # the same hint from an untrusted server
    listing = visible["plain.echo"].listing()
    assert listing["source"] == "plain" and listing["needs_approval"] is True
    assert listing["input_schema"]["required"] == ["text"]


def test_a_destructive_call_waits_for_approval_then_runs_once(crane: Crane, calls: Path) -> None:
    before = len(received(calls))
    text, plan = crane.plan(ME, "call demo.delete_thing id=7")
    run = crane.execute(crane.start(ME, text, plan, approval=True).id)
    assert run.status is RunStatus.awaiting_approval
    question = json.dumps(crane.reads.events_after(run.id)[-1].data)
    assert "Run demo.delete_thing" in question and received(calls)[before:] == []
    assert crane.decide(run.id, ME, "approve").outcome.value == "approved"
    run = crane.execute(run.id)
    assert run.status is RunStatus.completed and run.steps[0].output == "deleted thing 7"
    assert received(calls)[before:] == ["delete_thing"]


def test_outputs_are_private_unless_the_server_says_public(crane: Crane) -> None:
    run = crane.ask(ME, "call demo.echo text=hi")
    assert run.steps[0].private


def test_the_help_lists_the_mcp_tools_the_requester_may_call(crane: Crane) -> None:
    _, plan = crane.plan(ME, "help")
    assert plan.answer and "• call demo.echo — Say the text back." in plan.answer
    assert "calculate 2+3" in plan.answer  # the built-ins' help stays first


def test_a_tool_gone_when_its_step_runs_fails_it_as_no_longer_available(
    crane: Crane, calls: Path
) -> None:
    """Planned and stored where the server is configured; executed by a process without it
    (another replica's list, a restart with another config)."""
    text, plan = crane.plan(ME, "call demo.echo text=hi")
    run = crane.start(ME, text, plan)
    before = len(received(calls))
    elsewhere = Crane(crane.store, crane.planner, Orchestrator(crane.store, Toolbox(REGISTRY)))
    run = elsewhere.execute(run.id)
    assert run.status is RunStatus.failed and run.steps[0].error == "tool no longer available"
    assert received(calls)[before:] == []
