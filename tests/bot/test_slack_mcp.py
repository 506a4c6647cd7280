"""MCP tools from Slack (the real Bolt app, the fake Web API): a destructive call asks its
requester with the same Approve button as delete_todo, and a tool's output in a channel goes
to the requester alone."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.buttons import prompt_blocks
from core.plan import RunStatus
from tests.bot.conftest import ENTERPRISE, TEAM, USER, LiveServer, mention_event, new_ts
from tests.bot.test_slack_buttons import button_of, click, prompt_in, public_text, whispers
from tests.mcp.servers import received, stdio, wait_for, write_config
from tests.mcp.test_crash import RUNNER, crash


def test_a_destructive_call_waits_for_approve_and_outputs_stay_private(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    calls = tmp_path / "calls.txt"
    config = write_config(tmp_path, {"demo": stdio(calls, trust_annotations=True)})
    server = start_server(mcp_config=config)
    assert wait_for(lambda: server.server.crane.tools.status() == {"demo": "up"})

    root = new_ts()
    server.event(mention_event("call demo.delete_thing id=4", ts=root))
    server.settle()
    prompt = prompt_in(server, root)
    assert "Run demo.delete_thing" in prompt.text and received(calls) == []
    click(server, "crane_approve", button_of(prompt, "crane_approve")["value"], message=prompt)
    server.settle()
    (run,) = server.runs()
    assert run.status is RunStatus.completed and received(calls) == ["delete_thing"]

    server.event(mention_event("call demo.add a=1234 b=4321"))
    server.settle()
    assert "5555" not in public_text(server.fake)  # a tool's output is the requester's
    assert any("5555" in text for text in whispers(server.fake))


def test_after_a_crash_the_crane_skip_button_skips_the_step_and_the_run_goes_on(
    start_server: Callable[..., LiveServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls.txt"
    env = {"DEMO_DELETE_SLEEP": "${DEMO_SLEEP}"}
    config = write_config(tmp_path, {"demo": stdio(calls, trust_annotations=True, env=env)})
    db = str(tmp_path / "crashed.db")
    for name, value in {"CRANE_MCP_CONFIG": config, "CRANE_DB": db, "DEMO_SLEEP": "0",
                        "CRASH_SCOPE": f"{ENTERPRISE}:{TEAM}:{USER}"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    crash(calls, [sys.executable, RUNNER, "call demo.delete_thing id=1 then calculate 2+2"],
          "delete_thing")  # fmt: skip
    server = start_server(mcp_config=config, db=db)
    assert wait_for(lambda: [r.status for r in server.runs()] == [RunStatus.awaiting_approval])
    (run,) = server.runs()
    click(server, "crane_skip", f"{run.id}:1")
    server.settle()
    assert wait_for(lambda: server.runs()[0].status is RunStatus.completed)
    assert [s.status.value for s in server.runs()[0].steps] == ["skipped", "completed"]
    assert received(calls) == ["delete_thing"]


def test_the_prompt_offers_skip_only_when_the_outcome_is_unknown() -> None:
    asked = prompt_blocks("W1", "run1", 1, "demo.x may or may not have run — run it again?",
                          skip=True)  # fmt: skip
    plain = prompt_blocks("W1", "run1", 1, "Run demo.x {}?")
    assert [e["action_id"] for e in asked[1]["elements"]] == [
        "crane_approve", "crane_cancel", "crane_skip"
    ]  # fmt: skip
    assert [e["action_id"] for e in plain[1]["elements"]] == ["crane_approve", "crane_cancel"]
