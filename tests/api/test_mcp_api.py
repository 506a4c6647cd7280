"""MCP tools over REST: /health names each server up or down, GET /api/v1/tools lists what the
caller may use (a server limited to another workspace is invisible), and a destructive call
waits for the requester's approval like delete_todo."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.api.conftest import ALICE, BOB, TOKENS, LiveApi
from tests.mcp.servers import received, stdio, wait_for, write_config
from tests.mcp.test_crash import RUNNER, crash


def _start(start_api: Callable[..., LiveApi], tmp_path: Path) -> tuple[LiveApi, Path]:
    calls = tmp_path / "calls.txt"
    config = write_config(tmp_path, {
        "demo": stdio(calls, trust_annotations=True),
        "theirs": stdio(tmp_path / "theirs.txt", allowed_workspaces=["T02"]),
        "down": {"command": str(tmp_path / "no-such-server"), "timeout_s": 5},
    })  # fmt: skip
    api = start_api(api_tokens=TOKENS, mcp_config=config)
    http = api.client()
    assert wait_for(lambda: http.get("/health").json()["mcp"]["demo"] == "up")
    assert wait_for(lambda: http.get("/health").json()["mcp"]["theirs"] == "up")
    return api, calls


def test_health_tools_and_an_approved_call_over_rest(
    start_api: Callable[..., LiveApi], tmp_path: Path
) -> None:
    api, calls = _start(start_api, tmp_path)
    health = api.client().get("/health")
    assert health.status_code == 200
    assert health.json() == {"ok": True, "mcp": {"demo": "up", "theirs": "up", "down": "down"}}

    alice = api.client(ALICE)
    tools = {t["name"]: t for t in alice.get("/api/v1/tools").json()["items"]}
    assert "calculator" in tools and tools["demo.echo"]["needs_approval"] is False
    assert not any(name.startswith("theirs.") for name in tools)  # T02's server only
    bobs = {t["name"] for t in api.client(BOB).get("/api/v1/tools").json()["items"]}
    assert "theirs.echo" in bobs
    refused = api.post_run("call theirs.echo text=hi", token=ALICE)
    assert refused.status_code == 422 and "unknown tools" in refused.text

    created = api.post_run("call demo.delete_thing id=5", token=ALICE)
    assert created.status_code == 202, created.text
    run_id = created.json()["id"]
    api.settle()
    assert alice.get(f"/api/v1/runs/{run_id}").json()["status"] == "awaiting_approval"
    assert received(calls) == []
    assert alice.post(f"/api/v1/runs/{run_id}/approve").status_code == 200
    assert wait_for(lambda: alice.get(f"/api/v1/runs/{run_id}").json()["status"] == "completed")
    record = alice.get(f"/api/v1/runs/{run_id}").json()
    assert record["steps"][0]["output"] == "deleted thing 5"
    assert received(calls) == ["delete_thing"]


def test_after_a_crash_the_question_offers_skip_and_skip_goes_on(
    start_api: Callable[..., LiveApi], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = tmp_path / "calls.txt"
    env = {"DEMO_DELETE_SLEEP": "${DEMO_SLEEP}"}
    config = write_config(tmp_path, {"demo": stdio(calls, trust_annotations=True, env=env)})
    db = str(tmp_path / "crashed.db")
    monkeypatch.setenv("CRANE_MCP_CONFIG", config)
    monkeypatch.setenv("CRANE_DB", db)
    monkeypatch.setenv("DEMO_SLEEP", "0")
    crash(calls, [sys.executable, RUNNER, "call demo.delete_thing id=1 then calculate 2+2"],
          "delete_thing")  # fmt: skip
    api = start_api(api_tokens="tok:T1:U1", mcp_config=config, db=db)
    http = api.client("tok")
    (run,) = http.get("/api/v1/runs").json()["items"]
    assert wait_for(lambda: http.get(f"/api/v1/runs/{run['id']}").json()["status"]
                    == "awaiting_approval")  # fmt: skip
    events = api.server.crane.reads.events_after(run["id"])  # what SSE replays
    asked = [e for e in events if e.type == "run.awaiting_approval"]
    assert asked[-1].data["reason"] == "outcome_unknown"
    assert http.post(f"/api/v1/runs/{run['id']}/skip").status_code == 200
    assert wait_for(lambda: http.get(f"/api/v1/runs/{run['id']}").json()["status"]
                    == "completed")  # fmt: skip
    steps = http.get(f"/api/v1/runs/{run['id']}").json()["steps"]
    assert [s["status"] for s in steps] == ["skipped", "completed"]
    assert received(calls) == ["delete_thing"]
