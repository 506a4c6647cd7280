"""Slack rate limits: a burst of RUNS concurrent ten-step runs in one workspace, shown in Slack
by the real `ThreadProgress` (header, grouped progress message, answer) against the fake Web
API enforcing Slack's limits on a scaled clock (a minute lasts MINUTE_S s): Tier 3 on
chat.update, about one a second on chat.postMessage.

  before: the client Crane had — slack_sdk's own 429 retry (two retries, each run alone)
  after:  `bot.pacing.PacedWebClient` — one budget per workspace and method, coalesced edits

Both in one run, alternating. Reported per side: Web API calls per run (429s included), the
429s, the threads that did not end as the run did (a run whose edit was refused three times
leaves its thread wrong), and the seconds from the burst's start to the last answer, with
every thread shown as it ended. Each step takes STEP_S, like a quick tool.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bench import Result, header, median, say
from bot.pacing import PacedWebClient, Pacer
from bot.progress import Target, ThreadProgress
from core.plan import RunEvent
from core.ratelimit import LocalBudget, limits
from tests.fakes.slack_api import FakeSlack

TOKEN = "xoxb-bench"
CHANNEL = "C111"
TIER_3, POSTS = 50, 60  # a minute's chat.update and chat.postMessage calls
MINUTE_S = 6.0
SCALED = f"chat.update={TIER_3}/{MINUTE_S:g}s,chat.postMessage={POSTS}/{MINUTE_S:g}s"
STEPS, STEP_S = 10, 0.15
QUIET_S = 2.0  # no call for this long after the runs ended: nothing more is coming


def _steps(status: str) -> list[dict[str, Any]]:
    return [{"index": n, "tool": "add_todo", "args": {"title": f"item {n}"}, "status": status,
             "output": f"Added todo {n}" if status == "completed" else None}
            for n in range(1, STEPS + 1)]  # fmt: skip


def _run(client: WebClient, run: int, user_ts: str) -> None:
    """One run's events, as the orchestrator emits them, shown by ThreadProgress."""
    target = Target(CHANNEL, user_ts, "W111", "T111", f"add todos: run {run}")
    progress = ThreadProgress(client, target)
    seq = itertools.count(1)

    def say_event(kind: str, data: dict[str, Any]) -> None:
        progress(RunEvent(run_id=f"run-{run}", seq=next(seq), type=kind, data=data,
                          created_at="2026-01-01T00:00:00Z"))  # fmt: skip

    try:
        say_event("run.started", {"run": {"steps": _steps("pending")}})
        for step in _steps("completed"):
            say_event("step.started", {"step": step | {"status": "running", "output": None}})
            time.sleep(STEP_S)
            say_event("step.finished", {"step": step})
        say_event("run.finished", {"status": "completed", "answer": f"Added {STEPS} todos",
                                   "steps": _steps("completed")})  # fmt: skip
    except Exception:  # a refused call ends what this run shows, as it would in Crane
        pass


def _ended_right(fake: FakeSlack, user_ts: str) -> bool:
    thread = [m for m in fake.messages(CHANNEL) if m.thread_ts == user_ts]
    if len(thread) < 3:
        return False
    progress = str(thread[1].blocks)
    return thread[0].text.startswith("✅") and progress.count("✅") == STEPS


def _burst(runs: int, make_client: Callable[[FakeSlack], WebClient]) -> dict[str, float]:
    with FakeSlack() as fake:
        fake.limit("chat.update", TIER_3, MINUTE_S)
        fake.limit("chat.postMessage", POSTS, MINUTE_S)
        client = make_client(fake)
        threads_ts = [f"1800000000.{n:06d}" for n in range(1, runs + 1)]
        started = time.monotonic()
        workers = [threading.Thread(target=_run, args=(client, n, ts))
                   for n, ts in enumerate(threads_ts)]  # fmt: skip
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        # deferred edits may still be on their way: wait for them, or for Slack to go quiet
        while not all(_ended_right(fake, ts) for ts in threads_ts):
            if time.monotonic() - max(c.at for c in fake.calls()) > QUIET_S:
                break
            time.sleep(0.02)
        calls = fake.calls()
        # the last answer, or the last edit that landed after it: the burst as users see it
        last = max(c.at for c in calls if c.status == 200)
        return {
            "calls_per_run": len(calls) / runs,
            "rate_limited": sum(1 for c in calls if c.status == 429),
            "wrong": sum(1 for ts in threads_ts if not _ended_right(fake, ts)),
            "seconds": last - started,
            "coalesced_per_run": _coalesced(client) / runs,
        }


def _coalesced(client: WebClient) -> int:
    if not isinstance(client, PacedWebClient):
        return 0  # the old client sent every edit
    return client.pacer.counts.totals()["coalesced"].get("chat.update", 0)


def _before(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.url, timeout=10,
                     retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])  # fmt: skip


def _after(fake: FakeSlack) -> WebClient:
    return PacedWebClient(token=TOKEN, base_url=fake.url, timeout=10,
                          pacer=Pacer(LocalBudget(limits(SCALED))))  # fmt: skip


def run(quick: bool = False) -> Result:
    runs, rounds = (6, 1) if quick else (20, 3)
    header(f"Slack rate limits: {runs} concurrent {STEPS}-step runs in one workspace "
           f"(Tier 3 chat.update, 1/s chat.postMessage; a minute = {MINUTE_S:g} s)")  # fmt: skip
    found: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for n in range(rounds):
        for side in ("before", "after") if n % 2 == 0 else ("after", "before"):
            figures = _burst(runs, _before if side == "before" else _after)
            found[side].append(figures)
            say(f"  round {n + 1} {side:<6} calls/run {figures['calls_per_run']:.1f}  "
                f"429s {figures['rate_limited']:.0f}  threads wrong {figures['wrong']:.0f}  "
                f"last answer {figures['seconds']:.2f} s")  # fmt: skip
    result: Result = []
    for key, label, unit in (("calls_per_run", "Web API calls per run", ""),
                             ("coalesced_per_run", "edits coalesced per run", ""),
                             ("rate_limited", "429s per burst", ""),
                             ("wrong", "threads not ending as their run", ""),
                             ("seconds", "time to the last answer", " s")):  # fmt: skip
        before = median([f[key] for f in found["before"]])
        after = median([f[key] for f in found["after"]])
        say(f"  {label}: {before:.2f}{unit} → {after:.2f}{unit}")
        result.append((f"slack_rate {label}", f"{before:.2f}{unit} → {after:.2f}{unit}"))
    return result
