"""The REST API over real uvicorn on loopback, the server in a subprocess:

  - runs per second through `POST /api/v1/runs` to completion, for calculator plans: each of
    CLIENTS concurrent clients posts a run, then follows `GET /api/v1/runs/{id}/events` until
    `run.finished` (the server closes the stream), and again. Against `crane serve` itself.
    Latency = POST sent → run.finished received (p50, p99). The server's and the client's CPU
    (from /proc/<pid>/stat and os.times) say which of the two the figure is bound by: client
    and server share the machine's cores.
  - SSE fan-out: 100 subscribers on one run. The run waits at a gate (a step that blocks
    until the bench writes to a FIFO), all 100 streams see it start, the gate opens; figure =
    gate opened → the last of the 100 saw run.finished. Then the replay: 100 new subscribers
    on the finished run, all connecting at once → the last saw run.finished.

The client is raw asyncio HTTP/1.1 on keep-alive connections, so it costs far less than the
server it measures. `python -m bench.bench_api` runs this alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import (
    ROOT,
    Result,
    clean_env,
    free_port,
    header,
    percentile,
    say,
    verdict,
    wait_for_health,
)

TARGET_RUNS_PER_S = 500.0
CLIENTS = 32
SUBSCRIBERS = 100
GATE_TEXT = "wait for the gate"


# --- a small HTTP/1.1 client -----------------------------------------------------------------


class Connection:
    """One keep-alive connection: a request, then its whole response (length or chunked)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def close(self) -> None:
        self.writer.close()

    def send(self, method: str, path: str, body: bytes = b"") -> None:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)

    async def head(self) -> tuple[int, dict[str, str]]:
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return int(lines[0].split()[1]), headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """The chunks of a chunked body, as they arrive."""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await self.reader.readexactly(size + 2)
            if size == 0:
                return
            yield data[:-2]

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        self.send(method, path, body)
        status, headers = await self.head()
        if headers.get("transfer-encoding") == "chunked":
            return status, b"".join([chunk async for chunk in self.chunks()])
        return status, await self.reader.readexactly(int(headers.get("content-length", "0")))

    async def follow(self, run_id: str, seen: asyncio.Event | None = None) -> float:
        """Read a run's event stream to its end; perf_counter() when run.finished arrived.
        `seen` is set once the stream delivered step.started (the run is in flight)."""
        self.send("GET", f"/api/v1/runs/{run_id}/events")
        status, _ = await self.head()
        if status != 200:
            raise RuntimeError(f"events of {run_id}: HTTP {status}")
        finished, buffer = 0.0, b""
        async for chunk in self.chunks():
            buffer += chunk
            if seen is not None and b"event: step.started" in buffer:
                seen.set()
            if not finished and b"event: run.finished" in buffer:
                finished = time.perf_counter()
        if not finished:
            raise RuntimeError(f"the stream of {run_id} closed without run.finished")
        return finished


async def post_run(conn: Connection, text: str) -> str:
    status, body = await conn.request("POST", "/api/v1/runs", json.dumps({"text": text}).encode())
    if status != 202:
        raise RuntimeError(f"POST /api/v1/runs: HTTP {status} {body[:200]!r}")
    run_id: str = json.loads(body)["id"]
    return run_id


# --- servers ---------------------------------------------------------------------------------


@contextmanager
def server(folder: Path, gated: bool = False) -> Iterator[tuple[int, Path, int]]:
    """`crane serve` (or the gated variant of it) on a free port; yields (port, gate FIFO,
    server pid)."""
    port, gate = free_port(), folder / "gate.fifo"
    env = clean_env(CRANE_DB=str(folder / "crane.db"), PORT=str(port), CRANE_HOST="127.0.0.1")
    if gated:
        os.mkfifo(gate)
        command = [sys.executable, "-m", "bench.bench_api", "--gated-server", str(gate)]
    else:
        command = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(['serve']))"]
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        wait_for_health(f"http://127.0.0.1:{port}/health", process=process)
        yield port, gate, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gated_server(gate: str) -> None:
    """`crane serve` plus a `gate` tool: "wait for the gate" plans one step that, once started,
    waits until the bench writes to the FIFO (outside any transaction, like the tests' gate)."""
    import uvicorn
    from pydantic import BaseModel

    from api import logs
    from core.orchestrator import Orchestrator
    from core.plan import History, Plan, PlannedStep, RunEvent, ToolResult
    from core.planners import pattern
    from core.runtime import Crane
    from core.settings import Settings
    from core.store import Store
    from core.tool import Tool, ToolContext
    from core.tools import REGISTRY
    from server import create

    class GateInput(BaseModel):
        pass

    def passed(args: GateInput, ctx: ToolContext) -> ToolResult:
        return ToolResult(text="gate passed", value=1)

    def planner(text: str, history: History) -> Plan:
        if text == GATE_TEXT:
            return Plan(steps=[PlannedStep(tool="gate")])
        return pattern.plan(text, history)

    def wait_at_gate(event: RunEvent) -> None:
        if event.type == "step.started" and event.data["step"]["tool"] == "gate":
            with open(gate, "rb") as fifo:  # blocks until the bench opens it for writing
                fifo.read()

    logs.configure()
    settings = Settings()
    store = Store(settings.db)
    tools = {**REGISTRY, "gate": Tool("gate", GateInput, passed, "Waits for the bench.")}
    crane = Crane(store, planner, Orchestrator(store, tools=tools))
    built = create(settings, crane)
    crane.orchestrator.subscribe(wait_at_gate)  # after the server's own listeners (SSE)
    config = uvicorn.Config(built.app, host=settings.host, port=settings.port, log_level="warning")
    uvicorn.Server(config).run()


# --- the measurements ------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def throughput(port: int, total: int, warmup: int) -> tuple[float, list[float]]:
    """Runs per second by CLIENTS clients: completions after the first `warmup` ones, over the
    time from that warm-up completion to the last; latencies of the runs posted after it."""
    finished_at: list[float] = []
    latencies: list[float] = []
    counter = iter(range(total + warmup))

    async def client() -> None:
        posts, events = await Connection.open(port), await Connection.open(port)
        try:
            for _ in counter:
                sent = time.perf_counter()
                run_id = await post_run(posts, f"calculate {len(finished_at)}+1")
                finished = await events.follow(run_id)
                if len(finished_at) >= warmup and sent >= finished_at[warmup - 1]:
                    latencies.append(finished - sent)
                finished_at.append(finished)
        finally:
            posts.close()
            events.close()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    finished_at.sort()
    measured = finished_at[warmup - 1 :]
    return (len(measured) - 1) / (measured[-1] - measured[0]), latencies


async def fan_out(port: int, gate: Path) -> tuple[float, float]:
    """(live, replay): seconds until all SUBSCRIBERS saw run.finished."""
    conns = [await Connection.open(port) for _ in range(SUBSCRIBERS + 1)]
    try:
        run_id = await post_run(conns[-1], GATE_TEXT)
        ready = [asyncio.Event() for _ in range(SUBSCRIBERS)]
        followers = [
            asyncio.create_task(conn.follow(run_id, seen))
            for conn, seen in zip(conns, ready, strict=False)
        ]
        await asyncio.wait_for(asyncio.gather(*(seen.wait() for seen in ready)), 30)
        opened = time.perf_counter()
        await asyncio.to_thread(gate.write_bytes, b"go")
        live = max(await asyncio.gather(*followers)) - opened

        started = time.perf_counter()
        replayed = await asyncio.gather(*(conn.follow(run_id) for conn in conns[:SUBSCRIBERS]))
        return live, max(replayed) - started
    finally:
        for conn in conns:
            conn.close()


def run(quick: bool = False) -> Result:
    header("REST API: runs/s through POST /api/v1/runs → SSE run.finished; SSE fan-out")
    total, warmup = (200, 50) if quick else (4000, 300)
    with tempfile.TemporaryDirectory(prefix="crane-bench-api-") as tmp:
        folder = Path(tmp)
        (folder / "plain").mkdir()
        (folder / "gated").mkdir()
        with server(folder / "plain") as (port, _, pid):
            server_before, client_before = cpu_seconds(pid), own_cpu_seconds()
            started = time.perf_counter()
            rate, latencies = asyncio.run(throughput(port, total, warmup))
            wall = time.perf_counter() - started
            server_after, client_cpu = cpu_seconds(pid), own_cpu_seconds() - client_before
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        say(f"{total} calculator runs by {CLIENTS} concurrent clients (after {warmup} warm-up "
            f"runs), one `crane serve` process (4 workers), SQLite in a temp dir; each run is "
            f"POST /api/v1/runs → its SSE stream read to run.finished over HTTP/1.1 on "
            f"loopback (raw asyncio client, keep-alive)")  # fmt: skip
        say(f"runs/s to completion: {rate:.0f} (target ≥ {TARGET_RUNS_PER_S:.0f}: "
            f"{verdict(rate >= TARGET_RUNS_PER_S)})")  # fmt: skip
        say(f"latency POST → run.finished: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        shares = [f"client {client_cpu / wall:.0%} of a core"]
        if server_before is not None and server_after is not None:
            server_cpu = server_after - server_before
            per_run = server_cpu / (total + warmup) * 1000
            shares.insert(0, f"server {server_cpu / wall:.0%} of a core ({per_run:.2f} ms per run)")
        say(f"CPU during the runs ({os.cpu_count()} cores shared): {', '.join(shares)}")
        with server(folder / "gated", gated=True) as (port, gate, _):
            live, replay = asyncio.run(fan_out(port, gate))
        say(f"SSE, {SUBSCRIBERS} subscribers on one run: gate opened → all saw run.finished "
            f"in {live * 1000:.1f} ms; replay of the finished run to {SUBSCRIBERS} new "
            f"subscribers at once: {replay * 1000:.1f} ms")  # fmt: skip
    return [
        ("api runs/s (calculator, POST → SSE run.finished)", f"{rate:.0f}"),
        ("api run latency p50", f"{p50:.1f} ms"),
        ("api run latency p99", f"{p99:.1f} ms"),
        (f"sse {SUBSCRIBERS} live subscribers: all saw run.finished", f"{live * 1000:.1f} ms"),
        (f"sse {SUBSCRIBERS} subscribers replaying a finished run", f"{replay * 1000:.1f} ms"),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--gated-server"]:
        gated_server(sys.argv[2])
    else:
        for name, figure in run(quick="--quick" in sys.argv):
            say(f"{name}: {figure}")
