"""The store contract for durable intake, on both backends: a received request is recorded
with its delivery key or not at all, leaves with the run planned from it, and is handed over
from a dead process to exactly one live one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from core.orchestrator import Orchestrator
from core.plan import Received, Run, Scope, Step
from core.store import Store

STORE_CONTRACT = True  # also on databases made by old code (tests/conftest.py)
ALICE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
DEAD = ("this-host", 999_999, "dead-token")


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store(database)
    yield opened
    opened.close()


def received(intake_id: str = "i1") -> Received:
    return Received(
        id=intake_id, scope=ALICE, text="add a todo to call mom", conversation="C1:1.0",
        channel="C1", thread_ts="1.0", response_url="https://hooks.example/1",
        options={"stream": True, "silent_if_nothing": False}, received_at=NOW,
    )  # fmt: skip


def test_a_delivery_is_received_once_and_its_retry_records_nothing(store: Store) -> None:
    assert store.receive(received("i1"), "msg:T1:C1:1.0", DEAD)
    assert not store.receive(received("i2"), "msg:T1:C1:1.0", DEAD)  # Slack's retry
    assert [row["id"] for row in store.received_owners()] == ["i1"]


def test_racing_deliveries_of_one_event_record_one_request(store: Store) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def deliver(i: int) -> None:
        barrier.wait()
        results.append(store.receive(received(f"i{i}"), "msg:T1:C1:9.0", DEAD))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert len(store.received_owners()) == 1


def test_a_received_request_leaves_with_the_run_planned_from_it(store: Store) -> None:
    store.receive(received("i1"), None, DEAD)
    store.receive(received("i2"), None, DEAD)
    run = Run(id="r1", scope=ALICE, text="x", steps=[Step(index=1, tool="add_todo")],
              created_at=NOW)  # fmt: skip
    store.insert_run(run, DEAD, received="i1")
    store.forget_received("i2")  # answered without a run
    assert store.received_owners() == []
    assert store.get_run("r1").id == "r1"


def test_a_dead_processs_requests_go_whole_to_exactly_one_live_process(store: Store) -> None:
    store.receive(received("i1"), "msg:T1:C1:1.0", DEAD)
    mine = Orchestrator(store, owner=("this-host", 1, "mine"))
    theirs = Orchestrator(store, owner=("this-host", 2, "theirs"))
    dead = {DEAD[1]}
    taken = mine.take_received(is_alive=lambda pid: pid not in dead)
    assert [r.model_dump() for r in taken] == [received("i1").model_dump()]
    # the request is now held by a live process: nobody else takes it
    assert theirs.take_received(is_alive=lambda pid: pid not in dead) == []


def test_a_live_processs_requests_are_left_alone(store: Store) -> None:
    store.receive(received("i1"), None, ("this-host", 5, "busy-token"))
    other = Orchestrator(store, owner=("this-host", 6, "other"))
    assert other.take_received(is_alive=lambda pid: True) == []
    assert [row["owner_token"] for row in store.received_owners()] == ["busy-token"]


def test_a_finished_run_whose_answer_was_never_posted_goes_to_one_live_process(
    store: Store,
) -> None:
    store.receive(received("i1"), None, DEAD)
    owed = Run(id="r1", scope=ALICE, text="x", steps=[Step(index=1, tool="add_todo")],
               created_at=NOW)  # fmt: skip
    store.insert_run(owed, DEAD, received="i1")
    store.insert_run(owed.model_copy(update={"id": "r2"}), DEAD)  # a CLI/API run owes nothing
    mine = Orchestrator(store, owner=("this-host", 1, "mine"))
    theirs = Orchestrator(store, owner=("this-host", 2, "theirs"))
    dead = {DEAD[1]}
    assert mine.take_unanswered(is_alive=lambda pid: pid not in dead) == []  # not finished yet
    with store.write() as conn:  # the dead process finished it, then died before answering
        conn.execute("UPDATE runs SET status = 'completed' WHERE id IN ('r1', 'r2')")

    assert mine.take_unanswered(is_alive=lambda pid: pid not in dead) == ["r1"]
    assert theirs.take_unanswered(is_alive=lambda pid: pid not in dead) == []  # mine to post
    store.mark_answered("r1")
    assert store.unanswered_runs() == []
