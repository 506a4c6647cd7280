"""Fixtures for the Slack side: a fake Slack Web API and the real server (uvicorn, Bolt, SQLite)
in a background thread, driven by signed HTTP requests like the ones Slack sends."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from core.plan import Run, Scope
from core.runtime import Crane
from core.settings import Settings
from core.store import Store
from server import Server, create
from tests.fakes.signing import event_body, load_payload, signed_headers, slash_command_body
from tests.fakes.slack_api import BOT_USER_ID, FakeSlack

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"
CHANNEL = "C111"
TEAM = "T111"
ENTERPRISE = "E111"
USER = "W111"
SETTLE_S = 8.0

_ts = itertools.count(1)


def new_ts() -> str:
    """A unique Slack ts for a user's message (a range the fake never hands out to the bot)."""
    return f"1800000000.{next(_ts) * 100:06d}"


def scope(user: str = USER, team: str = TEAM, enterprise: str = ENTERPRISE) -> Scope:
    return Scope(enterprise_id=enterprise, team_id=team, user_id=user)


def mention_event(
    text: str,
    *,
    ts: str | None = None,
    thread_ts: str | None = None,
    user: str = USER,
    channel: str = CHANNEL,
    client_msg_id: str | None = None,
) -> dict[str, Any]:
    """An app_mention event (app_mention.json) for "<@UBOT> " + text."""
    event = load_payload("app_mention")
    ts = ts or new_ts()
    event.update(
        text=f"<@{BOT_USER_ID}> {text}",
        user=user,
        channel=channel,
        ts=ts,
        event_ts=ts,
        client_msg_id=client_msg_id or str(uuid.uuid4()),
    )
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_event(
    text: str,
    *,
    ts: str | None = None,
    thread_ts: str | None = None,
    user: str = USER,
    channel: str = CHANNEL,
    channel_type: str = "channel",
    client_msg_id: str | None = None,
) -> dict[str, Any]:
    """A user's `message` event (the event of envelope_message.json), blocks built from text."""
    event: dict[str, Any] = load_payload("envelope_message")["event"]
    ts = ts or new_ts()
    event.update(
        text=text,
        user=user,
        channel=channel,
        channel_type=channel_type,
        ts=ts,
        event_ts=ts,
        client_msg_id=client_msg_id or str(uuid.uuid4()),
    )
    event["blocks"][0]["elements"][0]["elements"] = [{"type": "text", "text": text}]
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


@dataclass
class LiveServer:
    """The running server as a test sees it: where to send requests, what it stored."""

    url: str
    server: Server
    fake: FakeSlack
    settings: Settings
    loop: asyncio.AbstractEventLoop
    http: httpx.Client
    baseline: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def store(self) -> Store:
        return self.server.crane.store

    def post_signed(
        self,
        body: bytes | dict[str, Any],
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """POST /slack/events with Slack's signature headers (plus `headers`)."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        sent = signed_headers(raw, SECRET, timestamp) | (headers or {})
        return self.http.post("/slack/events", content=raw, headers=sent)

    def command(self, text: str, **fields: Any) -> httpx.Response:
        """`/crane <text>` from USER in CHANNEL; response_url points at the fake."""
        fields.setdefault("response_url", self.fake.response_url())
        response = self.post_signed(slash_command_body(text=text, **fields))
        assert response.status_code == 200, response.text
        return response

    def event(self, event: dict[str, Any], **envelope: Any) -> httpx.Response:
        """Deliver `event` in an event_callback envelope (envelope_message.json); expect 200."""
        response = self.post_signed(event_body(event, **envelope))
        assert response.status_code == 200, response.text
        return response

    def settle(self, timeout: float = SETTLE_S) -> None:
        """Wait until Bolt's listener tasks are done and the job pool is idle."""
        deadline = time.monotonic() + timeout
        while True:
            pending = asyncio.run_coroutine_threadsafe(self._pending(), self.loop).result(timeout)
            left = max(0.0, deadline - time.monotonic())
            if not pending and self.server.jobs.wait_idle(left):
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"server still busy after {timeout}s: {pending}")
            time.sleep(0.01)

    async def _pending(self) -> list[str]:
        current = asyncio.current_task()
        return [
            repr(task)
            for task in asyncio.all_tasks()
            if task is not current and task not in self.baseline and not task.done()
        ]

    def runs(self, who: Scope | None = None) -> list[Run]:
        return self.store.list_runs(who, limit=100)


def settings_for(fake: FakeSlack, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test server: every knob the tests rely on is pinned, not read from env."""
    values: dict[str, Any] = {
        "db": str(tmp_path / "crane.db"),
        "planner": "pattern",  # the real offline planner, whatever OPENAI_* the shell has
        "retry_attempts": 4,
        "retry_base_s": 0,
        "workers": 4,
        "queue_limit": 100,
        "max_body_bytes": 1024 * 1024,
        "slack_api_url": fake.url,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_app_token": None,
        "slack_streaming": "dm",  # today's: streams in DMs, messages in channel threads
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class _Running:
    uv: uvicorn.Server
    thread: threading.Thread
    http: httpx.Client


def _serve(
    settings: Settings, fake: FakeSlack, crane: Crane | None = None, replica: bool = False
) -> tuple[LiveServer, _Running]:
    server = create(settings, crane, replica=replica)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(server.app, log_level="warning", lifespan="on"))
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        await uv.serve(sockets=[sock])

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True, name="crane-uv")
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=url, timeout=10)
    live = LiveServer(url, server, fake, settings, loops[0], http)

    async def snapshot() -> set[asyncio.Task[Any]]:
        return set(asyncio.all_tasks())

    live.baseline = asyncio.run_coroutine_threadsafe(snapshot(), loops[0]).result(5)
    return live, _Running(uv, thread, http)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def start_server(
    fake: FakeSlack, tmp_path: Path, databases: Callable[[Path], str]
) -> Iterator[Callable[..., LiveServer]]:
    """start_server(**settings) → a running server; several may run at once (own databases).
    `settings=` and `crane=` (a runtime with its own clock, say) replace the defaults."""
    started: list[_Running] = []

    def start(
        settings: Settings | None = None, crane: Crane | None = None, **overrides: Any
    ) -> LiveServer:
        if settings is None:
            folder = tmp_path / f"server{len(started)}"
            folder.mkdir()
            overrides.setdefault("db", None) or overrides.update(db=databases(folder))
            settings = settings_for(fake, folder, **overrides)
        live, running = _serve(settings, fake, crane)
        started.append(running)
        return live

    yield start
    # Servers of the previous test have stopped by now; this test's stop while the next runs
    # (uvicorn notices should_exit within 0.1 s), and the last ones are joined at session end.
    _join_stopping()
    for running in started:
        running.http.close()
        running.uv.should_exit = True
        _stopping.append(running.thread)


_stopping: list[threading.Thread] = []


def _join_stopping() -> None:
    while _stopping:
        thread = _stopping.pop()
        thread.join(timeout=15)
        assert not thread.is_alive(), "a server did not stop"


@pytest.fixture(autouse=True, scope="session")
def _stop_servers_at_exit() -> Iterator[None]:
    yield
    _join_stopping()


@pytest.fixture
def server(start_server: Callable[..., LiveServer]) -> LiveServer:
    """The server with default settings (streaming auto, four workers)."""
    return start_server()
