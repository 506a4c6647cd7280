"""Up and down: a server that hangs, one whose command does not exist, one whose `${VAR}` is
unset — each logged in one line and down, while the others load; one that dies mid-run fails
that step and is started again; HTTP servers with headers; per-call timeouts; secrets never
logged or stored."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core.mcp.clients import Servers
from core.mcp.config import ServerConfig
from core.plan import RunStatus, Scope
from core.toolbox import Toolbox
from core.tools import REGISTRY
from tests.mcp.conftest import MakeCrane
from tests.mcp.servers import received, stdio, wait_for

ME = Scope(team_id="T1", user_id="U1")
SECRET = "s3cret-value-never-shown"


def test_broken_servers_are_down_in_one_line_each_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("DEMO_TOKEN", SECRET)
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    servers = Servers({
        "good": ServerConfig(**stdio(calls, env={"TOKEN": "${DEMO_TOKEN}"})),
        "hangs": ServerConfig(**{**stdio(calls, env={"DEMO_HANG": "1"}), "timeout_s": 3}),
        "missing": ServerConfig(command=str(tmp_path / "no-such-server")),
        "unset": ServerConfig(**stdio(calls, env={"TOKEN": "${UNSET_TOKEN}"})),
    })  # fmt: skip
    caplog.set_level(logging.INFO, logger="crane.mcp")
    try:
        servers.start(wait=True)
        assert servers.status() == {
            "good": "up", "hangs": "down", "missing": "down", "unset": "down"
        }  # fmt: skip
        lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        for name in ("hangs", "missing", "unset"):
            assert len([line for line in lines if f"mcp server {name} is down" in line]) >= 1
        assert any("${UNSET_TOKEN} is not set" in line for line in lines)
        assert any("no tools/list answer within 3s" in line for line in lines)
        assert all("\n" not in line for line in lines)
        assert SECRET not in caplog.text
    finally:
        servers.close()


def test_a_server_that_dies_mid_run_fails_that_step_and_is_started_again(
    tmp_path: Path, make_crane: MakeCrane
) -> None:
    calls = tmp_path / "calls.txt"
    servers = Servers({"demo": ServerConfig(**stdio(calls, trust_annotations=True))})
    crane = make_crane(Toolbox(REGISTRY, servers))
    try:
        run = crane.ask(ME, "call demo.die then call demo.echo text=after")
        assert run.status is RunStatus.failed
        assert run.steps[0].error == "demo.die failed: the server demo is not reachable"
        assert received(calls) == ["die"]
        assert wait_for(lambda: servers.status() == {"demo": "up"})
        assert crane.ask(ME, "call demo.echo text=again").steps[0].output == "again"
    finally:
        servers.close()


def test_over_streamable_http_with_a_header_from_the_environment(
    http_url: str, calls: Path, make_crane: MakeCrane, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("DEMO_TOKEN", SECRET)
    config = ServerConfig(url=http_url, headers={"Authorization": "Bearer ${DEMO_TOKEN}"},
                          trust_annotations=True, timeout_s=3)  # fmt: skip
    servers = Servers({"web": config})
    crane = make_crane(Toolbox(REGISTRY, servers))
    caplog.set_level(logging.DEBUG)
    try:
        before = len(received(calls))
        run = crane.ask(ME, "call web.add a=1 b=2 and call web.slow seconds=30")
        assert run.steps[0].value == {"sum": 3}
        assert run.status is RunStatus.failed
        assert run.steps[1].error == "web.slow timed out after 3s"
        assert received(calls)[before:] == ["add", "slow"]
        assert SECRET not in caplog.text and SECRET not in run.model_dump_json()
    finally:
        servers.close()
