"""Group commit (core.store.group), on both backends: intake records and runs that arrive
together share one commit, each caller still learns its own outcome — a retry or a reused
idempotency key among them is recognised, one request's refusal leaves the others stored —
and a commit that fails fails every request in it, recording none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import Unavailable
from core.plan import Received, Run, Scope, Step
from core.store import Store
from tests.fakes.commits import HeldCommits

ALICE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
OWNER = ("this-host", 1, "token")


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store(database)
    yield opened
    opened.close()


def received(intake_id: str) -> Received:
    return Received(
        id=intake_id, scope=ALICE, text="add a todo to call mom", conversation="C1:1.0",
        channel="C1", thread_ts="1.0", response_url=None, options={}, received_at=NOW,
    )  # fmt: skip


def run(run_id: str) -> Run:
    return Run(id=run_id, scope=ALICE, text="add a todo to call mom",
               steps=[Step(index=1, tool="add_todo")], created_at=NOW)  # fmt: skip


def test_requests_arriving_together_share_one_commit_and_a_retry_among_them_records_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(store, monkeypatch)
    before = store.grouped.batches
    deliveries = ["first", "a", "b", "a", "c", "first"]  # "a" retried in its batch, "first" after
    calls = [
        lambda i=i, key=key: store.receive(received(f"i{i}"), f"msg:{key}", OWNER)
        for i, key in enumerate(deliveries)
    ]
    assert held.together(calls) == [True, True, True, False, True, False]
    assert store.grouped.batches - before == 2  # the held one, then the five that queued
    recorded = [row["id"] for row in store.received_owners()]
    assert sorted(recorded) == ["i0", "i1", "i2", "i4"]  # one record per delivery


def test_one_idempotency_key_used_twice_in_one_batch_stores_one_run(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(store, monkeypatch)
    key = ("key-1", "hash")
    calls = [
        lambda: store.insert_run(run("r0"), OWNER),
        lambda: store.insert_run(run("r1"), OWNER, key),
        lambda: store.insert_run(run("r2"), OWNER),
        lambda: store.insert_run(run("r3"), OWNER, key),  # the same key: r1's replay
    ]
    assert held.together(calls) == ["r0", "r1", "r2", "r1"]
    assert sorted(r.id for r in store.list_runs(ALICE)) == ["r0", "r1", "r2"]


def test_a_request_refused_inside_a_batch_leaves_the_others_stored(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(store, monkeypatch)

    def refused() -> str:
        def over_the_limit(conn: Any) -> str:
            store.insert_run(run("r-refused"), OWNER)  # its rows go with its savepoint
            raise ValueError("over this workspace's limit")

        return store.grouped.run(over_the_limit)

    calls = [lambda: store.insert_run(run("r0"), OWNER), refused,
             lambda: store.insert_run(run("r2"), OWNER)]  # fmt: skip
    outcomes = held.together(calls)
    assert outcomes[0] == "r0" and outcomes[2] == "r2"
    assert isinstance(outcomes[1], ValueError)
    assert sorted(r.id for r in store.list_runs(ALICE)) == ["r0", "r2"]


def test_a_batch_whose_commit_fails_fails_every_request_in_it_and_records_none(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(store, monkeypatch)
    held.fail = True
    calls = [lambda: store.receive(received("i0"), "msg:0", OWNER)]
    calls += [lambda i=i: store.receive(received(f"i{i}"), f"msg:{i}", OWNER) for i in (1, 2, 3)]
    calls.append(lambda: store.insert_run(run("r4"), OWNER, ("key", "hash")))
    outcomes = held.together(calls)
    assert all(isinstance(outcome, Unavailable) for outcome in outcomes), outcomes
    assert held.failed == 2  # the held batch, then the one the others shared
    monkeypatch.undo()
    assert store.received_owners() == [] and store.list_runs(ALICE) == []
    # nothing was recorded, so Slack's retry (and the REST client's) is taken as new
    assert store.receive(received("i9"), "msg:1", OWNER)
    assert store.insert_run(run("r9"), OWNER, ("key", "hash")) == "r9"


def test_an_event_loops_requests_share_the_commit_and_each_future_gets_its_own_answer(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(store, monkeypatch)
    before = store.grouped.batches

    def soon(i: int, key: str) -> bool:  # as the Slack listener does: no thread of its own
        return store.receive_soon(received(f"i{i}"), f"msg:{key}", OWNER).result(10)

    calls = [lambda: store.receive(received("i0"), "msg:first", OWNER)]
    calls += [lambda i=i, key=key: soon(i, key) for i, key in [(1, "a"), (2, "b"), (3, "a")]]
    assert held.together(calls) == [True, True, True, False]  # "a" again: a retry
    assert store.grouped.batches - before == 2
    assert sorted(row["id"] for row in store.received_owners()) == ["i0", "i1", "i2"]


def test_when_their_commit_fails_every_future_fails_and_nothing_is_recorded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(store, monkeypatch)
    held.fail = True
    calls = [
        lambda i=i: store.receive_soon(received(f"i{i}"), f"msg:{i}", OWNER).result(10)
        for i in range(4)
    ]
    outcomes = held.together(calls)
    assert all(isinstance(outcome, Unavailable) for outcome in outcomes), outcomes
    monkeypatch.undo()
    assert store.received_owners() == []
