"""MCP tools from Slack (the real Bolt app, the fake Web API): a destructive call asks its
requester with the same Approve button as delete_todo, and a tool's output in a channel goes
to the requester alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.plan import RunStatus
from tests.bot.conftest import LiveServer, mention_event, new_ts
from tests.bot.test_slack_buttons import button_of, click, prompt_in, public_text, whispers
from tests.mcp.servers import received, stdio, wait_for, write_config


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
