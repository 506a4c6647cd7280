"""Slack's rate limits, end to end: the real server (Bolt, worker threads, the paced slack_sdk
client) against the fake Web API enforcing Tier 3 on chat.update on a scaled clock — a
"minute" of MINUTE_S real seconds. Crane is given the same scaled budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.pacing import PacedWebClient, Pacer, workspace_of
from core.ratelimit import LocalBudget, limits
from tests.bot.conftest import CHANNEL, TOKEN, LiveServer, mention_event
from tests.fakes.slack_api import FakeSlack, Message
from tests.fakes.slack_limits import busiest, early_calls

TIER_3 = 50  # chat.update: calls a minute per workspace (Slack's Tier 3)
POSTS = 60  # chat.postMessage: about one a second
MINUTE_S = 2.0  # a scaled minute
SCALED = f"chat.update={TIER_3}/{MINUTE_S:g}s,chat.postMessage={POSTS}/{MINUTE_S:g}s"
CRANE_BURST = TIER_3 // 6  # core.ratelimit.BURST_SHARE of a minute's calls
RUNS, STEPS = 20, 10


def ten_todos(run: int) -> str:
    return "add todos: " + "; ".join(f"run {run} item {n}" for n in range(1, STEPS + 1))


def thread_of(fake: FakeSlack, ts: str) -> list[Message]:
    return [m for m in fake.messages(CHANNEL) if m.thread_ts == ts]


def shown_done(thread: list[Message]) -> bool:
    """Header ✅, the progress message with every step ✅, the answer: the run as it ended."""
    if len(thread) < 3:
        return False
    header, progress, answer = thread[0], thread[1], thread[-1]
    steps = json.dumps(progress.blocks, ensure_ascii=False)
    return (header.text.startswith("✅") and steps.count("✅") == STEPS
            and answer.text.startswith("Added"))  # fmt: skip


def wait_until(done: Callable[[], bool], within_s: float, state: Callable[[], object]) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, f"timed out: {state()}"
        time.sleep(0.05)


def test_twenty_ten_step_runs_in_one_workspace_keep_to_tier_3_and_every_message_ends_right(
    fake: FakeSlack, start_server: Callable[..., LiveServer]
) -> None:
    fake.limit("chat.update", TIER_3, minute_s=MINUTE_S)
    fake.limit("chat.postMessage", POSTS, minute_s=MINUTE_S)
    live = start_server(slack_rate_limits=SCALED, workers=RUNS, slack_streaming="off")
    mentions = [mention_event(ten_todos(run)) for run in range(RUNS)]
    for event in mentions:
        live.event(event)

    def unfinished() -> list[int]:
        return [n for n, e in enumerate(mentions) if not shown_done(thread_of(fake, e["ts"]))]

    wait_until(lambda: not unfinished(), 60, unfinished)
    live.settle()
    updates = fake.calls("chat.update")
    assert early_calls(updates) == []
    assert busiest(updates, MINUTE_S) <= TIER_3 + CRANE_BURST
    assert [c for c in updates if c.status == 429] == []  # kept to the budget: never refused
    assert [c for c in fake.calls("chat.postMessage") if c.status == 429] == []
    time.sleep(0.5)  # no edit was still queued: the threads are as they ended
    assert not unfinished()
    metrics = live.http.get("/metrics").text
    assert 'crane_slack_calls_total{method="chat.update"}' in metrics
    assert 'crane_slack_rate_limited_total{method="chat.update"}' not in metrics


def test_a_429_stops_only_its_workspace_and_method_until_retry_after_has_run_out(
    fake: FakeSlack,
) -> None:
    pacer = Pacer(LocalBudget(limits(None)))
    ours = PacedWebClient(token=TOKEN, base_url=fake.url, pacer=pacer)
    theirs = PacedWebClient(token="xoxb-other-workspace", base_url=fake.url, pacer=pacer)
    posted = ours.chat_postMessage(channel=CHANNEL, text="⏳")
    other = theirs.chat_postMessage(channel=CHANNEL, text="⏳")
    fake.fail("chat.update", retry_after=1)
    edit = threading.Thread(  # refused, then sent again
        target=lambda: ours.chat_update(channel=CHANNEL, ts=posted["ts"], text="✅")
    )
    edit.start()
    fake.wait_for("chat.update", predicate=lambda c: c.status == 429)
    theirs.chat_update(channel=CHANNEL, ts=other["ts"], text="✅")
    ours.chat_postMessage(channel=CHANNEL, text="the answer")
    edit.join(10)
    wait_until(lambda: fake.message(CHANNEL, posted["ts"]).text == "✅", 5,  # type: ignore[union-attr]
               lambda: fake.calls("chat.update"))  # fmt: skip
    refused, *after = fake.calls("chat.update")
    assert refused.status == 429 and refused.token == TOKEN
    retried = next(c for c in after if c.token == TOKEN)
    assert retried.at >= refused.at + 1  # Retry-After honoured …
    other_update = next(c for c in after if c.token != TOKEN)
    assert other_update.at < retried.at  # … by this workspace alone …
    answer = fake.calls("chat.postMessage")[-1]
    assert answer.at < retried.at  # … and for this method alone
    assert fake.message(CHANNEL, other["ts"]).text == "✅"  # type: ignore[union-attr]
    assert pacer.counts.totals()["rate_limited"] == {"chat.update": 1}


def test_a_busy_workspaces_step_edits_coalesce_and_a_second_workspace_is_not_slowed(
    fake: FakeSlack,
) -> None:
    fake.limit("chat.update", TIER_3, minute_s=MINUTE_S)
    budget = LocalBudget(limits(SCALED))
    reserved: list[tuple[str, float]] = []  # (workspace, the wait it was given)

    def reserve(workspace: str, method: str) -> float:
        wait = LocalBudget.reserve(budget, workspace, method)
        reserved.append((workspace, wait))
        return wait

    budget.reserve = reserve  # type: ignore[method-assign]
    pacer = Pacer(budget)
    busy = PacedWebClient(token=TOKEN, base_url=fake.url, pacer=pacer)
    quiet = PacedWebClient(token="xoxb-quiet", base_url=fake.url, pacer=pacer)
    busy_ts = [busy.chat_postMessage(channel=CHANNEL, text="◻️")["ts"] for _ in range(RUNS)]
    quiet_ts = quiet.chat_postMessage(channel=CHANNEL, text="◻️")["ts"]

    def run(client: PacedWebClient, ts: str) -> None:  # each step: ⏳ then ✅, as a run shows it
        for step in range(1, STEPS + 1):
            client.chat_update(channel=CHANNEL, ts=ts, text=f"⏳ {step}")
            client.chat_update(channel=CHANNEL, ts=ts, text=f"✅ {step}")

    runs = [threading.Thread(target=run, args=(busy, ts)) for ts in busy_ts]
    for thread in runs:
        thread.start()
    run(quiet, quiet_ts)
    for thread in runs:
        thread.join(10)

    def unfinished() -> list[str]:
        return [
            ts for ts in [*busy_ts, quiet_ts] if fake.message(CHANNEL, ts).text != f"✅ {STEPS}"
        ]  # type: ignore[union-attr]

    wait_until(lambda: not unfinished(), 20, unfinished)  # the latest state of every message
    updates = fake.calls("chat.update")
    assert [c for c in updates if c.status == 429] == []
    edits = (RUNS + 1) * STEPS * 2
    assert pacer.counts.totals()["coalesced"]["chat.update"] == edits - len(updates)
    busy_calls = [c for c in updates if c.token == TOKEN]
    assert len(busy_calls) < RUNS * STEPS  # most of the busy workspace's edits were superseded
    # the quiet workspace's k-th edit waited at most for its own k slots, never behind the
    # busy workspace's queue
    interval = limits(SCALED)["chat.update"].interval
    quiet_waits = [wait for key, wait in reserved if key == workspace_of("xoxb-quiet")]
    assert all(wait <= k * interval for k, wait in enumerate(quiet_waits, start=1)), quiet_waits


def test_posts_in_a_busy_channel_do_not_hold_back_another_channel_of_the_workspace(
    fake: FakeSlack,
) -> None:
    waits: list[float] = []  # what each call was told to wait (nothing sleeps; time stands)
    pacer = Pacer(LocalBudget(limits(SCALED), clock=lambda: 0.0), sleep=waits.append)
    client = PacedWebClient(token=TOKEN, base_url=fake.url, pacer=pacer)
    for n in range(POSTS // 2):  # answers of many runs at once in one channel
        client.chat_postMessage(channel="C-BUSY", text=f"answer {n}")
    assert len(waits) == POSTS // 2 - POSTS // 6  # past its burst, each waits its slot
    busy_waits = len(waits)

    client.chat_postMessage(channel=CHANNEL, text="the quiet channel's answer")

    assert len(waits) == busy_waits  # Slack rates posts per channel: this one did not queue
    assert fake.calls("chat.postMessage")[-1].params["channel"] == CHANNEL


def test_serve_refuses_a_malformed_rate_limit_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "CRANE_DB": str(tmp_path / "crane.db"), "PORT": "0",
           "CRANE_SLACK_RATE_LIMITS": "chat.update=50/min,chat.postMessage=fast"}  # fmt: skip
    crane = str(Path(sys.executable).parent / "crane")  # the installed console script
    done = subprocess.run([crane, "serve"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("crane: CRANE_SLACK_RATE_LIMITS: 'chat.postMessage=fast' is not")
