"""The store contract under concurrency, on both backends: writers in separate processes,
idempotency keys and Slack delivery keys raced by threads, migrations raced at start-up."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.plan import Run, Scope, Step
from core.store import Store, pg_migrate, schema

STORE_CONTRACT = True  # also on databases made by old code (tests/conftest.py)
ALICE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")
PROCESSES, PROCESS_WRITES = 4, 40
RACERS = 8


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store(database)
    yield opened
    opened.close()


def _in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """work(i) in `count` threads released together; their results (or what they raised)."""
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as error:
            results[i] = error

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _add_and_delete(database: str, worker: int, start: object) -> list[int]:
    """In a child process: add todos, deleting every third right away; the numbers taken."""
    store = Store(database)
    start.wait()  # type: ignore[attr-defined]
    taken = []
    for n in range(PROCESS_WRITES):
        number = store.add_todo(ALICE, f"p{worker}-{n}").number
        taken.append(number)
        if n % 3 == 0:
            store.delete_todo(ALICE, number)
    store.close()
    return taken


def test_writers_in_several_processes_never_share_or_reuse_a_todo_number(database: str) -> None:
    Store(database).close()  # migrated before the race: the race is about numbering
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(PROCESSES)
        with context.Pool(PROCESSES) as pool:
            taken = pool.starmap(
                _add_and_delete, [(database, worker, start) for worker in range(PROCESSES)]
            )
    numbers = sorted(number for each in taken for number in each)
    total = PROCESSES * PROCESS_WRITES
    assert numbers == list(range(1, total + 1))  # each handed out once, none skipped
    store = Store(database)
    try:
        assert store.add_todo(ALICE, "after the race").number == total + 1  # deleted stay taken
        kept = [todo.number for todo in store.list_todos(ALICE)]
        assert len(kept) == total - PROCESSES * len(range(0, PROCESS_WRITES, 3)) + 1
    finally:
        store.close()


def _open(database: str) -> list[str]:
    Store(database).close()
    from tests.core.test_store import applied_migrations

    return applied_migrations(database)


def test_processes_opening_a_fresh_database_at_once_apply_each_migration_once(
    database: str,
) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        seen = pool.map(_open, [database] * 3)
    if database.startswith("postgresql://"):
        expected = sorted(pg_migrate.names())
    else:
        expected = sorted(migration.name for migration in schema.stream("sqlite"))
    assert [sorted(each) for each in seen] == [expected] * 3  # all there, none twice


def _run(run_id: str, when: datetime) -> Run:
    return Run(id=run_id, scope=ALICE, text="calculate 1+1", steps=[Step(index=1, tool="calc")],
               created_at=when)  # fmt: skip


def test_racing_requests_with_one_idempotency_key_store_one_run(store: Store) -> None:
    now = store.clock()
    ids = _in_threads(
        RACERS,
        lambda i: store.insert_run(_run(f"run{i}", now), ("h", 1, "t"), ("key-1", "hash")),
    )
    assert all(isinstance(each, str) for each in ids), ids
    assert len(set(ids)) == 1  # every racer was handed the one winner's run
    assert [run.id for run in store.list_runs(ALICE)] == [ids[0]]
    assert store.idempotent_run(ALICE, "key-1") == ("hash", ids[0])


def test_an_expired_idempotency_key_starts_a_new_run(database: str) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = Store(database, clock=lambda: now[0])
    try:
        first = store.insert_run(_run("old", now[0]), ("h", 1, "t"), ("key", "hash-1"))
        assert store.insert_run(_run("twin", now[0]), ("h", 1, "t"), ("key", "hash-1")) == first
        now[0] += timedelta(hours=25)
        assert store.insert_run(_run("new", now[0]), ("h", 1, "t"), ("key", "hash-2")) == "new"
        assert store.idempotent_run(ALICE, "key") == ("hash-2", "new")
        other = Scope(enterprise_id="E1", team_id="T1", user_id="bob")
        assert store.idempotent_run(other, "key") is None  # keys are per caller
    finally:
        store.close()


def test_racing_deliveries_of_one_slack_event_are_claimed_once(store: Store) -> None:
    claimed = _in_threads(RACERS, lambda i: store.claim_delivery("msg:T1:C1:1.0"))
    assert sorted(claimed, key=str) == [False] * (RACERS - 1) + [True]
    assert store.claim_delivery("msg:T1:C1:2.0") is True
