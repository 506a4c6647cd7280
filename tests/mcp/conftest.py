"""One demo MCP server per test module (starting one takes seconds here), and a runtime per
test on a fresh SQLite file that uses it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.mcp.clients import Servers
from core.mcp.config import ServerConfig
from core.orchestrator import Orchestrator
from core.planners import pattern
from core.runtime import Crane
from core.store import Store
from core.toolbox import Toolbox
from core.tools import REGISTRY
from tests.mcp.servers import http_server, stdio

MakeCrane = Callable[[Toolbox], Crane]


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo") / "calls.txt"


@pytest.fixture(scope="module")
def toolbox(calls: Path) -> Iterator[Toolbox]:
    """demo (trusted) and plain (the same server, its annotations not trusted), over stdio."""
    servers = Servers({
        "demo": ServerConfig(**stdio(calls, trust_annotations=True)),
        "plain": ServerConfig(**stdio(calls)),
    })  # fmt: skip
    servers.start(wait=True)
    assert servers.status() == {"demo": "up", "plain": "up"}
    yield Toolbox(REGISTRY, servers)
    servers.close()


@pytest.fixture(scope="module")
def http_url(calls: Path) -> Iterator[str]:
    with http_server(calls) as url:
        yield url


@pytest.fixture
def make_crane(tmp_path: Path) -> Iterator[MakeCrane]:
    stores: list[Store] = []

    def make(tools: Toolbox) -> Crane:
        store = Store(str(tmp_path / f"crane{len(stores)}.db"))
        stores.append(store)
        return Crane(store, pattern.plan, Orchestrator(store, tools, retry_base_s=0))

    yield make
    for store in stores:
        store.close()  # not crane.close(): the module's servers outlive the test


@pytest.fixture
def crane(make_crane: MakeCrane, toolbox: Toolbox) -> Crane:
    return make_crane(toolbox)
