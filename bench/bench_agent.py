"""Slack's agent surface: Web API calls for a 10-step run in a channel thread, streamed as a
task timeline vs updated in place (one run of each, side by side), and the time from Slack's
Stop (`agent_session_stopped`) to the run `cancelled`, p50/p95, in one process (the real server
and Bolt app against the fake Web API; the replica case is covered by the tests, not timed)."""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import Result, header, percentile, say

TEN_STEPS = "add todos: " + "; ".join(f"item {n}" for n in range(1, 11))


def _calls_for_a_run(streaming: str) -> Counter[str]:
    from tests.bot.conftest import _serve, mention_event, settings_for
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        settings = settings_for(fake, Path(folder), slack_streaming=streaming)
        live, running = _serve(settings, fake)
        try:
            live.event(mention_event(TEN_STEPS))
            live.settle(60)
            return Counter(call.method for call in fake.calls())
        finally:
            running.uv.should_exit = True
            running.thread.join(10)


def _stop_latencies(rounds: int) -> list[float]:
    """Seconds from posting Slack's Stop to the run stored `cancelled`."""
    from core.plan import RunStatus
    from tests.bot.conftest import _serve, mention_event, new_ts, settings_for
    from tests.fakes.signing import load_payload
    from tests.fakes.slack_api import FakeSlack

    took = []
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        live, running = _serve(settings_for(fake, Path(folder), slack_streaming="dm"), fake)
        fake.delay("chat.postMessage", 0.3)  # each step's message: the run lasts seconds
        try:
            for _ in range(rounds):
                root = new_ts()
                live.event(mention_event(TEN_STEPS, ts=root))
                while not [r for r in live.runs() if r.status is RunStatus.running]:
                    time.sleep(0.01)
                stop = load_payload("agent_session_stopped") | {
                    "user": "W111", "channel": "C111", "thread_ts": root}  # fmt: skip
                started = time.perf_counter()
                live.event(stop)
                while not [r for r in live.runs() if r.status is RunStatus.cancelled
                           and r.conversation == f"C111:{root}"]:  # fmt: skip
                    time.sleep(0.005)
                took.append(time.perf_counter() - started)
                live.settle(60)
        finally:
            running.uv.should_exit = True
            running.thread.join(10)
    return took


def run(quick: bool = False) -> Result:
    header("Slack agent surface: calls per 10-step channel run, Stop → cancelled")
    streamed, updated = _calls_for_a_run("auto"), _calls_for_a_run("dm")
    for name, calls in (("streamed", streamed), ("updated in place", updated)):
        say(f"{name}: {sum(calls.values())} Web API calls — {dict(sorted(calls.items()))}")
    took = _stop_latencies(3 if quick else 10)
    p50, p95 = percentile(took, 50) * 1000, percentile(took, 95) * 1000
    say(f"agent_session_stopped → cancelled: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
        f"({len(took)} stops; each stops after the step in flight)")  # fmt: skip
    return [
        ("agent calls per 10-step run, streamed", str(sum(streamed.values()))),
        ("agent calls per 10-step run, updated", str(sum(updated.values()))),
        ("agent stop → cancelled p50/p95", f"{p50:.0f} / {p95:.0f} ms"),
    ]
