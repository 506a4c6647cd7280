"""Usage limits on both backends: run limits refuse before anything is stored and reset at the
UTC minute or midnight (the clock is injected); two processes racing at the boundary never get
one run over; replays and clicks are never counted; spending limits switch to the pattern
planner and say which limit; usage per user and day is what `crane usage` shows."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import LimitReached
from core.limits import Limits
from core.orchestrator import Orchestrator
from core.plan import History, Plan, PlannedStep, Scope, Usage
from core.planners.pattern import plan as pattern_plan
from core.runtime import Crane
from core.store import Store

ALICE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")
BOB = Scope(enterprise_id="E1", team_id="T1", user_id="bob")
CAROL = Scope(enterprise_id="E1", team_id="T2", user_id="carol")
CALCULATE = Plan(steps=[PlannedStep(tool="calculator", args={"expression": "2+3"})])


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 7, 23, 59, 10, tzinfo=UTC))


@pytest.fixture
def store(database: str, clock: Clock) -> Iterator[Store]:
    opened = Store(database, clock=clock)
    yield opened
    opened.close()


def runtime(store: Store, limits: Limits, planner: object = pattern_plan) -> Crane:
    return Crane(store, planner, Orchestrator(store), limits=limits)  # type: ignore[arg-type]


def ask(crane: Crane, scope: Scope, text: str = "calculate 2+3") -> str:
    text, plan = crane.plan(scope, text)
    return crane.start(scope, text, plan).id


def test_a_run_over_the_daily_limit_is_refused_names_the_limit_and_stores_nothing(
    store: Store,
) -> None:
    crane = runtime(store, Limits(runs_per_day=2))
    refusals: list[LimitReached] = []
    crane.refusals.append(refusals.append)
    ask(crane, ALICE), ask(crane, ALICE)

    with pytest.raises(LimitReached) as refused:
        ask(crane, ALICE)

    assert refused.value.name == "CRANE_LIMIT_RUNS_PER_DAY"
    assert refused.value.retry_after_s == 50  # 23:59:10 → midnight UTC
    assert "CRANE_LIMIT_RUNS_PER_DAY" in str(refused.value) and "50 s" in str(refused.value)
    assert len(crane.reads.runs(ALICE)) == 2
    assert [r.name for r in refusals] == ["CRANE_LIMIT_RUNS_PER_DAY"]
    ask(crane, BOB)  # per user: Bob's day is his own


def test_the_daily_limit_resets_at_utc_midnight(store: Store, clock: Clock) -> None:
    crane = runtime(store, Limits(runs_per_day=1))
    ask(crane, ALICE)
    with pytest.raises(LimitReached):
        ask(crane, ALICE)

    clock.now += timedelta(seconds=50)  # 00:00:00 UTC
    ask(crane, ALICE)

    assert [row["runs"] for row in crane.reads.usage(2, "alice")] == [1, 1]


def test_the_minute_limit_resets_at_the_next_minute(store: Store, clock: Clock) -> None:
    clock.now = datetime(2026, 12, 7, 10, 0, 45, tzinfo=UTC)
    crane = runtime(store, Limits(runs_per_minute=2))
    ask(crane, ALICE), ask(crane, ALICE)
    with pytest.raises(LimitReached) as refused:
        ask(crane, ALICE)
    assert (refused.value.name, refused.value.retry_after_s) == ("CRANE_LIMIT_RUNS_PER_MINUTE", 15)

    clock.now += timedelta(seconds=15)
    ask(crane, ALICE)


def test_a_race_lost_after_planning_is_refused_when_the_run_is_stored(store: Store) -> None:
    """Planned while there was room; another request took the last run before it was stored."""
    crane = runtime(store, Limits(runs_per_day=1))
    text, plan = crane.plan(ALICE, "calculate 2+3")
    ask(crane, ALICE)

    with pytest.raises(LimitReached):
        crane.start(ALICE, text, plan)
    assert len(crane.reads.runs(ALICE)) == 1


def test_replays_and_clicks_are_never_counted_or_refused(store: Store) -> None:
    crane = runtime(store, Limits(runs_per_day=1))
    first = crane.start(ALICE, "calculate 2+3", CALCULATE, idempotency=("k1", "h"))

    replayed = crane.start(ALICE, "calculate 2+3", CALCULATE, idempotency=("k1", "h"))
    clicked = crane.start(ALICE, "complete todo 1", CALCULATE, counted=False)

    assert replayed.id == first.id
    assert clicked.id != first.id
    assert crane.reads.today(ALICE)["runs"] == 1


def _start_runs(database: str, user: str, tries: int, start: object) -> int:
    """In a child process: try `tries` runs for one user at once with the others; accepted."""
    store = Store(database)
    crane = runtime(store, Limits(runs_per_day=5, runs_per_minute=1000))
    start.wait()  # type: ignore[attr-defined]
    accepted = 0
    for _ in range(tries):
        try:
            crane.start(Scope(enterprise_id="E1", team_id="T1", user_id=user), "x", CALCULATE)
            accepted += 1
        except LimitReached:
            pass
    store.close()
    return accepted


def test_two_processes_racing_at_the_boundary_never_get_one_run_over(database: str) -> None:
    Store(database).close()  # migrated before the race
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(2)
        with context.Pool(2) as pool:
            accepted = pool.starmap(_start_runs, [(database, "alice", 4, start)] * 2)

    assert sum(accepted) == 5
    store = Store(database)
    try:
        assert len(store.list_runs(ALICE, limit=100)) == 5
        assert store.runs_counted(ALICE).day == 5
    finally:
        store.close()


class SpendingPlanner:
    """Stands in for the LLM planner: its plans cost tokens and money; records its calls."""

    spends = True

    def __init__(self, tokens: int, cost: float) -> None:
        self.tokens, self.cost, self.calls = tokens, cost, 0

    def __call__(self, text: str, history: History) -> Plan:
        self.calls += 1
        usage = Usage(prompt_tokens=self.tokens, completion_tokens=0, model="m", cost_usd=self.cost)
        return pattern_plan(text, history).model_copy(update={"planner": "llm", "usage": usage})


def test_past_the_token_limit_the_pattern_planner_plans_and_says_why(store: Store) -> None:
    llm = SpendingPlanner(tokens=600, cost=0.0)
    crane = runtime(store, Limits(tokens_per_day=1000), llm)
    ask(crane, ALICE), ask(crane, ALICE)  # the second call crosses the limit and finishes

    third = crane.reads.run(ask(crane, ALICE))

    assert llm.calls == 2
    assert third.planner == "pattern" and third.fallback_reason
    assert "CRANE_LIMIT_TOKENS_PER_DAY" in third.fallback_reason
    assert crane.reads.run(ask(crane, BOB)).planner == "llm"  # tokens are per user


def test_past_the_cost_limit_the_whole_workspace_plans_without_the_llm(store: Store) -> None:
    llm = SpendingPlanner(tokens=10, cost=0.6)
    crane = runtime(store, Limits(cost_per_day_usd=1.0), llm)
    ask(crane, ALICE), ask(crane, BOB)

    bobs = crane.reads.run(ask(crane, BOB))
    carols = crane.reads.run(ask(crane, CAROL))  # another workspace

    assert bobs.planner == "pattern" and "CRANE_LIMIT_COST_PER_DAY_USD" in (
        bobs.fallback_reason or ""
    )
    assert carols.planner == "llm"


def test_usage_is_per_user_per_day_with_the_run_records_names(store: Store) -> None:
    crane = runtime(store, Limits(), SpendingPlanner(tokens=100, cost=0.25))
    ask(crane, ALICE, "calculate 2+3 and add a todo to buy milk")
    ask(crane, ALICE), ask(crane, BOB)

    rows = crane.reads.usage(7, team_id="T1")
    workspace = crane.reads.usage(7, team_id="T1", enterprise_id="E1", by_user=False)

    assert rows == [
        {"date": "2026-12-07", "user": "alice", "runs": 2, "steps": 3, "prompt_tokens": 200,
         "completion_tokens": 0, "cached_tokens": 0, "cost_usd": 0.5},
        {"date": "2026-12-07", "user": "bob", "runs": 1, "steps": 1, "prompt_tokens": 100,
         "completion_tokens": 0, "cached_tokens": 0, "cost_usd": 0.25},
    ]  # fmt: skip
    assert [(w["user"], w["runs"], w["cost_usd"]) for w in workspace] == [(None, 3, 0.75)]
    assert crane.reads.usage(7, team_id="T2") == []
