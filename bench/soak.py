"""Soak (`make soak`, not CI): a steady mix of Slack `/crane` and REST runs, about RATE a second
over WORKSPACES workspaces, against three `crane serve` replicas on one PostgreSQL database (a
scratch schema, dropped after), for `--minutes` (default 30). A few requests have large outputs:
two heavy users — one in Slack, one on the REST API — list a todo list that grows to HEAVY_TODOS.

Every SAMPLE_S it records (bench/out/soak-<time>.csv): RSS and open files per replica; database
connections per replica, Crane's own (pool and LISTEN) and the job library's apart (its
`application_name`), told from other sessions on the server by the replicas' own sockets; the
job queue (`procrastinate_jobs` by status); ack p50/p99 and answer p50/p99 of Slack and REST
requests; the machine's load average. Then a plot of those series (an SVG beside the CSV).

Pass: after warm-up (a third of the run, at most 5 minutes) each replica's RSS grows < 10%;
peak connections ≤ 60; nothing pending at the end (runs, jobs, unanswered Slack requests).

    python -m bench.soak [--minutes 30] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import ROOT, percentile, rss_mib, say, verdict
from bench.pg import scratch_schema
from bench.rawhttp import post
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
)
from bench.svgplot import chart

RATE = 20.0
WORKSPACES = 60
REPLICAS = 3
SAMPLE_S = 10.0
HEAVY_TODOS = 400  # the heavy users' lists stop growing here: large, not unbounded
MAX_CONNECTIONS = 60
RSS_GROWTH = 0.10
OUT = ROOT / "bench" / "out"


@dataclass
class Tally:
    """What the client saw, shared by the sender and the sampler (one event loop)."""

    acks: list[tuple[float, float]] = field(default_factory=list)  # (answered at, seconds)
    slack_sent: dict[str, float] = field(default_factory=dict)  # channel → monotonic
    rest_sent: dict[str, float] = field(default_factory=dict)  # run id → wall clock
    answers: list[tuple[str, float, float]] = field(default_factory=list)  # kind, at, seconds
    busy: int = 0
    no_ack: int = 0
    slow_acks: int = 0
    heavy: dict[str, int] = field(default_factory=dict)  # heavy user → todos asked for
    shown: Shown = field(default_factory=Shown)


def _requests(n: int, tally: Tally) -> tuple[str, str, str, str]:
    """The n-th request: (kind "slack"/"rest", team, user, text)."""
    team, user = teams(WORKSPACES)[n % WORKSPACES], f"W{n % 7:03d}"
    slot = n % 20
    if slot == 19:  # the large outputs: a heavy user grows a list, or lists it
        kind = "slack" if n % 40 == 19 else "rest"
        user, team = f"UHEAVY{kind}", "T000"
        if tally.heavy.get(user, 0) < HEAVY_TODOS and (n // 40) % 2 == 0:
            tally.heavy[user] = tally.heavy.get(user, 0) + 20
            return kind, team, user, "add todos: " + "; ".join(f"task {n}.{k}" for k in range(20))
        return kind, team, user, "list my todos"
    kind = "slack" if slot < 11 else "rest"
    text = ("add a todo to soak item {n}", "calculate {n}*3+1", "list my todos")[n % 3]
    return kind, team, user, text.format(n=n)


async def send(replicas: list[Server], fake: FakeSlack, n: int, tally: Tally) -> None:
    kind, team, user, text = _requests(n, tally)
    base = replicas[n % len(replicas)].url
    started = time.monotonic()
    try:
        if kind == "slack":
            channel = f"CS{n:07d}"
            body, headers = signed_command(text, team, channel, user, f"{n}.soak",
                                           fake.response_url(f"s{n}"))  # fmt: skip
            status, answer = await post(f"{base}/slack/events", body, headers)
            plain = status == 200 and not answer
            tally.busy += status == 200 and BUSY in answer
            if plain:
                tally.slack_sent[channel] = started
        else:
            auth = {"Authorization": f"Bearer {team}-{user}"}
            status, answer = await post(
                f"{base}/api/v1/runs", json_body={"text": text}, headers=auth
            )
            plain = status == 202
            if plain:
                tally.rest_sent[json.loads(answer)["id"]] = time.time() - (
                    time.monotonic() - started
                )
    except (OSError, TimeoutError):  # no answer within the timeout, a refused connection
        tally.no_ack += 1
        return
    seconds = time.monotonic() - started
    tally.acks.append((time.monotonic(), seconds))
    tally.slow_acks += seconds > ACK_LIMIT_S
    tally.no_ack += not plain and BUSY not in answer


def api_tokens() -> str:
    users = [f"W{n:03d}" for n in range(7)] + ["UHEAVYrest"]
    return ",".join(f"{team}-{user}:{team}:{user}" for team in teams(WORKSPACES) for user in users)


# ---------------------------------------------------------------- sampling

# a replica's connections: Crane's pool and LISTEN, the Slack rate budget's pool (by the table
# application_name, or the table it last touched), the job library's pool and LISTEN (by
# its application_name)
KINDS = ("crane", "budget", "jobs")


def _kind(application_name: str, query: str) -> str:
    if application_name == "crane-jobs":
        return "jobs"
    budget = application_name == "crane-slack-budget" or "slack_rate_budget" in query
    return "budget" if budget else "crane"


def pg_ports(pid: int) -> set[int]:
    """This process's local ports of its TCP connections to PostgreSQL (port 5432)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                parts = line.split()
                if parts[9] in inodes and int(parts[2].rsplit(":", 1)[1], 16) == 5432:
                    ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def sample(
    db: str, replicas: list[Server], fake: FakeSlack, tally: Tally, since: float
) -> dict[str, Any]:
    import psycopg

    row: dict[str, Any] = {"load1": os.getloadavg()[0]}
    tally.shown.add(fake.calls())
    with psycopg.connect(db, autocommit=True) as conn:
        for k, replica in enumerate(replicas, 1):
            pid = replica.process.pid
            row[f"rss_r{k}"] = rss_mib(pid)
            row[f"files_r{k}"] = len(os.listdir(f"/proc/{pid}/fd"))
            found = conn.execute(
                "SELECT application_name, query FROM pg_stat_activity WHERE client_port = ANY(%s)",
                (list(pg_ports(pid)),),
            ).fetchall()
            kinds = [_kind(name, query) for name, query in found]
            for kind in KINDS:
                row[f"{kind}_conn_r{k}"] = kinds.count(kind)
        jobs = dict(conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs "
                                 "GROUP BY status").fetchall())  # fmt: skip
        for status in ("todo", "doing", "succeeded", "failed"):
            row[f"jobs_{status}"] = jobs.get(status, 0)
        waiting = list(tally.rest_sent)
        done = conn.execute("SELECT id, finished_at FROM runs WHERE id = ANY(%s) AND "
                            "finished_at IS NOT NULL", (waiting,)).fetchall()  # fmt: skip
        intake = conn.execute("SELECT count(*) FROM intake").fetchone()
        runs = conn.execute("SELECT count(*) FROM runs WHERE status NOT IN "
                            "('completed', 'failed', 'cancelled')").fetchone()  # fmt: skip
    row["intake"] = intake[0] if intake else 0
    row["runs_unfinished"] = runs[0] if runs else 0
    for run_id, finished in done:
        finished_at = datetime.fromisoformat(finished.replace("Z", "+00:00")).timestamp()
        tally.answers.append(("rest", time.monotonic(), finished_at - tally.rest_sent.pop(run_id)))
    for channel, at in tally.shown.first_answer.items():
        if channel in tally.slack_sent:
            tally.answers.append(("slack", at, at - tally.slack_sent.pop(channel)))
    row["connections"] = sum(row[f"{p}_conn_r{k}"] for p in KINDS
                             for k in range(1, len(replicas) + 1))  # fmt: skip
    acks = [s for at, s in tally.acks if at >= since]
    row["requests"] = len(acks)
    row["ack_p50_ms"] = percentile(acks, 50) * 1000 if acks else None
    row["ack_p99_ms"] = percentile(acks, 99) * 1000 if acks else None
    for kind in ("slack", "rest"):
        answers = [s for k, at, s in tally.answers if k == kind and at >= since]
        row[f"{kind}_answer_p50_s"] = percentile(answers, 50) if answers else None
        row[f"{kind}_answer_p99_s"] = percentile(answers, 99) if answers else None
    row["slack_unanswered"], row["rest_unfinished"] = len(tally.slack_sent), len(tally.rest_sent)
    return row


# ---------------------------------------------------------------- the run


async def drive(
    db: str, replicas: list[Server], fake: FakeSlack, seconds: float, rate: float
) -> list[dict[str, Any]]:
    tally = Tally()
    rows: list[dict[str, Any]] = []
    start = time.monotonic()

    async def sampler(until: float, phase: str) -> None:
        since = time.monotonic()
        while time.monotonic() < until:
            await asyncio.sleep(SAMPLE_S)
            row = await asyncio.to_thread(sample, db, replicas, fake, tally, since)
            since = time.monotonic()
            row = {"minute": (since - start) / 60, "phase": phase, **row}
            rows.append(row)
            say(f"  {row['minute']:5.1f} min {phase:<5} load {row['load1']:4.1f}  RSS "
                + " ".join(f"{row[f'rss_r{k}']:.0f}" for k in range(1, len(replicas) + 1))
                + f" MiB  conns {row['connections']}  jobs todo {row['jobs_todo']} doing "
                f"{row['jobs_doing']}  ack p99 {row['ack_p99_ms'] or 0:.0f} ms  unanswered "
                f"{row['slack_unanswered']}+{row['rest_unfinished']}")  # fmt: skip
            if phase == "drain" and not _pending(row):
                return

    sampling = asyncio.create_task(sampler(start + seconds, "load"))
    tasks: set[asyncio.Task[None]] = set()
    n = 0
    while (elapsed := time.monotonic() - start) < seconds:
        while n < elapsed * rate:
            task = asyncio.create_task(send(replicas, fake, n, tally))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks)
    await sampling
    await sampler(time.monotonic() + 180, "drain")  # until nothing is pending, ≤ 3 min
    rows[-1]["sent"] = n
    rows[-1].update(busy=tally.busy, no_ack=tally.no_ack, slow_acks=tally.slow_acks,
                    once=sum(1 for c, a in tally.shown.answers.items() if a == 1),
                    twice=sum(1 for a in tally.shown.answers.values() if a > 1),
                    heavy_todos=max(tally.heavy.values(), default=0))  # fmt: skip
    return rows


def _pending(row: dict[str, Any]) -> int:
    return (row["jobs_todo"] + row["jobs_doing"] + row["slack_unanswered"]
            + row["rest_unfinished"] + row["intake"] + row["runs_unfinished"])  # fmt: skip


def judge(rows: list[dict[str, Any]], seconds: float, replicas: int) -> list[str]:
    load = [r for r in rows if r["phase"] == "load"]
    warm = min(5.0, seconds / 60 / 3)
    after = [r for r in load if r["minute"] >= warm] or load
    lines, ok = [], True
    for k in range(1, replicas + 1):
        base = statistics.median(r[f"rss_r{k}"] for r in after[:3])
        end = statistics.median(r[f"rss_r{k}"] for r in after[-3:])
        growth = end / base - 1
        ok &= growth < RSS_GROWTH
        mark = verdict(growth < RSS_GROWTH)
        lines.append(f"replica {k} RSS after warm-up ({warm:.1f} min): {base:.1f} → {end:.1f} "
                     f"MiB ({growth:+.1%}; pass < +{RSS_GROWTH:.0%}) {mark}")  # fmt: skip
    peak = max(r["connections"] for r in rows)
    each = [max(sum(r[f"{p}_conn_r{k}"] for p in KINDS) for r in rows)
            for k in range(1, replicas + 1)]  # fmt: skip
    kinds = ", ".join(
        f"{p} {max(max(r[f'{p}_conn_r{k}'] for r in rows) for k in range(1, replicas + 1))}"
        for p in KINDS
    )
    lines.append(f"peak connections {peak} (pass ≤ {MAX_CONNECTIONS}) "
                 f"{verdict(peak <= MAX_CONNECTIONS)}; per replica at most {each}; one "
                 f"replica's most by kind: {kinds}")  # fmt: skip
    last = rows[-1]
    pending = _pending(last)
    lines.append(f"pending at the end: {pending} (jobs todo {last['jobs_todo']}, doing "
                 f"{last['jobs_doing']}, Slack unanswered {last['slack_unanswered']}, REST "
                 f"unfinished {last['rest_unfinished']}, intake {last['intake']}, runs "
                 f"{last['runs_unfinished']}) "
                 f"{verdict(pending == 0)}")  # fmt: skip
    files = [max(r[f"files_r{k}"] for r in after) for k in range(1, replicas + 1)]
    lines.append(f"sent {last['sent']}: busy {last['busy']}, not acked {last['no_ack']}, acks "
                 f"over 3 s {last['slow_acks']}; Slack answered once {last['once']}, more than "
                 f"once {last['twice']}; open files at most {files}; heavy list "
                 f"{last['heavy_todos']} todos; load average {min(r['load1'] for r in load):.1f}"
                 f"–{max(r['load1'] for r in load):.1f}")  # fmt: skip
    ok &= peak <= MAX_CONNECTIONS and pending == 0
    lines.append(f"soak: {'PASS' if ok else 'FAIL'}")
    return lines


def plot(rows: list[dict[str, Any]], replicas: int, title: str) -> str:
    xs = [r["minute"] for r in rows]
    each = range(1, replicas + 1)

    def col(key: str) -> list[float | None]:
        return [r.get(key) for r in rows]

    return chart(title, xs, [
        ("RSS per replica (MiB)", [(f"replica {k}", col(f"rss_r{k}")) for k in each]),
        ("open files per replica", [(f"replica {k}", col(f"files_r{k}")) for k in each]),
        ("database connections (all replicas)", [("all", col("connections"))] + [
            (f"{kind}", [sum(r[f"{kind}_conn_r{k}"] for k in each) for r in rows])
            for kind in KINDS]),
        ("job queue", [("todo", col("jobs_todo")), ("doing", col("jobs_doing"))]),
        ("ack latency (ms)", [("p50", col("ack_p50_ms")), ("p99", col("ack_p99_ms"))]),
        ("answer latency (s)", [("Slack p50", col("slack_answer_p50_s")),
                                ("Slack p99", col("slack_answer_p99_s")),
                                ("REST p50", col("rest_answer_p50_s")),
                                ("REST p99", col("rest_answer_p99_s"))]),
        ("load average (1 min)", [("machine", col("load1"))]),
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=RATE, help="requests a second")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.rate <= 0:
        parser.error("--minutes and --rate must be positive")
    seconds = args.minutes * 60
    say(f"== Soak: {args.rate:g} requests/s (Slack and REST) over {WORKSPACES} workspaces, "
        f"{REPLICAS} replicas on PostgreSQL, {args.minutes:g} min ==")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="crane-soak-") as tmp, scratch_schema() as db:
        if db is None:
            return 1
        log_path = Path(tmp) / "servers.log"
        with log_path.open("wb") as log, contextlib.ExitStack() as stack:
            fake = FakeSlack(log)
            stack.callback(fake.close)
            install(db, teams(WORKSPACES))
            env = crane_env(db, fake.url, queue_limit=1000, CRANE_API_TOKENS=api_tokens())
            replicas = stack.enter_context(servers(env, REPLICAS, log))
            rows = asyncio.run(drive(db, replicas, fake, seconds, args.rate))
            lines = judge(rows, seconds, REPLICAS)
        errors = [line for line in log_path.read_text(errors="replace").splitlines()
                  if '"level": "error"' in line or "Traceback" in line]  # fmt: skip
    keys = list(dict.fromkeys(key for row in rows for key in row))
    csv_path = OUT / f"soak-{stamp}.csv"
    with csv_path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    svg_path = csv_path.with_suffix(".svg")
    title = f"Crane soak {stamp}: {args.rate:g}/s, {REPLICAS} replicas, {args.minutes:g} min"
    svg_path.write_text(plot(rows, REPLICAS, title))
    say(
        f"  servers' log: {len(errors)} error lines"
        + "".join(f"\n    {e[:300]}" for e in errors[:5])
    )
    for line in lines:
        say(f"  {line}")
    say(f"  wrote {csv_path.relative_to(ROOT)} and {svg_path.relative_to(ROOT)}")
    return 0 if lines[-1].endswith("PASS") else 1


if __name__ == "__main__":
    sys.exit(main())
