"""Load: REQUESTS concurrent signed `/crane` over WORKSPACES workspaces (OAuth mode: each its
own bot token from Crane's database) and as many channels as requests, sent at once against one
`crane serve` on SQLite and against three replicas on one PostgreSQL database (round robin, as a
load balancer would), with CRANE_QUEUE_LIMIT and every Slack budget raised for the run.

Reported per target: requests acked within Slack's 3 s, "busy" answers apart, requests not
acked at all; what Slack was shown per request (answered exactly once, never, more than once,
with another workspace's token); ack p50/p99; answer latency p50/p99 and answers per second,
from the burst's start to the last first answer. A warm-up round first sends one request per
workspace to every process, so each has met each workspace's token (Bolt's auth.test, cached).

    python -m bench.bench_load [--requests N] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bench import Result, clean_env, free_port, header, percentile, say, verdict, wait_for_health
from bench.pg import scratch_schema
from bench.rawhttp import post
from bench.servers import process, show_log, wait_runs
from bench.slackload import (
    ACK_LIMIT_S,
    BUSY,
    FakeSlack,
    Server,
    Shown,
    crane_env,
    install,
    servers,
    signed_command,
    teams,
    token_of,
    wait_quiet,
)

REQUESTS = 1000
WORKSPACES = 60
REPLICAS = 3
TIMEOUT_S = 60.0  # the client gives up on an ack after this (Slack: after 3 s)


async def _send(
    targets: list[str], requests: list[tuple[bytes, dict[str, str]]]
) -> list[tuple[float, float, int, str]]:
    """All at once, round robin over `targets`, each on a connection of its own (as Slack
    sends them): (sent at, ack seconds, status, body) each; status 0 when no answer came
    within TIMEOUT_S."""

    async def one(n: int, body: bytes, headers: dict[str, str]) -> tuple[float, float, int, str]:
        sent = time.monotonic()
        try:
            status, text = await post(targets[n % len(targets)], body, headers, timeout=TIMEOUT_S)
        except (OSError, TimeoutError):
            return sent, time.monotonic() - sent, 0, ""
        return sent, time.monotonic() - sent, status, text

    return await asyncio.gather(*(one(n, *request) for n, request in enumerate(requests)))


def _requests(
    fake: FakeSlack, count: int, tag: str, workspaces: list[str]
) -> list[tuple[str, str, tuple[bytes, dict[str, str]]]]:
    """(team, channel, signed request) each; a channel per request, users per workspace."""
    made = []
    for n in range(count):
        team, channel = workspaces[n % len(workspaces)], f"C{tag}{n:05d}"
        text = f"add a todo to load item {n}" if n % 4 == 3 else f"calculate {n}+1"
        signed = signed_command(text, team, channel, f"W{n % 17:03d}", f"{tag}.{n}.load",
                                fake.response_url(f"{tag}{n}"))  # fmt: skip
        made.append((team, channel, signed))
    return made


def burst(
    fake: FakeSlack,
    replicas: list[Server],
    db: str,
    count: int,
    done_before: int,
    workspaces: list[str],
) -> dict[str, float]:
    made = _requests(fake, count, "L", workspaces)
    shown = Shown()
    started = time.monotonic()
    sent = asyncio.run(_send([r.events for r in replicas], [m[2] for m in made]))
    acked = [n for n, (_, _, status, body) in enumerate(sent) if status == 200 and not body]
    busy = [n for n, (_, _, status, body) in enumerate(sent) if status == 200 and BUSY in body]
    wait_runs(db, done_before + len(acked), timeout=900)
    wait_quiet(fake, shown)
    acks = [seconds for _, seconds, status, _ in sent if status]
    once = never = twice = wrong_token = 0
    answer_s = []
    for n in acked:
        team, channel, _ = made[n]
        answers = shown.answers[channel]
        once += answers == 1 and shown.headers[channel] == 1
        never += answers == 0
        twice += answers > 1 or shown.headers[channel] > 1
        wrong_token += bool(shown.tokens[channel] - {token_of(team)})
        if channel in shown.first_answer:
            answer_s.append(shown.first_answer[channel] - sent[n][0])
    last = max(shown.first_answer.values(), default=started)
    return {
        "requests": count, "acked": len(acked), "busy": len(busy),
        "no_ack": count - len(acked) - len(busy),
        "within_3s": sum(1 for n in acked if sent[n][1] <= ACK_LIMIT_S),
        "ack_p50": percentile(acks, 50) if acks else 0.0,
        "ack_p99": percentile(acks, 99) if acks else 0.0,
        "ack_max": max(acks, default=0.0),
        "once": once, "never": never, "twice": twice, "wrong_token": wrong_token,
        "answer_p50": percentile(answer_s, 50) if answer_s else 0.0,
        "answer_p99": percentile(answer_s, 99) if answer_s else 0.0,
        "per_s": len(shown.first_answer) / max(last - started, 1e-9),
        "failed_calls": shown.failed_calls,
    }  # fmt: skip


def warm_up(fake: FakeSlack, replicas: list[Server], db: str, workspaces: list[str]) -> int:
    """One request per workspace to each process, a few at a time; the runs it started."""
    count = 0
    for replica in replicas:
        made = _requests(fake, len(workspaces), f"W{count}", workspaces)
        for first in range(0, len(made), 10):
            asyncio.run(_send([replica.events], [m[2] for m in made[first : first + 10]]))
        count += len(made)
    wait_runs(db, count, timeout=300)
    wait_quiet(fake, Shown())
    return count


def target(
    name: str, db: str | None, processes: int, count: int, folder: Path, workspaces: list[str]
) -> dict[str, float] | None:
    if db is None:
        return None
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log, contextlib.ExitStack() as stack:
        stack.push(lambda kind, *_: kind is not None and show_log(log_path))
        fake = FakeSlack(log)
        stack.callback(fake.close)
        install(db, workspaces)
        env = crane_env(db, fake.url, queue_limit=count * 2)
        replicas = stack.enter_context(servers(env, processes, log))
        before = warm_up(fake, replicas, db, workspaces)
        bare = stack.enter_context(bare_bolts(fake, processes, log))
        asyncio.run(_send(bare, [m[2] for m in _requests(fake, len(bare), "B", workspaces)]))
        # the same burst at bare Bolt apps that only ack, just before: the machine's own share
        acks = [s for _, s, status, _ in asyncio.run(_send(bare, [
            m[2] for m in _requests(fake, count, "B", workspaces)])) if status]  # fmt: skip
        figures = burst(fake, replicas, db, count, before, workspaces)
        figures["bare_p50"], figures["bare_p99"] = percentile(acks, 50), percentile(acks, 99)
        return figures


@contextlib.contextmanager
def bare_bolts(fake: FakeSlack, count: int, log: IO[bytes]) -> Iterator[list[str]]:
    """`count` Bolt apps that only ack /crane (bench.bench_slack_ack's), as Crane is served."""
    with contextlib.ExitStack() as stack:
        urls = []
        for _ in range(count):
            port = free_port()
            command = [sys.executable, "-m", "bench.bench_slack_ack", "bare", str(port),
                       fake.url, "pbr"]  # fmt: skip
            bare = stack.enter_context(process(command, clean_env(), log))
            wait_for_health(f"http://127.0.0.1:{port}/health", process=bare)
            urls.append(f"http://127.0.0.1:{port}/slack/events")
        yield urls


def report(name: str, figures: dict[str, float]) -> Result:
    f = figures
    ok = f["within_3s"] == f["requests"] and f["once"] == f["requests"]
    lines = [
        f"acked within 3 s {f['within_3s']:.0f}/{f['requests']:.0f}, busy {f['busy']:.0f}, "
        f"not acked {f['no_ack']:.0f}; answered once {f['once']:.0f}, never {f['never']:.0f}, "
        f"twice or more {f['twice']:.0f}, another workspace's token {f['wrong_token']:.0f} "
        f"({verdict(ok)})",
        f"ack p50 {f['ack_p50'] * 1000:.0f} ms, p99 {f['ack_p99'] * 1000:.0f} ms, max "
        f"{f['ack_max'] * 1000:.0f} ms (bare Bolt, same burst just before: p50 "
        f"{f['bare_p50'] * 1000:.0f} ms, p99 {f['bare_p99'] * 1000:.0f} ms); "
        f"answer p50 {f['answer_p50']:.2f} s, p99 "
        f"{f['answer_p99']:.2f} s; {f['per_s']:.1f} answers/s; Slack calls refused "
        f"{f['failed_calls']:.0f}",
    ]
    for line in lines:
        say(f"  {name}: {line}")
    return [(f"load {name}", lines[0]), (f"load {name} latency", lines[1])]


def run(quick: bool = False, requests: int | None = None, only: str | None = None) -> Result:
    count = requests or (30 if quick else REQUESTS)
    workspaces = teams(5 if quick else WORKSPACES)  # the smoke test's warm-up stays short
    header(f"Load: {count} concurrent signed /crane over {len(workspaces)} workspaces, one channel "
           f"each; SQLite (1 process) and PostgreSQL ({REPLICAS} replicas)")  # fmt: skip
    results: Result = []
    with tempfile.TemporaryDirectory(prefix="crane-load-") as tmp:
        folder = Path(tmp)
        if only in (None, "sqlite"):
            figures = target("sqlite", str(folder / "crane.db"), 1, count, folder, workspaces)
            assert figures is not None
            results += report("sqlite 1 process", figures)
        if only in (None, "postgresql"):
            with scratch_schema() as pg:
                figures = target("postgresql", pg, REPLICAS, count, folder, workspaces)
            if figures is None:
                results.append(("load postgresql", "skipped (no PostgreSQL)"))
            else:
                results += report(f"postgresql {REPLICAS} replicas", figures)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    run(requests=args.requests, only=args.only)


if __name__ == "__main__":
    main()
