"""Slack ack latency: bursts of concurrent signed `/crane calculate 2+3` slash commands.

Three subprocesses, so the client shares no event loop or GIL with what it measures:
  - the fake Slack Web API (tests.fakes.slack_api.FakeSlack) that Crane's background runs post to;
  - Crane's real server: the `crane serve` console script (server.create + uvicorn);
  - a bare Bolt AsyncApp that only acks `/crane`, under AsyncSlackRequestHandler + Starlette,
    served by uvicorn with the same config.
One asyncio client (httpx, keep-alive off: a fresh connection per request) sends each burst at
once and times every request. Rounds alternate which server goes first; before every burst
Crane's background runs from the previous one have finished, so neither server is measured
while Crane is still posting to Slack. Reported: the median over rounds of each burst's
p50 and p99, and Crane / bare.

Roles for the subprocesses: `python -m bench.bench_slack_ack fake|bare ...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import (
    VENV_BIN,
    Result,
    clean_env,
    free_port,
    header,
    median,
    percentile,
    rss_mib,
    say,
    verdict,
    wait_for_health,
)
from bench.pg import scratch_schema
from bench.servers import process, show_log, wait_runs

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
REQUEST = "calculate 2+3"
TARGET_RATIO = 1.2
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
    Slack itself would have given up on it long before."""
    import httpx

    limits = httpx.Limits(max_keepalive_connections=0, max_connections=len(requests))
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:

        async def one(body: bytes, headers: dict[str, str]) -> tuple[float, bool]:
            start = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as error:
                say(f"  {name}: {type(error).__name__} after {time.perf_counter() - start:.1f} s")
                return REQUEST_TIMEOUT_S * 1000, False
            elapsed = (time.perf_counter() - start) * 1000
            return elapsed, response.status_code == 200 and not response.content

        results = await asyncio.gather(*(one(body, headers) for body, headers in requests))
    return [ms for ms, _ in results], sum(1 for _, plain in results if not plain)


def run(quick: bool = False) -> Result:
    rounds, burst = (1, 10) if quick else (8, 100)
    header(f"Slack ack latency: {burst} concurrent signed `/crane {REQUEST}`, {rounds} rounds")
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
        db = str(Path(tmp) / "crane.db")
        crane_port, bare_port, pbr_port = free_port(), free_port(), free_port()
        crane_env = clean_env(
            SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url,
            CRANE_DB=db, PORT=str(crane_port),
        )  # fmt: skip
        crane_cmd = [str(VENV_BIN / "crane"), "serve", "--port", str(crane_port)]
        bare_cmd = [sys.executable, "-m", "bench.bench_slack_ack", "bare", str(bare_port), api_url]
        pbr_cmd = [*bare_cmd[:4], str(pbr_port), api_url, "pbr"]
        targets = [
            Target("crane", stack.enter_context(process(crane_cmd, crane_env, log)), crane_port),
            Target("bare", stack.enter_context(process(bare_cmd, clean_env(), log)), bare_port),
            Target("bare-pbr", stack.enter_context(process(pbr_cmd, clean_env(), log)), pbr_port),
        ]
        dbs = {"crane": db}  # each Crane's database, to wait for its runs
        if pg is not None:  # the same server on PostgreSQL: a commit per ack over loopback
            pg_port = free_port()
            pg_env = {**crane_env, "CRANE_DB": pg, "PORT": str(pg_port)}
            pg_cmd = [*crane_cmd[:-1], str(pg_port)]
            pg_process = stack.enter_context(process(pg_cmd, pg_env, log))
            targets.insert(1, Target("crane-pg", pg_process, pg_port))
            dbs["crane-pg"] = pg
        for target in targets:
            wait_for_health(target.health, process=target.process)
        response_url = api_url.removesuffix("/api/") + "/response/bench"
        # Crane runs started so far on each database: every burst waits for all of them
        started = dict.fromkeys(dbs, 0)

        def measure(target: Target, tag: str, count: int) -> tuple[list[float], int]:
            for name, each in dbs.items():
                wait_runs(each, started[name])
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
            measure(target, f"warm-{target.name}", burst)
        stats: dict[str, dict[str, list[float]]] = {
            t.name: {"p50": [], "p99": [], "max": []} for t in targets
        }
        rejected = {t.name: 0 for t in targets}
        drain: list[float] = []
        for i in range(rounds):
            for target in targets if i % 2 == 0 else targets[::-1]:
                latencies, odd = measure(target, f"r{i}-{target.name}", burst)
                rejected[target.name] += odd
                stats[target.name]["p50"].append(percentile(latencies, 50))
                stats[target.name]["p99"].append(percentile(latencies, 99))
                stats[target.name]["max"].append(max(latencies))
                say(f"  round {i + 1} {target.name:<5} p50 {percentile(latencies, 50):6.1f} ms  "
                    f"p99 {percentile(latencies, 99):6.1f} ms")  # fmt: skip
                if target.name == "crane":
                    drain.append(wait_runs(db, started["crane"]))
        crane_rss = rss_mib(targets[0].process.pid)
        for name, each in dbs.items():
            wait_runs(each, started[name])
    figures = {name: {k: median(v) for k, v in values.items()} for name, values in stats.items()}
    crane, bare, pbr = figures["crane"], figures["bare"], figures["bare-pbr"]
    p50_ratio, p99_ratio = crane["p50"] / bare["p50"], crane["p99"] / bare["p99"]
    pbr_ratio = (crane["p50"] / pbr["p50"], crane["p99"] / pbr["p99"])
    for name, values in figures.items():
        say(f"  {name:<5} median of rounds: p50 {values['p50']:.1f} ms, p99 {values['p99']:.1f} ms"
            f", max {values['max']:.1f} ms; not a plain 200 ack: {rejected[name]}")  # fmt: skip
    say(f"  Crane / bare: p50 {p50_ratio:.2f}×, p99 {p99_ratio:.2f}×")
    say(f"  Crane / bare with process_before_response: p50 {pbr_ratio[0]:.2f}×, "
        f"p99 {pbr_ratio[1]:.2f}×")  # fmt: skip
    say(
        f"  Crane finished each burst's {burst} runs {median(drain):.2f} s after its last ack "
        f"(median); crane serve RSS after the rounds: {crane_rss:.1f} MiB"
    )
    ok = max(p50_ratio, p99_ratio) <= TARGET_RATIO
    return [
        ("slack ack crane p50/p99", f"{crane['p50']:.1f} / {crane['p99']:.1f} ms"),
        ("slack ack bare bolt p50/p99", f"{bare['p50']:.1f} / {bare['p99']:.1f} ms"),
        ("slack ack crane/bare p50, p99", f"{p50_ratio:.2f}×, {p99_ratio:.2f}× "
         f"(target ≤ {TARGET_RATIO}) {verdict(ok)}"),
        ("slack ack bare bolt (before_response)", f"{pbr['p50']:.1f} / {pbr['p99']:.1f} ms; "
         f"crane/it {pbr_ratio[0]:.2f}×, {pbr_ratio[1]:.2f}×"),
        ("slack ack not plain 200 acks", f"crane {rejected['crane']}, bare {rejected['bare']}"),
        *_pg_figures(figures, rejected),
    ]  # fmt: skip


def _pg_figures(figures: dict[str, dict[str, float]], rejected: dict[str, int]) -> Result:
    if "crane-pg" not in figures:
        return [("slack ack crane on PostgreSQL", "skipped (no PostgreSQL answered)")]
    on_pg, bare = figures["crane-pg"], figures["bare"]
    ratios = (on_pg["p50"] / bare["p50"], on_pg["p99"] / bare["p99"])
    say(f"  Crane on PostgreSQL / bare: p50 {ratios[0]:.2f}×, p99 {ratios[1]:.2f}×")
    return [
        ("slack ack crane-pg p50/p99", f"{on_pg['p50']:.1f} / {on_pg['p99']:.1f} ms "
         f"(not a plain 200 ack: {rejected['crane-pg']})"),
        ("slack ack crane-pg/bare p50, p99", f"{ratios[0]:.2f}×, {ratios[1]:.2f}× "
         f"(crane-pg/crane p99 {on_pg['p99'] / figures['crane']['p99']:.2f}×)"),
    ]  # fmt: skip


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "bench"
    if role == "fake":
        serve_fake()
    elif role == "bare":
        serve_bare(int(sys.argv[2]), sys.argv[3], before_response="pbr" in sys.argv[4:])
    else:
        run(quick="--quick" in sys.argv)
