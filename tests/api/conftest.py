"""Fixtures for the HTTP side: the real server (uvicorn + server.create, SQLite in a temp
dir) in a background thread on a free loopback port, and small clients that speak to it the way
a person's script or browser would (JSON, bearer tokens, Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import BaseModel

from core.orchestrator import Orchestrator
from core.plan import History, Plan, PlannedStep, Run, RunEvent, Scope, ToolResult
from core.planners import pattern
from core.runtime import Crane
from core.settings import Settings
from core.store import Store
from core.tool import Tool, ToolContext
from core.tools import REGISTRY
from server import Server, create

TOKENS = "s3cret:T01:U01,other:T02:U02"
ALICE = "s3cret"  # T01/U01
BOB = "other"  # T02/U02
ALICE_SCOPE = Scope(enterprise_id="", team_id="T01", user_id="U01")
WAIT_S = 10.0


@dataclass
class SseEvent:
    id: int
    event: str
    data: dict[str, Any]


def parse_sse(lines: Iterator[str]) -> list[SseEvent]:
    """Frames of a text/event-stream until the server closes it (comments skipped)."""
    events: list[SseEvent] = []
    frame: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "event" in frame:
                events.append(SseEvent(int(frame["id"]), frame["event"], json.loads(frame["data"])))
            frame = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            frame[name] = frame.get(name, "") + value.removeprefix(" ")
    return events


class Gate:
    """A run that is visibly in flight until the test opens the gate: the `gate` tool's step
    starts, then its worker waits (in an orchestrator listener, so no transaction is held
    and the database stays writable for everyone else)."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = threading.Event()
        self.calls = 0

    def open(self) -> None:
        self.opened.set()

    def wait_entered(self, timeout: float = WAIT_S) -> None:
        assert self.entered.wait(timeout), "the gated step never started"

    def listener(self, event: RunEvent) -> None:
        if event.type == "step.started" and event.data["step"]["tool"] == "gate":
            self.entered.set()
            self.opened.wait(WAIT_S * 3)

    def tool(self) -> Tool:
        class GateInput(BaseModel):
            pass

        def gate(args: GateInput, ctx: ToolContext) -> ToolResult:
            self.calls += 1
            return ToolResult(text="gate passed", value=1)

        return Tool("gate", GateInput, gate, "Passes once the test opened the gate.")


def gated_crane(db: str, gate: Gate) -> Crane:
    """The real runtime plus a `gate` tool: "wait for the gate" plans one gate step;
    everything else goes to the offline pattern planner."""

    def planner(text: str, history: History) -> Plan:
        if text.startswith("wait for the gate"):
            return Plan(steps=[PlannedStep(tool="gate")])
        return pattern.plan(text, history)

    store = Store(db)
    tools = {**REGISTRY, "gate": gate.tool()}
    return Crane(store, planner, Orchestrator(store, tools=tools, retry_base_s=0))


@dataclass
class LiveApi:
    """The running server as a client sees it, plus a look at what it stored."""

    url: str
    server: Server
    settings: Settings
    loop: asyncio.AbstractEventLoop
    uv: uvicorn.Server
    thread: threading.Thread
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.server.crane.store

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        """An HTTP client for this server, with `Authorization: Bearer token` when given."""
        sent = dict(headers)
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        http = httpx.Client(base_url=self.url, headers=sent, timeout=WAIT_S)
        self.clients.append(http)
        return http

    def post_run(
        self, text: str, thread: str | None = None, token: str | None = None, **headers: str
    ) -> httpx.Response:
        body: dict[str, Any] = {"text": text}
        if thread is not None:
            body["thread"] = thread
        return self.client(token).post("/api/v1/runs", json=body, headers=headers)

    def events(
        self, run_id: str, token: str | None = None, last_event_id: str | None = None
    ) -> list[SseEvent]:
        """Every SSE event of the run until the server closes the stream."""
        headers = {"Last-Event-ID": last_event_id} if last_event_id is not None else {}
        with self.client(token).stream(
            "GET", f"/api/v1/runs/{run_id}/events", headers=headers
        ) as response:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            return parse_sse(response.iter_lines())

    def run_to_end(self, text: str, thread: str | None = None, token: str | None = None) -> Any:
        """POST a run, follow its events to run.finished, return the final record (JSON)."""
        created = self.post_run(text, thread, token)
        assert created.status_code == 202, created.text
        run_id = created.json()["id"]
        assert self.events(run_id, token)[-1].event == "run.finished"
        return self.client(token).get(f"/api/v1/runs/{run_id}").json()

    def settle(self, timeout: float = WAIT_S) -> None:
        assert self.server.jobs.wait_idle(timeout), "runs still in flight"

    def stored_runs(self, who: Scope | None = None) -> list[Run]:
        return self.store.list_runs(who, limit=1000)

    def stop(self, timeout: float | None = 15.0) -> None:
        """Shut down as on SIGTERM; with timeout=None, don't wait for it to finish."""
        for http in self.clients:
            http.close()
        self.uv.should_exit = True
        if timeout is not None:
            self.thread.join(timeout)


def api_settings(folder: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db": str(folder / "crane.db"),
        "planner": "pattern",
        "retry_base_s": 0,
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
        "api_tokens": None,
        "shutdown_timeout_s": 2.0,
    }
    values.update(overrides)
    return Settings(**values)


class QuickUvicorn(uvicorn.Server):
    """uvicorn noticing `should_exit` within 10 ms rather than 100 ms (many short servers)."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)


def serve(settings: Settings, crane: Crane | None = None) -> LiveApi:
    server = create(settings, crane)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = QuickUvicorn(
        uvicorn.Config(server.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
    )
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        await uv.serve(sockets=[sock])

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True, name="crane-api")
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.005)
    return LiveApi(f"http://127.0.0.1:{port}", server, settings, loops[0], uv, thread)


@pytest.fixture(scope="session")
def _stopping() -> Iterator[list[LiveApi]]:
    """Servers told to stop; they wind down beside the next tests and are joined at the end."""
    servers: list[LiveApi] = []
    yield servers
    for live in servers:
        live.thread.join(15)


@pytest.fixture
def start_api(
    tmp_path: Path, _stopping: list[LiveApi], databases: Callable[[Path], str]
) -> Iterator[Callable[..., LiveApi]]:
    """start_api(crane=None, **settings) → a running server with its own database
    (or the given Settings' database when `settings=` is passed)."""
    started: list[tuple[LiveApi, list[Gate]]] = []

    def start(
        settings: Settings | None = None,
        crane: Crane | None = None,
        gate: Gate | None = None,
        **overrides: Any,
    ) -> LiveApi:
        if settings is None:
            folder = tmp_path / f"server{len(started)}"
            folder.mkdir()
            overrides.setdefault("db", None) or overrides.update(db=databases(folder))
            settings = api_settings(folder, **overrides)
        if gate is not None and crane is None:
            crane = gated_crane(settings.db, gate)
        live = serve(settings, crane)
        if gate is not None:  # after the server's own listeners: SSE hears step.started first
            live.server.crane.orchestrator.subscribe(gate.listener)
        started.append((live, [gate] if gate else []))
        return live

    yield start
    for live, gates in started:
        for gate in gates:
            gate.open()  # never leave a blocked worker behind
        live.stop(timeout=None)
        _stopping.append(live)


@pytest.fixture
def api(start_api: Callable[..., LiveApi]) -> LiveApi:
    """No tokens configured: the loopback client is the local user (like the CLI)."""
    return start_api()


@pytest.fixture
def api_tokens(start_api: Callable[..., LiveApi]) -> LiveApi:
    """CRANE_API_TOKENS=s3cret:T01:U01,other:T02:U02."""
    return start_api(api_tokens=TOKENS)


@pytest.fixture
def gate() -> Iterator[Gate]:
    opened = Gate()
    yield opened
    opened.open()
