"""The Slack rate budget (core.ratelimit), Slack-free: parsing CRANE_SLACK_RATE_LIMITS, the
pace of reservations on a fake clock, 429s, and — in PostgreSQL — one budget shared by two
processes' budgets on one database. Waits are counted per window, never timed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from core.errors import InvalidInput
from core.ratelimit import (
    KEPT_KEYS,
    Limit,
    LocalBudget,
    Pace,
    limits,
    parse_limits,
    rate_limited,
    reserve,
)
from core.settings import Settings

TIER_3 = Limit(50, 60.0)


def send_times(limit: Limit, calls: int, pace: Pace | None = None, now: float = 0.0) -> list[float]:
    """When each of `calls` reservations made at `now` may be sent."""
    pace = pace or Pace()
    times = []
    for _ in range(calls):
        pace, wait = reserve(pace, now, limit)
        times.append(now + wait)
    return times


def busiest(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_overrides_replace_the_defaults_from_slacks_tiers() -> None:
    found = limits("chat.update=20/min, chat.postMessage=2/s, views.publish=50/2.5s")
    assert found["chat.update"] == Limit(20, 60.0)
    assert found["chat.postMessage"] == Limit(2, 1.0)
    assert found["views.publish"] == Limit(50, 2.5)  # a scaled minute
    assert limits(None)["chat.update"] == TIER_3  # Tier 3
    assert limits(None)["chat.startStream"] == Limit(20, 60.0)  # Tier 2
    assert limits(None)["chat.appendStream"] == Limit(100, 60.0)  # Tier 4


@pytest.mark.parametrize(
    "bad", ["chat.update", "chat.update=50", "chat.update=fast/min", "chat.update=0/min",
            "chat.update=50/fortnight", "=50/min", "chat.update=50/min;x=1/s",
            "chat.update=50/0s", "chat.update=50/-1min"],
)  # fmt: skip
def test_a_malformed_override_is_refused_naming_the_bad_item(bad: str) -> None:
    with pytest.raises(InvalidInput, match=r"CRANE_SLACK_RATE_LIMITS: .*e\.g\. chat\.update="):
        parse_limits(f"chat.postMessage=60/min,{bad}")
    with pytest.raises(ValidationError, match="CRANE_SLACK_RATE_LIMITS"):
        Settings(slack_rate_limits=bad)


def test_a_burst_of_calls_keeps_to_the_tier_in_every_period() -> None:
    times = send_times(TIER_3, 200)
    assert sum(1 for t in times if t == 0) == TIER_3.burst  # a short burst goes at once
    assert busiest(times, TIER_3.period) <= TIER_3.count + TIER_3.burst
    assert max(times) == pytest.approx((200 - TIER_3.burst) * TIER_3.interval)  # then spaced


def test_a_429_blocks_until_retry_after_and_slows_the_key_until_a_quiet_period() -> None:
    pace = rate_limited(Pace(), now=0.0, retry_after=5.0, limit=TIER_3)
    times = send_times(TIER_3, 20, pace, now=0.0)
    assert min(times) >= 5.0  # nothing before Retry-After has run out
    assert busiest(times, TIER_3.period) <= TIER_3.count // 2 + TIER_3.burst  # halved
    again = rate_limited(pace, now=1.0, retry_after=1.0, limit=TIER_3)
    assert again.slowdown == 4  # a 429 within a period of the last one halves it again
    later = send_times(TIER_3, 20, again, now=1.0 + TIER_3.period)  # a quiet period passed
    assert busiest(later, TIER_3.period) == 20  # the whole budget is back


@pytest.fixture(params=["process", "postgresql"])
def two_processes(request: pytest.FixtureRequest) -> Iterator[tuple[object, object]]:
    """Two processes' budgets for one workspace's calls: one shared object in-process; in
    PostgreSQL two PgBudgets (two replicas) on one database."""
    small = {"chat.update": Limit(10, 60.0)}
    if request.param == "process":
        budget = LocalBudget(small)
        yield budget, budget
        return
    from core.store import upgrade
    from core.store.ratebudget import PgBudget
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        upgrade(url)
        first, second = PgBudget(url, small), PgBudget(url, small)
        try:
            yield first, second
        finally:
            first.close()
            second.close()


def test_every_process_spends_one_budget_per_workspace_and_method(
    two_processes: tuple[LocalBudget, LocalBudget],
) -> None:
    first, second = two_processes
    waits = [(first if n % 2 else second).reserve("T1", "chat.update") for n in range(12)]
    assert sum(1 for wait in waits if wait <= 0) == Limit(10, 60.0).burst  # not one burst each
    assert sorted(waits) == pytest.approx(waits, abs=0.5)  # one queue, in order
    assert second.reserve("T2", "chat.update") <= 0  # another workspace: its own budget
    assert second.reserve("T1", "chat.postMessage") <= 0  # another method: no budget set
    first.rate_limited("T1", "chat.postMessage", 30)
    assert second.blocked_for("T1", "chat.postMessage") > 25  # every process honours it
    assert second.blocked_for("T1", "chat.update") == 0
    assert second.reserve("T1", "chat.postMessage") > 25


def test_a_process_meeting_many_channels_forgets_only_keys_at_rest() -> None:
    clock = [0.0]
    budget = LocalBudget({"chat.postMessage": Limit(60, 60.0)}, clock=lambda: clock[0])
    budget.rate_limited("T1/C-blocked", "chat.postMessage", 600)
    for channel in range(KEPT_KEYS + 10):  # each channel posts once, then goes quiet
        budget.reserve(f"T1/C{channel}", "chat.postMessage")
        clock[0] += 0.01
    assert len(budget._paces) <= KEPT_KEYS + 1  # the quiet ones were forgotten
    assert budget.blocked_for("T1/C-blocked", "chat.postMessage") > 500  # a 429 was not


def test_rows_at_rest_are_deleted_from_the_shared_budget_and_the_rest_kept() -> None:
    from core.store import upgrade
    from core.store.ratebudget import PgBudget
    from tests.pg import fresh_schema

    small = {"chat.update": Limit(10, 60.0), "views.publish": Limit(1000, 1.0)}
    with fresh_schema() as url:
        upgrade(url)
        first, second = PgBudget(url, small), PgBudget(url, small)
        try:
            for _ in range(small["chat.update"].burst + 3):  # past the burst: slots taken ahead
                first.reserve("T-busy", "chat.update")
            first.rate_limited("T-blocked", "chat.update", 600)
            first.reserve("T-quiet", "views.publish")  # a slot of 1 ms
            time.sleep(0.05)  # long past: that row is at rest
            assert second.forget_rested() == 1  # only the quiet workspace's row
            assert second.blocked_for("T-blocked", "chat.update") > 500
            assert second.reserve("T-busy", "chat.update") > 0  # still waits its turn
        finally:
            first.close()
            second.close()


def test_the_budgets_connections_are_named_for_whoever_sizes_the_database() -> None:
    """An operator counting a replica's connections (README: Connections per replica) tells
    the rate budget's small pool apart from Crane's own and the job library's."""
    import psycopg

    from core.store import upgrade
    from core.store.ratebudget import PgBudget
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        upgrade(url)
        budget = PgBudget(url, {"chat.update": Limit(10, 60.0)})
        try:
            budget.reserve("T1", "chat.update")
            with psycopg.connect(url) as conn:
                names = [row[0] for row in conn.execute(
                    "SELECT application_name FROM pg_stat_activity WHERE datname = "
                    "current_database()").fetchall()]  # fmt: skip
        finally:
            budget.close()
    assert "crane-slack-budget" in names
