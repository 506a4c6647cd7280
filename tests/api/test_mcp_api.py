"""MCP tools over REST: /health names each server up or down, GET /api/v1/tools lists what the
caller may use (a server limited to another workspace is invisible), and a destructive call
waits for the requester's approval like delete_todo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.api.conftest import ALICE, BOB, TOKENS, LiveApi
from tests.mcp.servers import received, stdio, wait_for, write_config


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
