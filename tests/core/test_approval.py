"""Approval before destructive steps, Stop, expiry and feedback — in core, with a real store
(each test once on SQLite and once on PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.approval import Outcome
from core.orchestrator import Orchestrator
from core.plan import Plan, PlannedStep, Run, RunEvent, RunStatus, Scope, ToolResult
from core.runtime import Crane
from core.store import Store
from core.tool import Tool, ToolContext
from core.tools import REGISTRY
from core.tools.todos import ListTodosInput

SCOPE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")
TTL = 3600


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database: str, clock: Clock) -> Iterator[Store]:
    opened = Store(database, clock=clock)
    yield opened
    opened.close()


def make_crane(store: Store, tools: dict[str, Tool] | None = None) -> Crane:
    orchestrator = Orchestrator(store, tools=tools, retry_base_s=0, approval_ttl_s=TTL)
    return Crane(store, lambda text, history: Plan(), orchestrator)


@pytest.fixture
def crane(store: Store) -> Crane:
    return make_crane(store)


def start(crane: Crane, *steps: tuple[str, dict[str, Any]], approval: bool = True) -> Run:
    plan = Plan(steps=[PlannedStep(tool=tool, args=args) for tool, args in steps])
    return crane.start(SCOPE, "do it", plan, approval=approval)


def add_then_delete(crane: Crane, events: list[RunEvent]) -> Run:
    """add "buy milk", delete $1 (a reference, resolved before the question), list."""
    run = start(crane, ("add_todo", {"title": "buy milk"}), ("delete_todo", {"number": "$1"}),
                ("list_todos", {}))  # fmt: skip
    return crane.execute(run.id, on_event=events.append)


def statuses(run: Run) -> list[str]:
    return [step.status.value for step in run.steps]


def test_a_run_pauses_before_a_destructive_step_with_its_reference_resolved(
    crane: Crane, store: Store
) -> None:
    events: list[RunEvent] = []
    run = add_then_delete(crane, events)

    assert run.status is RunStatus.awaiting_approval
    assert statuses(store.get_run(run.id)) == ["completed", "pending", "pending"]
    assert store.get_run(run.id).steps[1].args == {"number": 1}  # "$1" shown as the todo
    asked = events[-1]
    assert asked.type == "run.awaiting_approval"
    assert asked.data["question"] == "Delete todo #1?"  # no title: others may read it
    assert "buy milk" in asked.data["detail"]
    assert asked.data["step"]["index"] == 2 and asked.data["step"]["status"] == "pending"
    assert [todo.title for todo in store.list_todos(SCOPE)] == ["buy milk"]
    assert store.unfinished_runs() == []  # holds nothing: recovery will never resume it


def test_approving_runs_the_step_and_the_rest_exactly_once(crane: Crane, store: Store) -> None:
    run = add_then_delete(crane, [])
    decision = crane.approve(run.id, "alice")
    assert decision.outcome is Outcome.approved and decision.index == 2

    events: list[RunEvent] = []
    done = crane.execute(run.id, on_event=events.append)
    assert done.status is RunStatus.completed
    assert statuses(done) == ["completed", "completed", "completed"]
    assert store.list_todos(SCOPE) == []
    assert "run.started" not in [event.type for event in events]  # the same run, going on
    assert crane.approve(run.id, "alice").outcome is Outcome.stale  # a second click: no effect


def test_cancelling_skips_that_step_and_the_rest_and_keeps_the_todo(
    crane: Crane, store: Store
) -> None:
    run = add_then_delete(crane, [])
    finished: list[RunEvent] = []
    crane.orchestrator.subscribe(finished.append)
    decision = crane.cancel(run.id, "alice", index=2)

    assert decision.outcome is Outcome.cancelled
    stored = store.get_run(run.id)
    assert stored.status is RunStatus.cancelled and stored.finished_at is not None
    assert statuses(stored) == ["completed", "skipped", "skipped"]
    assert "Cancelled before step 2 (delete_todo)" in (stored.answer or "")
    assert [event.type for event in finished] == ["run.finished"]
    assert finished[0].data["status"] == "cancelled"
    assert [todo.title for todo in store.list_todos(SCOPE)] == ["buy milk"]
    assert crane.approve(run.id, "alice").outcome is Outcome.stale
    assert crane.execute(run.id).status is RunStatus.cancelled  # final: never runs again


def test_an_unanswered_question_expires_after_the_ttl(
    crane: Crane, store: Store, clock: Clock
) -> None:
    run = add_then_delete(crane, [])
    clock.now += timedelta(seconds=TTL - 1)
    assert crane.expire_questions() == []
    clock.now += timedelta(seconds=1)
    (expired,) = crane.expire_questions()

    assert expired.outcome is Outcome.expired and expired.run.id == run.id
    assert store.get_run(run.id).status is RunStatus.cancelled
    later = crane.approve(run.id, "alice")
    assert later.outcome is Outcome.expired  # a click after expiry: said so, nothing runs
    assert store.get_run(run.id).status is RunStatus.cancelled
    assert len(store.list_todos(SCOPE)) == 1


def test_a_click_after_the_ttl_but_before_the_sweep_expires_the_question(
    crane: Crane, store: Store, clock: Clock
) -> None:
    run = add_then_delete(crane, [])
    clock.now += timedelta(seconds=TTL + 5)
    assert crane.approve(run.id, "alice").outcome is Outcome.expired
    assert store.get_run(run.id).status is RunStatus.cancelled
    assert len(store.list_todos(SCOPE)) == 1


def test_of_concurrent_answers_exactly_one_counts(crane: Crane, store: Store) -> None:
    run = add_then_delete(crane, [])
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(6)

    def click(approving: bool) -> None:
        barrier.wait()
        decide = crane.approve if approving else crane.cancel
        outcomes.append(decide(run.id, "alice", 2).outcome)

    threads = [threading.Thread(target=click, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    decided = [o for o in outcomes if o is not Outcome.stale]
    assert len(decided) == 1 and outcomes.count(Outcome.stale) == 5
    stored = store.get_run(run.id)
    assert stored.status.value == {"approved": "pending", "cancelled": "cancelled"}[decided[0]]


def test_a_stale_question_cannot_be_answered(crane: Crane) -> None:
    run = add_then_delete(crane, [])
    assert crane.approve(run.id, "alice", index=3).outcome is Outcome.stale


def test_without_approval_the_plan_runs_straight_through(crane: Crane, store: Store) -> None:
    run = start(crane, ("add_todo", {"title": "x"}), ("delete_todo", {"number": "$1"}),
                approval=False)  # fmt: skip
    assert crane.execute(run.id).status is RunStatus.completed
    assert store.list_todos(SCOPE) == []


def test_deleting_a_missing_todo_fails_at_once_without_asking(crane: Crane) -> None:
    run = crane.execute(start(crane, ("delete_todo", {"number": 9})).id)
    assert run.status is RunStatus.failed
    assert "todo #9 not found" in (run.steps[0].error or "")


def test_an_approved_run_goes_on_in_another_process_after_a_restart(
    crane: Crane, store: Store, database: str, clock: Clock
) -> None:
    run = add_then_delete(crane, [])
    store.close()
    restarted = make_crane(Store(database, clock=clock))
    assert restarted.orchestrator.recover() == []  # a waiting run is never resumed on its own
    assert restarted.approve(run.id, "alice").outcome is Outcome.approved
    assert restarted.execute(run.id).status is RunStatus.completed
    assert restarted.store.list_todos(SCOPE) == []


def test_stop_ends_a_running_run_at_the_next_step_boundary(store: Store) -> None:
    tools = dict(REGISTRY)
    holder: dict[str, Crane] = {}

    def stop_me(args: ListTodosInput, ctx: ToolContext) -> ToolResult:
        run_id = ctx.store.list_runs(limit=1)[0].id
        assert holder["crane"].cancel(run_id, "alice").outcome is Outcome.stopping
        return ToolResult(text="stopping")

    tools["stop_me"] = Tool("stop_me", ListTodosInput, stop_me, "asks to stop its own run")
    crane = holder["crane"] = make_crane(store, tools)
    run = start(crane, ("stop_me", {}), ("add_todo", {"title": "never"}))
    done = crane.execute(run.id)

    assert done.status is RunStatus.cancelled
    assert statuses(done) == ["completed", "skipped"]  # the step in flight finished
    assert store.list_todos(SCOPE) == []
    assert crane.cancel(run.id, "alice").outcome is Outcome.stale


def test_stop_of_a_waiting_run_cancels_it(crane: Crane, store: Store) -> None:
    run = add_then_delete(crane, [])
    assert crane.cancel(run.id, "alice").outcome is Outcome.cancelled
    assert store.get_run(run.id).status is RunStatus.cancelled


def test_one_vote_per_person_per_run_the_latest_wins(crane: Crane) -> None:
    run = crane.execute(start(crane, ("list_todos", {})).id)
    bob = SCOPE.model_copy(update={"user_id": "bob"})
    crane.vote(run.id, SCOPE, "up")
    crane.vote(run.id, SCOPE, "down")
    voted = crane.vote(run.id, bob, "down")
    assert voted.feedback.model_dump() == {"up": 0, "down": 2}
    assert voted.record()["feedback"] == {"up": 0, "down": 2}
    assert crane.store.vote_totals().down == 2
