"""Tool lists kept fresh: a server (tests/mcp/changing_server.py, the SDK's own server API) that
replaces a tool is seen to have done so when it says so — through the 2026-07-28 subscription
and through the 2025-era notification — or, silent, once its listing's time-to-live runs out;
a plan made against the old list fails its step at execution, nothing called."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from core.mcp import GONE, clients
from core.mcp.clients import Servers
from core.mcp.config import ServerConfig
from core.mcp.session import Session
from core.orchestrator import Orchestrator
from core.plan import RunStatus, Scope, StepStatus
from core.planners import pattern
from core.runtime import Crane
from core.store import Store
from core.toolbox import Toolbox
from core.tools import REGISTRY
from tests.mcp.servers import START_S, http_server, wait_for

ME = Scope(team_id="T1", user_id="U1")
CHANGING = str(Path(__file__).with_name("changing_server.py"))
MakeCrane = Callable[..., tuple[Crane, Toolbox]]


@pytest.fixture
def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeCrane]:
    # the idle health check lists tools too: out of the way, so only what is tested refreshes
    monkeypatch.setattr(clients, "HEALTH_EVERY_S", 3600.0)
    made: list[tuple[Store, Servers]] = []
    stack = ExitStack()

    def crane(ttl_ms: int = 0, tools_ttl_s: float = 300.0, http: bool = False
              ) -> tuple[Crane, Toolbox]:  # fmt: skip
        env = {"CHANGING_TTL_MS": str(ttl_ms)}
        if http:
            url = stack.enter_context(http_server(tmp_path / "calls.txt", CHANGING, **env))
            config = ServerConfig(url=url, timeout_s=START_S, trust_annotations=True)
        else:
            config = ServerConfig(command=sys.executable, args=[CHANGING], env=env,
                                  timeout_s=START_S, trust_annotations=True)  # fmt: skip
        servers = Servers({"changing": config}, tools_ttl_s)
        servers.start(wait=True)
        assert servers.status() == {"changing": "up"}
        store = Store(str(tmp_path / f"crane{len(made)}.db"))
        made.append((store, servers))
        toolbox = Toolbox(REGISTRY, servers)
        return Crane(store, pattern.plan, Orchestrator(store, toolbox, retry_base_s=0)), toolbox

    yield crane
    for store, servers in made:
        servers.close()
        store.close()
    stack.close()


def names(toolbox: Toolbox) -> set[str]:
    return {name for name in toolbox.visible(ME) if name.startswith("changing.")}


@pytest.mark.parametrize(
    ("mode", "http"),
    [("auto", False), ("legacy", False), ("auto", True), ("legacy", True)],
    ids=["stdio-subscription", "stdio-2025", "http-subscription", "http-2025"],
)
def test_a_change_the_server_announces_is_listed_again_without_waiting_for_the_ttl(
    make: MakeCrane, monkeypatch: pytest.MonkeyPatch, mode: str, http: bool
) -> None:
    monkeypatch.setattr(Session, "MODE", mode)
    crane, toolbox = make(http=http)
    assert "changing.old_tool" in names(toolbox)
    assert crane.ask(ME, "call changing.swap").status is RunStatus.completed
    assert wait_for(lambda: "changing.new_tool" in names(toolbox))
    assert "changing.old_tool" not in names(toolbox)
    session = toolbox.servers.session("changing")
    assert session is not None and session.changes >= 1  # heard, not polled
    run = crane.ask(ME, "call changing.new_tool text=ab times=2")
    assert run.status is RunStatus.completed and run.steps[0].output == "new abab"


def test_a_silent_change_is_seen_once_the_listing_s_ttl_runs_out(make: MakeCrane) -> None:
    crane, toolbox = make(ttl_ms=1)  # the server says its listing is fresh for 1 ms
    assert crane.ask(ME, "call changing.quiet_swap").status is RunStatus.completed
    run = crane.ask(ME, "call changing.new_tool text=x times=3")
    assert run.status is RunStatus.completed and run.steps[0].output == "new xxx"
    session = toolbox.servers.session("changing")
    assert session is not None and session.changes == 0  # nothing was announced


def test_without_an_announcement_or_expiry_the_list_is_kept(make: MakeCrane) -> None:
    crane, toolbox = make()  # no ttlMs from the server; ours is 300 s
    assert crane.ask(ME, "call changing.quiet_swap").status is RunStatus.completed
    assert "changing.old_tool" in names(toolbox)  # as listed: no request per plan


def test_a_plan_made_against_the_old_list_fails_its_step_at_execution(make: MakeCrane) -> None:
    crane, toolbox = make()
    text, plan = crane.plan(ME, "call changing.old_tool text=a and add a todo to check")
    run = crane.start(ME, text, plan)
    assert crane.ask(ME, "call changing.swap").status is RunStatus.completed
    assert wait_for(lambda: "changing.new_tool" in names(toolbox))
    done = crane.execute(run.id)
    assert done.status is RunStatus.failed
    assert done.steps[0].status is StepStatus.failed and done.steps[0].error == GONE
    assert crane.store.list_todos(ME) == []  # the rest did not run either
