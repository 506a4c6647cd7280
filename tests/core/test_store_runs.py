"""The store contract for runs, on both backends: storing and reading runs with their steps,
pages and filters, conversation history, events, and handing an orphaned run over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import NotFound
from core.plan import Run, RunStatus, Scope, Step, StepStatus
from core.store import Store

STORE_CONTRACT = True  # also on databases made by old code (tests/conftest.py)
ALICE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")
BOB = Scope(enterprise_id="E1", team_id="T1", user_id="bob")
START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store(database)
    yield opened
    opened.close()


def stored(store: Store, run_id: str, who: Scope = ALICE, minute: int = 0,
           conversation: str | None = None, owner: str = "token") -> Run:  # fmt: skip
    run = Run(
        id=run_id, scope=who, conversation=conversation, text=f"request {run_id}",
        steps=[Step(index=1, tool="calculator", args={"expression": "1+1"}),
               Step(index=2, tool="add_todo", args={"title": "x"}, destructive=False)],
        created_at=START + timedelta(minutes=minute),
    )  # fmt: skip
    store.insert_run(run, ("host", 1, owner))
    return run


def test_a_stored_run_reads_back_whole_and_only_for_its_caller(store: Store) -> None:
    run = stored(store, "r1", conversation="C1:1.0")
    loaded = store.get_run("r1", ALICE)
    assert loaded.model_dump() == run.model_dump()
    assert store.get_run("r1").id == "r1"  # unscoped: the server's own reads
    with pytest.raises(NotFound, match="run r1 not found"):
        store.get_run("r1", BOB)
    with pytest.raises(NotFound, match="run nope not found"):
        store.get_run("nope", ALICE)
    assert store.conversation_exists(ALICE, "C1:1.0")
    assert not store.conversation_exists(ALICE, "C1:2.0")


def test_runs_list_newest_first_in_pages_filtered_by_caller_and_status(store: Store) -> None:
    for minute in range(5):
        stored(store, f"a{minute}", minute=minute)
    stored(store, "b0", who=BOB, minute=10)
    first = store.list_runs(ALICE, limit=2)
    assert [r.id for r in first] == ["a4", "a3"]
    last = first[-1]
    page = store.list_runs(ALICE, limit=10, before=(last.created_at.isoformat(), last.id))
    assert [r.id for r in page] == ["a2", "a1", "a0"]
    assert [r.id for r in store.list_runs(limit=1)] == ["b0"]
    assert store.list_runs(ALICE, status=RunStatus.completed) == []
    assert len(store.list_runs(ALICE, status=RunStatus.pending)) == 5


def test_a_runs_journal_writes_steps_and_events_read_back_in_order(store: Store) -> None:
    stored(store, "r1", conversation="C1:1.0")
    journal = store.journal("r1", ALICE)
    run = store.get_run("r1")
    step = run.steps[0]
    with journal.transaction():
        journal.run_started(START)
        journal.event("run.started", {"n": 1}, START)
        step.status, step.started_at = StepStatus.running, START
        journal.step_started(step)
    with journal.transaction():
        step.status, step.finished_at, step.output, step.value = (
            StepStatus.completed, START, "1+1 = 2", 2)  # fmt: skip
        journal.step_completed(step)
        journal.event("step.finished", {"n": 2}, START)
        journal.skip_after(1)
        journal.run_finished(RunStatus.completed, "1+1 = 2", START)
        journal.event("run.finished", {"n": 3}, START)

    again = store.get_run("r1")
    assert again.status is RunStatus.completed and again.answer == "1+1 = 2"
    assert [(s.status, s.output) for s in again.steps] == [
        (StepStatus.completed, "1+1 = 2"), (StepStatus.skipped, None)]  # fmt: skip
    assert [(e.seq, e.type, e.data) for e in store.events_after("r1", 1)] == [
        (2, "step.finished", {"n": 2}), (3, "run.finished", {"n": 3})]  # fmt: skip
    history = store.history(ALICE, "C1:1.0")
    assert history.requests == ["request r1"]
    # each step says which request it answered: "it" looks at the last one only
    assert [(p.tool, p.value, p.turn) for p in history.steps] == [("calculator", 2, 0)]
    assert store.history(BOB, "C1:1.0").requests == []  # never another user's
    assert store.unfinished_runs() == []


def test_an_orphaned_run_is_handed_over_to_exactly_one_claimant(store: Store) -> None:
    stored(store, "r1", owner="dead")
    (row,) = store.unfinished_runs()
    assert (row["id"], row["owner_token"], row["owner_pid"]) == ("r1", "dead", 1)
    assert store.claim_run("r1", "dead", ("me", 2, "mine"))
    assert not store.claim_run("r1", "dead", ("other", 3, "theirs"))  # it is mine now
    assert store.unfinished_runs()[0]["owner_token"] == "mine"
    assert not store.claim_run("r1", None, ("other", 3, "theirs"))


def test_where_a_run_is_shown_is_kept_with_it_and_goes_with_its_workspace(store: Store) -> None:
    stored(store, "r1")
    assert store.shown("r1") is None and store.shown("nope") is None
    shown = {"channel": "C1", "thread_ts": "1.0", "header_ts": "1.1", "step_ts": {"1": "1.2"},
             "answer_ts": None, "text": "add a todo: ü ✅"}  # fmt: skip
    store.save_shown("r1", shown)
    store.save_shown("r1", shown | {"step_ts": {"1": "1.2", "2": "1.3"}})  # the latest wins

    assert store.shown("r1") == shown | {"step_ts": {"1": "1.2", "2": "1.3"}}
    store.forget_tenant("E1", "T1")  # uninstalled: nothing of it is left
    assert store.shown("r1") is None
