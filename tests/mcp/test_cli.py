"""From the command line: `crane ask` calls MCP tools (starting only the servers its plan
needs), `crane tools` lists them, and the published mcp-server-time answers end to end."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

import cli
from tests.mcp.servers import received, stdio, write_config

TIME_SERVER = shutil.which("mcp-server-time") or str(Path(sys.executable).with_name(
    "mcp-server-time"))  # fmt: skip


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """demo (trusted), mine (only for U1), time (mcp-server-time), down (never starts)."""
    calls = tmp_path / "calls.txt"
    path = write_config(tmp_path, {
        "demo": stdio(calls, trust_annotations=True),
        "mine": stdio(tmp_path / "mine.txt", allowed_users=["U1"]),
        "time": {"command": TIME_SERVER, "args": ["--local-timezone", "UTC"],
                 "trust_annotations": True, "timeout_s": 60},
        "down": {"command": str(tmp_path / "no-such-server"), "timeout_s": 5},
    })  # fmt: skip
    monkeypatch.setenv("CRANE_MCP_CONFIG", path)
    monkeypatch.setenv("CRANE_DB", str(tmp_path / "crane.db"))
    return calls


def test_crane_ask_calls_a_tool_and_the_published_time_server(
    configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "call time.convert_time source_timezone=UTC time=12:30 target_timezone=Asia/Tokyo"
    assert cli.main(["ask", f"call demo.echo text=hello and {text}", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["status"] == "completed"
    assert record["steps"][0]["output"] == "hello"
    assert "T21:30:00+09:00" in record["steps"][1]["output"]  # Tokyo: UTC+9, no summer time
    assert received(configured) == ["echo"]


def test_crane_ask_runs_destructive_tools_directly_and_starts_only_what_it_needs(
    configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", "call demo.delete_thing id=3"]) == 0
    captured = capsys.readouterr()
    assert "deleted thing 3" in captured.out
    assert received(configured) == ["delete_thing"]
    assert "server down" not in captured.err  # never started: the plan did not need it


def test_a_server_limited_to_some_users_is_invisible_to_the_others(
    configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", "call mine.echo text=hi", "--user", "U2"]) == 2
    assert "unknown tools: mine.echo" in capsys.readouterr().err
    assert cli.main(["ask", "call mine.echo text=hi", "--user", "U1"]) == 0


def test_crane_tools_lists_every_tool_and_exits_1_when_a_server_is_down(
    configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tools", "--json"]) == 1
    captured = capsys.readouterr()
    listing = json.loads(captured.out)
    assert listing["mcp"] == {"demo": "up", "mine": "up", "time": "up", "down": "down"}
    by_name = {tool["name"]: tool for tool in listing["tools"]}
    assert by_name["calculator"]["source"] == "built-in"
    assert by_name["delete_todo"]["needs_approval"] is True
    assert by_name["demo.echo"] == {
        "name": "demo.echo", "description": "Say the text back.", "source": "demo",
        "needs_approval": False, "input_schema": by_name["demo.echo"]["input_schema"],
        "examples": [],
    }  # fmt: skip
    assert by_name["demo.delete_thing"]["needs_approval"] is True
    assert "time.get_current_time" in by_name
    assert "MCP server down is down" in captured.err
