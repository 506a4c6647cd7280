"""An MCP step's overhead over the bare SDK call to the same server, over stdio and over
streamable HTTP, measured interleaved in one run.

The server is the tests' demo server (tests/mcp/demo_server.py, the SDK's own MCPServer); the
tool is `echo`. For each transport:
  - bare: one `mcp.client.Client`, already connected, `await client.call_tool("echo", …)`;
  - Crane: `crane.ask(scope, "call NAME.echo text=…")` on a SQLite file — planned, checked
    against the schema, stored, the tool listed again (fresh annotations) and called on the
    background loop, the result journaled: the whole one-step run.
Reported: ms per call (median over rounds) for each and Crane / bare.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from bench import ROOT, Result, header, median, say
from core.mcp.clients import Servers
from core.mcp.config import ServerConfig
from core.orchestrator import Orchestrator
from core.plan import Scope
from core.planners import pattern
from core.runtime import Crane
from core.store import Store
from core.toolbox import Toolbox
from core.tools import REGISTRY

DEMO = str(ROOT / "tests" / "mcp" / "demo_server.py")
SCOPE = Scope(team_id="T1", user_id="U1")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the demo HTTP server did not start")


def _compare(name: str, target: object, config: ServerConfig, rounds: int) -> Result:
    """Bare SDK calls and Crane runs against the same server, round by round (the SDK's client
    lives in one task, so the Crane runs are timed in a worker thread between its calls)."""
    servers = Servers({"demo": config})
    folder = tempfile.mkdtemp(prefix="crane-bench-mcp-")
    store = Store(str(Path(folder) / "crane.db"))
    crane = Crane(store, pattern.plan, Orchestrator(store, Toolbox(REGISTRY, servers)))

    def crane_run(text: str) -> float:
        started = time.perf_counter()
        run = crane.ask(SCOPE, f"call demo.echo text={text}")
        assert run.status.value == "completed", run.steps
        return (time.perf_counter() - started) * 1000

    async def measure() -> tuple[list[float], list[float]]:
        bare, through_crane = [], []
        async with Client(target) as client:  # type: ignore[arg-type]
            await client.call_tool("echo", {"text": "warm"})
            await asyncio.to_thread(crane_run, "warm")  # starts and lists the server
            for index in range(rounds):
                started = time.perf_counter()
                await client.call_tool("echo", {"text": f"r{index}"})
                bare.append((time.perf_counter() - started) * 1000)
                through_crane.append(await asyncio.to_thread(crane_run, f"r{index}"))
        return bare, through_crane

    try:
        bare, through_crane = asyncio.run(measure())
    finally:
        crane.close()
    b, c = median(bare), median(through_crane)
    say(f"{name}: bare SDK call {b:.2f} ms · Crane one-step run {c:.2f} ms · "
        f"ratio {c / b:.1f}× · overhead {c - b:.2f} ms ({rounds} rounds, medians)")  # fmt: skip
    return [(f"mcp {name} bare call", f"{b:.2f} ms"), (f"mcp {name} Crane step", f"{c:.2f} ms"),
            (f"mcp {name} Crane / bare", f"{c / b:.1f}×")]  # fmt: skip


def run(quick: bool = False) -> Result:
    header("MCP step overhead over the bare SDK call (demo server, tool echo)")
    rounds = 3 if quick else 200
    stdio = StdioServerParameters(command=sys.executable, args=[DEMO])
    figures = _compare("stdio", stdio, ServerConfig(command=sys.executable, args=[DEMO],
                                                    timeout_s=60), rounds)  # fmt: skip
    port = _free_port()
    process = subprocess.Popen([sys.executable, DEMO, "http", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_port(port)
        url = f"http://127.0.0.1:{port}/mcp"
        figures += _compare("http", url, ServerConfig(url=url, timeout_s=60), rounds)
    finally:
        process.kill()
        process.wait()
    return figures
