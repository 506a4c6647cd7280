"""What MCP servers cost before any call: start-up, and planning with their tools in the prompt.
(The cost of one MCP step over the bare SDK call, stdio and HTTP, is bench_mcp's.)

1. Start-up: `crane serve` with no MCP server and with five configured (the tests' demo server
   over stdio, five processes), interleaved rounds: seconds until /ready answers 200, and with
   five, until /health says all five are up (they start in the background).
2. Planning: the LLM planner against the local stand-in (its own process; it answers a fixed
   plan at once and estimates prompt tokens as characters / 4 — it has no tokenizer), for one
   request with the built-ins only, with the demo server's tools (listed live, the requester's
   catalog made per request), and with 40 tools (the default budget's count; the demo's tools
   under more server names). Interleaved rounds; medians.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import ROOT, Result, clean_env, free_port, header, median, say, wait_for_health
from bench.bench_llm import stand_in
from core.mcp.clients import Servers
from core.mcp.config import ServerConfig
from core.plan import History, Scope
from core.planners.fallback import CircuitBreaker, ServerMemory
from core.planners.llm import LLMPlanner
from core.settings import Settings
from core.tool import Catalog, Tool
from core.toolbox import Toolbox
from core.tools import REGISTRY

DEMO = str(ROOT / "tests" / "mcp" / "demo_server.py")
SCOPE = Scope(team_id="T1", user_id="U1")
REQUEST = "what is 12 * 7, and add a todo to call mom"
SERVE = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(['serve']))"]


def _demo(**extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [DEMO], "timeout_s": 60, **extra}


def _serve_once(folder: Path, servers: int) -> tuple[float, float | None]:
    """Seconds from the process's start until /ready, and until /health says all up."""
    port = free_port()
    env = clean_env(CRANE_DB=str(folder / f"crane{port}.db"), PORT=str(port))
    if servers:
        config = folder / "mcp.json"
        config.write_text(json.dumps({"mcpServers": {f"s{i}": _demo() for i in range(servers)}}))
        env["CRANE_MCP_CONFIG"] = str(config)
    with (folder / "serve.log").open("ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(SERVE, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        wait_for_health(f"http://127.0.0.1:{port}/ready", timeout=60, process=process)
        ready = time.perf_counter() - started
        if not servers:
            return ready, None
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                status = json.load(answer)["mcp"]
            if list(status.values()) == ["up"] * servers:
                return ready, time.perf_counter() - started
            if time.perf_counter() - started > 120:
                raise TimeoutError(f"MCP servers not up within 120 s: {status}")
            time.sleep(0.02)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def startup(quick: bool) -> Result:
    header("`crane serve` start-up with five MCP servers (stdio) against none")
    rounds = 1 if quick else 5
    bare: list[float] = []
    five: list[float] = []
    up: list[float] = []
    with tempfile.TemporaryDirectory(prefix="crane-bench-mcp-") as tmp:
        for _ in range(rounds):
            bare.append(_serve_once(Path(tmp), 0)[0])
            ready, all_up = _serve_once(Path(tmp), 5)
            five.append(ready)
            up.append(all_up or 0.0)
    b, f, u = median(bare), median(five), median(up)
    say(f"  /ready, no MCP server     {b:6.2f} s")
    say(f"  /ready, five MCP servers  {f:6.2f} s  ({f / b:.2f}× — they start in the background)")
    say(f"  all five up (/health)     {u:6.2f} s  ({rounds} rounds, medians)")
    return [("serve /ready: 0 MCP servers", f"{b:.2f} s"),
            ("serve /ready: 5 MCP servers", f"{f:.2f} s ({f / b:.2f}×)"),
            ("serve: 5 MCP servers all up", f"{u:.2f} s")]  # fmt: skip


def planning(quick: bool) -> Result:
    header("LLM planning with MCP tools in the prompt (local stand-in, model latency excluded)")
    rounds, size = (3, 5) if quick else (10, 50)
    process, url = stand_in("--count-tokens")
    servers = Servers({"demo": ServerConfig(**_demo())})
    try:
        servers.start(wait=True)
        toolbox = Toolbox(REGISTRY, servers)
        settings = Settings(openai_base_url=url, openai_api_key=None, llm_timeout=5.0)
        planner = LLMPlanner(settings, breaker=CircuitBreaker(), memory=ServerMemory())
        demo = [tool for tool in toolbox.visible(SCOPE).values() if tool.source == "demo"]
        forty: dict[str, Tool] = dict(REGISTRY)
        for index in range(40):
            tool = demo[index % len(demo)]
            forty[f"x{index}.{tool.name}"] = replace(tool, name=f"x{index}.{tool.name}")
        live = f"+ demo's {len(demo)} tools"
        cases = {
            "built-ins only": lambda: planner(REQUEST, History()),
            live: lambda: planner(REQUEST, History(), toolbox.catalog(SCOPE)),
            "+ 40 tools": lambda: planner(REQUEST, History(), Catalog(forty)),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        tokens: dict[str, int] = {}
        for name, case in cases.items():  # warm: the SDK imported, schemas made once
            plan = case()
            assert plan.planner == "llm", plan.fallback_reason
            tokens[name] = plan.usage.prompt_tokens if plan.usage else 0
        for _ in range(rounds):  # interleaved: the machine is noisy
            for name, case in cases.items():
                for _ in range(size):
                    started = time.perf_counter()
                    case()
                    times[name].append((time.perf_counter() - started) * 1000)
    finally:
        servers.close()
        process.kill()
        process.wait()
    base = median(times["built-ins only"])
    figures: Result = []
    for name, samples in times.items():
        ms = median(samples)
        say(f"  {name:<22} {ms:7.3f} ms/plan ({ms / base:.2f}×)  ~{tokens[name]:>6} prompt tokens"
            f" ({tokens[name] / max(1, tokens['built-ins only']):.1f}×)")  # fmt: skip
        figures.append((f"llm plan {name}", f"{ms:.3f} ms, ~{tokens[name]} prompt tokens"))
    return figures


def run(quick: bool = False) -> Result:
    return planning(quick) + startup(quick)


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
