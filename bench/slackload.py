"""What the load bench and the soak share: Crane in OAuth mode serving many workspaces, against
the fake Slack Web API in a subprocess, with signed `/crane` requests and a per-request tally of
what Slack was shown.

- Workspaces: each `T0nn` has its own bot token in Crane's database (`slack_bots`, as an install
  leaves it), so every request resolves its workspace's token the way an installed app does,
  and each workspace has its own Slack rate budget.
- Every request goes to a channel of its own: what Slack shows in a channel is that request's.
  Its *answer* is the end of its stream (`chat.stopStream`), or, when Crane shows the run as
  classic messages, a reply in its thread that is not a step (`⏳ …`).
- The fake Slack runs in its own process (`python -m bench.slackload fake`) so it shares no GIL
  with Crane or the client; a line `calls` on its stdin answers one JSON line with the calls
  recorded since the last one (and forgets them, and all but the latest messages, so a long
  soak keeps it small).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench import ROOT, VENV_BIN, clean_env, free_port, wait_for_health
from bench.servers import stop

SECRET = "bench-signing-secret"
CLIENT_ID, CLIENT_SECRET = "111.222", "bench-client-secret"
BUSY = "I'm busy right now"  # the start of bot.listeners.BUSY
ACK_LIMIT_S = 3.0  # Slack shows the user an error past this and retries
KEEP_MESSAGES = 5000  # the fake forgets older ones: threads end within seconds


def teams(count: int) -> list[str]:
    return [f"T{n:03d}" for n in range(count)]


def token_of(team: str) -> str:
    return f"xoxb-bench-{team}"


def raised_budgets() -> str:
    """CRANE_SLACK_RATE_LIMITS with every budgeted method raised out of the way: the runs measure
    Crane, not Slack's pace."""
    from core.ratelimit import DEFAULT_LIMITS

    methods = [item.split("=")[0] for item in DEFAULT_LIMITS.split(",")]
    return ",".join(f"{method}=100000/min" for method in methods)


def install(db: str, workspaces: list[str]) -> None:
    """Each workspace's bot, stored as an OAuth install stores it (bot.installations)."""
    from core.store import Store

    store = Store(db)
    try:
        for team in workspaces:
            bot = {"bot_token": token_of(team), "bot_id": "BBOT", "bot_user_id": "UBOT",
                   "team_id": team, "installed_at": 1_700_000_000.0}  # fmt: skip
            store.installations.save_bot("", team, False, json.dumps(bot))
    finally:
        store.close()


def crane_env(db: str, api_url: str, queue_limit: int, **extra: str) -> dict[str, str]:
    return clean_env(
        CRANE_DB=db, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url, CRANE_QUEUE_LIMIT=str(queue_limit),
        CRANE_SLACK_RATE_LIMITS=raised_budgets(), **extra,
    )  # fmt: skip


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    @property
    def events(self) -> str:
        return f"{self.url}/slack/events"


@contextlib.contextmanager
def servers(env: dict[str, str], count: int, log: IO[bytes]) -> Iterator[list[Server]]:
    """`count` `crane serve` processes on one database, each ready to take requests."""
    started: list[Server] = []
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen([str(VENV_BIN / "crane"), "serve"], cwd=ROOT,
                                       env={**env, "PORT": str(port)}, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log)  # fmt: skip
            started.append(Server(process, f"http://127.0.0.1:{port}"))
        for server in started:
            wait_for_health(f"{server.url}/ready", timeout=90, process=server.process)
        yield started
    finally:
        for server in started:
            stop(server.process)


class FakeSlack:
    """The fake Slack Web API in its own process."""

    def __init__(self, log: IO[bytes]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.slackload", "fake"],
                                        cwd=ROOT, env=clean_env(), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=log)  # fmt: skip
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().decode().strip()
        if not self.url.startswith("http"):
            stop(self.process)
            raise RuntimeError(f"fake Slack did not start: {self.url!r}")

    def response_url(self, name: str) -> str:
        return f"{self.url.removesuffix('/api/')}/response/{name}"

    def calls(self) -> list[dict[str, Any]]:
        """The calls recorded since the last time asked (then forgotten there)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(b"calls\n")
        self.process.stdin.flush()
        found: list[dict[str, Any]] = json.loads(self.process.stdout.readline())
        return found

    def close(self) -> None:
        stop(self.process)


def signed_command(
    text: str, team: str, channel: str, user: str, trigger: str, response_url: str
) -> tuple[bytes, dict[str, str]]:
    from tests.fakes.signing import signed_headers, slash_command_body

    body = slash_command_body(text=text, team_id=team, enterprise_id=None,
                              enterprise_name=None, channel_id=channel, user_id=user,
                              trigger_id=trigger, response_url=response_url)  # fmt: skip
    return body, signed_headers(body, SECRET)


@dataclass
class Shown:
    """What Slack showed, per channel (= per request)."""

    headers: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    first_answer: dict[str, float] = field(default_factory=dict)  # monotonic time
    tokens: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    failed_calls: int = 0

    def add(self, calls: list[dict[str, Any]]) -> None:
        for call in calls:
            channel = call.get("channel") or ""
            if call["status"] != 200:
                self.failed_calls += 1
                continue
            if call["token"]:
                self.tokens[channel].add(call["token"])
            method, thread = call["method"], call.get("thread_ts")
            if method == "chat.postMessage" and not thread:
                self.headers[channel] += 1
            answer = method == "chat.stopStream" or (
                method == "chat.postMessage" and thread and not call["text"].startswith("⏳")
            )
            if answer:
                self.answers[channel] += 1
                self.first_answer.setdefault(channel, call["at"])


# ---------------------------------------------------------------- the fake's process


def serve_fake() -> None:
    from tests.fakes import slack_api

    slack_api._Server.request_queue_size = 256  # bursts of Crane's calls, not 5 at a time
    with slack_api.FakeSlack() as fake:
        print(fake.url, flush=True)
        for line in sys.stdin:
            if line.strip() == "calls":
                print(json.dumps(_take(fake)), flush=True)


def _take(fake: Any) -> list[dict[str, Any]]:
    """The calls recorded so far, as plain values; then forgotten with all but the latest
    messages (the fake keeps everything, which a half-hour soak would not fit)."""
    with fake._lock:
        calls, fake._calls[:] = list(fake._calls), []
        for kept in (fake._messages, fake._sessions):
            for key in list(kept)[:-KEEP_MESSAGES]:
                del kept[key]
        del fake._ephemerals[:-KEEP_MESSAGES]
    return [
        {"method": call.method, "token": call.token, "status": call.status, "at": call.at,
         "channel": str(call.params.get("channel") or ""),
         "thread_ts": call.params.get("thread_ts"),
         "text": str(call.params.get("text") or "")[:80]}
        for call in calls
    ]  # fmt: skip


def wait_quiet(fake: FakeSlack, shown: Shown, quiet_s: float = 2.0, limit_s: float = 120) -> None:
    """Collect calls until none has come for `quiet_s` (the last edits after the runs ended)."""
    started = last = time.monotonic()
    while time.monotonic() - last < quiet_s and time.monotonic() - started < limit_s:
        calls = fake.calls()
        if calls:
            shown.add(calls)
            last = time.monotonic()
        time.sleep(0.25)


def unfinished_runs(db: str) -> int:
    """Runs not yet completed or failed (0 while the schema does not exist yet)."""
    from bench.servers import _finished_runs

    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as conn:
            row = conn.execute("SELECT count(*) FROM runs").fetchone()
    else:
        import sqlite3

        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT count(*) FROM runs").fetchone()
    return int(row[0] if row else 0) - _finished_runs(db)


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


if __name__ == "__main__":
    if sys.argv[1:] == ["fake"]:
        serve_fake()
