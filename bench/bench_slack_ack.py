"""Slack ack latency: bursts of concurrent signed `/crane calculate 2+3` slash commands.

Three subprocesses, so the client shares no event loop or GIL with what it measures:
  - the fake Slack Web API (tests.fakes.slack_api.FakeSlack) that Crane's background runs post to;
  - Crane's real server: the `crane serve` console script (server.create + uvicorn);
  - a bare Bolt AsyncApp that only acks `/crane`, under AsyncSlackRequestHandler + Starlette,
    served by uvicorn with the same config.
One asyncio client (bench.rawhttp: a fresh connection per request) sends each burst at
once and times every request. Rounds alternate which server goes first; before every burst
Crane's background runs from the previous one have finished, so neither server is measured
while Crane is still posting to Slack. Reported: the median over rounds of each burst's
p50 and p99, and Crane / bare, per
burst size. CRANE_BENCH_BEFORE=REV also serves Crane as of that commit (a git worktree), so a
change is measured before → after in the same run.

Roles for the subprocesses: `python -m bench.bench_slack_ack fake|bare ...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import (
    VENV_BIN,
    Result,
    clean_env,
    free_port,
    header,
    median,
    percentile,
    say,
    verdict,
    wait_for_health,
)
from bench.pg import scratch_schema
from bench.servers import ROOT, process, show_log, wait_runs
from bench.slackload import raised_budgets

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
REQUEST = "calculate 2+3"
TARGET_RATIO = 1.2  # p99, Crane on SQLite / bare Bolt
TARGET_RATIO_PG = 1.3  # … on PostgreSQL
BURSTS = (100, 1000)
ROUNDS = 5
REQUEST_TIMEOUT_S = 10.0


# ---------------------------------------------------------------- subprocess roles


def serve_fake() -> None:
    """Run the fake Slack Web API until stdin closes; its base URL is the first stdout line."""
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake:
        print(fake.url, flush=True)
        sys.stdin.read()


def serve_bare(port: int, api_url: str, before_response: bool = False) -> None:
    """A Bolt AsyncApp that only acks /crane, served like `crane serve` serves Crane.
    `before_response`: Bolt's process_before_response, as Crane sets it (no 10 ms ack polling)."""
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        process_before_response=before_response,
    )

    @bolt.command("/crane")
    async def crane_command(ack: AsyncAck) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[Route("/slack/events", events, methods=["POST"]), Route("/health", health)]
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn.Server(config).run()


# ---------------------------------------------------------------- the client


class Target:
    def __init__(self, name: str, process: subprocess.Popen[bytes], port: int) -> None:
        self.name = name
        self.process = process
        self.url = f"http://127.0.0.1:{port}/slack/events"
        self.health = f"http://127.0.0.1:{port}/health"


def _requests(count: int, tag: str, response_url: str) -> list[tuple[bytes, dict[str, str]]]:
    from tests.fakes.signing import signed_headers, slash_command_body

    signed = []
    for i in range(count):
        body = slash_command_body(
            text=REQUEST, trigger_id=f"{tag}.{i}.bench", response_url=response_url
        )
        signed.append((body, signed_headers(body, SECRET)))
    return signed


async def _burst(
    name: str, url: str, requests: list[tuple[bytes, dict[str, str]]]
) -> tuple[list[float], int]:
    """Send every request at once; (latencies in ms, how many were not a plain 200 ack).

    A request that fails or gets no answer within REQUEST_TIMEOUT_S counts at that timeout:
    Slack itself would have given up on it long before. The client is bench.rawhttp: httpx's
    pool queued a 1,000-request burst in the client itself, so its figures partly timed it."""
    from bench import rawhttp

    async def one(body: bytes, headers: dict[str, str]) -> tuple[float, bool]:
        start = time.perf_counter()
        try:
            status, text = await rawhttp.post(url, body, headers, timeout=REQUEST_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            say(f"  {name}: {type(error).__name__} after {time.perf_counter() - start:.1f} s")
            return REQUEST_TIMEOUT_S * 1000, False
        return (time.perf_counter() - start) * 1000, status == 200 and not text

    results = await asyncio.gather(*(one(body, headers) for body, headers in requests))
    return [ms for ms, _ in results], sum(1 for _, plain in results if not plain)


def _before_tree(stack: contextlib.ExitStack, tmp: str) -> Path | None:
    """CRANE_BENCH_BEFORE=REV: that commit checked out, to serve Crane as it was, side by side."""
    rev = os.environ.get("CRANE_BENCH_BEFORE")
    if not rev:
        return None
    tree = Path(tmp) / "before"
    git = ["git", "-C", str(ROOT)]
    subprocess.run([*git, "worktree", "add", "--detach", "-q", str(tree), rev], check=True)
    stack.callback(subprocess.run, [*git, "worktree", "remove", "--force", str(tree)])
    return tree


def _crane_targets(
    stack: contextlib.ExitStack, env: dict[str, str], log: Any, pg: str | None, tmp: str
) -> tuple[list[Target], dict[str, str]]:
    """Crane on SQLite and on PostgreSQL, and the same as of CRANE_BENCH_BEFORE if set."""
    targets, dbs = [], {}
    before = _before_tree(stack, tmp)
    for suffix, tree in [("", None), ("@before", before)]:
        if suffix and tree is None:
            continue
        extra = {"PYTHONPATH": str(tree)} if tree else {}
        for name, db in [("crane", str(Path(tmp) / f"crane{suffix}.db")), ("crane-pg", pg)]:
            if db is None:
                continue
            if name == "crane-pg" and suffix:  # its own schema: runs counted apart
                db = stack.enter_context(scratch_schema())
                if db is None:
                    continue
            port = free_port()
            command = [str(VENV_BIN / "crane"), "serve", "--port", str(port)]
            each = {**env, **extra, "CRANE_DB": db, "PORT": str(port)}
            name += suffix
            targets.append(Target(name, stack.enter_context(process(command, each, log)), port))
            dbs[name] = db
    return targets, dbs


def run(quick: bool = False) -> Result:
    rounds, bursts = (1, (10,)) if quick else (ROUNDS, BURSTS)
    header(f"Slack ack latency: {' and '.join(map(str, bursts))} concurrent signed "
           f"`/crane {REQUEST}`, {rounds} rounds each")  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp,
        contextlib.ExitStack() as stack,
        scratch_schema() as pg,
    ):
        log_path = Path(tmp) / "servers.log"
        log = stack.enter_context(log_path.open("wb"))
        stack.push(lambda kind, *_: kind is not None and show_log(log_path))
        fake = stack.enter_context(
            process([sys.executable, "-m", "bench.bench_slack_ack", "fake"], clean_env(), log)
        )
        api_url = fake.stdout.readline().decode().strip()
        if not api_url.startswith("http"):
            raise RuntimeError(f"fake Slack did not start: {api_url!r}")
        # every request recorded and run, none turned away as busy: the intake is measured; and
        # Slack's budgets out of the way (every burst posts in one channel), so the runs a burst
        # starts end before the next burst instead of one every few seconds
        crane_env = clean_env(
            SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url,
            CRANE_QUEUE_LIMIT=str(max(bursts) * 2), CRANE_SLACK_RATE_LIMITS=raised_budgets(),
        )  # fmt: skip
        targets, dbs = _crane_targets(stack, crane_env, log, pg, tmp)
        bare_port, pbr_port = free_port(), free_port()
        bare_cmd = [sys.executable, "-m", "bench.bench_slack_ack", "bare", str(bare_port), api_url]
        pbr_cmd = [*bare_cmd[:4], str(pbr_port), api_url, "pbr"]
        targets += [
            Target("bare", stack.enter_context(process(bare_cmd, clean_env(), log)), bare_port),
            Target("bare-pbr", stack.enter_context(process(pbr_cmd, clean_env(), log)), pbr_port),
        ]
        for target in targets:
            wait_for_health(target.health, process=target.process)
        response_url = api_url.removesuffix("/api/") + "/response/bench"
        # Crane runs started so far on each database: every burst waits for all of them
        started = dict.fromkeys(dbs, 0)

        def measure(target: Target, tag: str, count: int) -> tuple[list[float], int]:
            for name, each in dbs.items():
                wait_runs(each, started[name], timeout=600)
            latencies, odd = asyncio.run(
                _burst(target.name, target.url, _requests(count, tag, response_url))
            )
            if target.name in started:
                started[target.name] += count - odd
            return latencies, odd

        for target in targets:  # warm up: Bolt's auth.test, lazy imports, worker threads
            # One request first: until auth.test has answered once, every request calls it,
            # and the fake Slack's listen backlog (5) would drop a burst of them.
            measure(target, f"first-{target.name}", 1)
            measure(target, f"warm-{target.name}", bursts[0])
        results: Result = []
        for burst in bursts:
            results += _rounds(targets, measure, rounds, burst)
        for name, each in dbs.items():
            wait_runs(each, started[name], timeout=600)
    return results


def _rounds(targets: list[Target], measure: Any, rounds: int, burst: int) -> Result:
    stats: dict[str, dict[str, list[float]]] = {
        t.name: {"p50": [], "p99": [], "max": []} for t in targets
    }
    rejected = {t.name: 0 for t in targets}
    for i in range(rounds):
        for target in targets if i % 2 == 0 else targets[::-1]:
            latencies, odd = measure(target, f"{burst}r{i}-{target.name}", burst)
            rejected[target.name] += odd
            stats[target.name]["p50"].append(percentile(latencies, 50))
            stats[target.name]["p99"].append(percentile(latencies, 99))
            stats[target.name]["max"].append(max(latencies))
            say(f"  {burst} round {i + 1} {target.name:<15} p50 {percentile(latencies, 50):7.1f}"
                f" ms  p99 {percentile(latencies, 99):7.1f} ms")  # fmt: skip
    figures = {name: {k: median(v) for k, v in values.items()} for name, values in stats.items()}
    bare = figures["bare"]
    results: Result = []
    for name, values in figures.items():
        say(f"  {burst}: {name:<15} median of rounds: p50 {values['p50']:.1f} ms, p99 "
            f"{values['p99']:.1f} ms, max {values['max']:.1f} ms; not a plain 200 ack: "
            f"{rejected[name]}")  # fmt: skip
        if not name.startswith("crane"):
            continue
        p50, p99 = values["p50"] / bare["p50"], values["p99"] / bare["p99"]
        target = TARGET_RATIO_PG if "pg" in name else TARGET_RATIO
        mark = "" if "@" in name else f" (target ≤ {target}) {verdict(p99 <= target)}"
        results.append((f"slack ack {burst} {name}/bare p99, p50",
                        f"{p99:.2f}×, {p50:.2f}×; {values['p99']:.1f} / {values['p50']:.1f} ms "
                        f"vs {bare['p99']:.1f} / {bare['p50']:.1f} ms; not a plain 200 ack: "
                        f"{rejected[name]}{mark}"))  # fmt: skip
    return results


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "bench"
    if role == "fake":
        serve_fake()
    elif role == "bare":
        serve_bare(int(sys.argv[2]), sys.argv[3], before_response="pbr" in sys.argv[4:])
    else:
        run(quick="--quick" in sys.argv)
