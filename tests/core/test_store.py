"""The store contract, on SQLite and on PostgreSQL alike (the `database` fixture runs each test
once per backend): concurrent writers in threads and in processes, migrations, todo numbering
and scoping, runs, idempotency and delivery races, timestamps. SQLite's safe opening of files
is tested on SQLite only."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from core.errors import InvalidInput, NotFound
from core.plan import Run, RunStatus, Scope, Step
from core.store import Store

ISO_MICROS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
STORE_CONTRACT = True  # also on databases made by old code (tests/conftest.py)
ALICE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")

THREADS, WRITES = 8, 150
PROCESSES, PROCESS_WRITES = 4, 60
INTEGRITY = (sqlite3.IntegrityError, psycopg.IntegrityError)


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store(database)
    yield opened
    opened.close()


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run work(i) in `count` threads started together; return whatever they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def target(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_writers_for_one_user_lose_nothing_and_share_no_number(store: Store) -> None:
    errors = _in_threads(
        THREADS,
        lambda i: [store.add_todo(ALICE, f"t{i}-{n}") for n in range(WRITES)],
    )

    assert errors == []
    todos = store.list_todos(ALICE)
    assert [todo.number for todo in todos] == list(range(1, THREADS * WRITES + 1))
    assert {todo.title for todo in todos} == {
        f"t{i}-{n}" for i in range(THREADS) for n in range(WRITES)
    }


def test_concurrent_writers_for_different_users_each_number_from_one(store: Store) -> None:
    users = [Scope(enterprise_id="E1", team_id="T1", user_id=f"u{i}") for i in range(THREADS)]
    errors = _in_threads(
        THREADS,
        lambda i: [store.add_todo(users[i], f"task {n}") for n in range(WRITES)],
    )

    assert errors == []
    for user in users:
        todos = store.list_todos(user)
        assert [todo.number for todo in todos] == list(range(1, WRITES + 1))
        assert [todo.title for todo in todos] == [f"task {n}" for n in range(WRITES)]


def test_reopening_a_database_keeps_its_data_and_migrates_once(database: str) -> None:
    first = Store(database)
    first.add_todo(ALICE, "buy milk")
    first.close()

    second = Store(database)
    third = Store(database)
    try:
        assert [todo.title for todo in second.list_todos(ALICE)] == ["buy milk"]
        assert third.add_todo(ALICE, "pay rent").number == 2
    finally:
        second.close()
        third.close()
    names = applied_migrations(database)
    assert len(names) == len(set(names)) > 0


def applied_migrations(database: str) -> list[str]:
    """What the migration runner recorded, on either backend (one table of its own)."""
    if database.startswith("postgresql://"):
        with psycopg.connect(database) as conn:
            return [row[0] for row in conn.execute("SELECT name FROM crane_migrations")]
    with sqlite3.connect(database) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM crane_migrations")]
    conn.close()
    return names


def test_stores_opening_one_fresh_file_at_the_same_moment_all_work(tmp_path: Path) -> None:
    # The race (switching a new file to WAL) is narrow: try it on many fresh files.
    for attempt in range(40):
        path = str(tmp_path / f"fresh-{attempt}.db")
        opened: list[Store] = []
        errors = _in_threads(3, lambda i, path=path, opened=opened: opened.append(Store(path)))

        assert errors == [], f"attempt {attempt}"
        try:
            for i, each in enumerate(opened):
                each.add_todo(ALICE, f"from store {i}")
            assert [todo.number for todo in opened[0].list_todos(ALICE)] == [1, 2, 3]
        finally:
            for each in opened:
                each.close()


def test_a_directory_is_refused_as_a_database(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="directory"):
        Store(str(tmp_path))


def test_a_path_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(InvalidInput, match="not a directory"):
        Store(str(blocker / "crane.db"))
    assert blocker.read_text() == "x"


def test_a_missing_parent_directory_is_refused_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        Store(str(tmp_path / "missing" / "crane.db"))
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is my thesis\n" * 100,
        b"x",
        b"SQLite format 2\x00" + b"\x00" * 100,
        b"SQLite format 3\x00" + b"\xff" * 200,
    ],
    ids=["text", "one-byte", "near-header", "header-then-garbage"],
)
def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(
    tmp_path: Path, content: bytes
) -> None:
    target = tmp_path / "notes.txt"
    target.write_bytes(content)

    with pytest.raises(InvalidInput, match=r"not a (SQLite )?database"):
        Store(str(target))

    assert target.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_todo_numbers_are_never_reused_after_delete(store: Store) -> None:
    for title in ("a", "b", "c"):
        store.add_todo(ALICE, title)
    store.delete_todo(ALICE, 3)
    store.delete_todo(ALICE, 2)

    assert store.add_todo(ALICE, "d").number == 4
    assert [todo.number for todo in store.list_todos(ALICE)] == [1, 4]


def test_deleting_every_todo_still_never_reuses_a_number(store: Store) -> None:
    store.add_todo(ALICE, "a")
    store.delete_todo(ALICE, 1)
    assert store.add_todo(ALICE, "b").number == 2


def test_listing_is_sorted_by_number_and_hides_done_unless_asked(store: Store) -> None:
    for title in ("one", "two", "three", "four"):
        store.add_todo(ALICE, title)
    store.complete_todo(ALICE, 2)
    store.delete_todo(ALICE, 3)

    assert [(t.number, t.title) for t in store.list_todos(ALICE)] == [(1, "one"), (4, "four")]
    everything = store.list_todos(ALICE, include_done=True)
    assert [(t.number, t.done) for t in everything] == [(1, False), (2, True), (4, False)]


@pytest.mark.parametrize(
    "other",
    [
        Scope(enterprise_id="E1", team_id="T1", user_id="bob"),
        Scope(enterprise_id="E1", team_id="T2", user_id="alice"),
        Scope(enterprise_id="E2", team_id="T1", user_id="alice"),
    ],
    ids=["other-user", "other-team", "other-enterprise"],
)
def test_another_callers_todo_looks_exactly_like_a_missing_one(store: Store, other: Scope) -> None:
    store.add_todo(ALICE, "private")

    messages = []
    for action in (store.get_todo, store.complete_todo, store.delete_todo):
        with pytest.raises(NotFound) as foreign:
            action(other, 1)
        with pytest.raises(NotFound) as missing:
            action(ALICE, 99)
        messages.append((str(foreign.value), str(missing.value)))

    assert messages == [("todo #1 not found", "todo #99 not found")] * 3
    assert store.list_todos(other, include_done=True) == []
    assert store.get_todo(ALICE, 1).done is False


def test_a_deleted_todo_is_not_found(store: Store) -> None:
    store.add_todo(ALICE, "gone soon")
    store.delete_todo(ALICE, 1)
    with pytest.raises(NotFound, match="todo #1 not found"):
        store.get_todo(ALICE, 1)
    with pytest.raises(NotFound, match="todo #1 not found"):
        store.delete_todo(ALICE, 1)


def test_record_timestamps_are_iso_utc_with_microseconds_and_z(database: str) -> None:
    moments = iter(
        [
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still six digits
            datetime(2024, 1, 2, 3, 4, 6, 123456, tzinfo=UTC),
        ]
    )
    store = Store(database, clock=lambda: next(moments))
    try:
        store.add_todo(ALICE, "stamp me")
        store.complete_todo(ALICE, 1)
        record = store.get_todo(ALICE, 1).record()
    finally:
        store.close()

    assert record["created_at"] == "2024-01-02T03:04:05.000000Z"
    assert record["done_at"] == "2024-01-02T03:04:06.123456Z"
    assert ISO_MICROS_Z.match(record["created_at"])
    assert ISO_MICROS_Z.match(record["done_at"])


def test_completing_twice_keeps_the_first_completion_time(database: str) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    ticks = iter(start + timedelta(seconds=n) for n in range(10))
    store = Store(database, clock=lambda: next(ticks))
    try:
        store.add_todo(ALICE, "once")
        first = store.complete_todo(ALICE, 1).done_at
        again = store.complete_todo(ALICE, 1).done_at
    finally:
        store.close()
    assert first == again == start + timedelta(seconds=1)


def test_a_second_writer_of_a_runs_events_is_refused_and_rolled_back(store: Store) -> None:
    # The executing process keeps a run's event seq in memory; were another one to write for
    # the same run, its events would collide on (run_id, seq) rather than interleave.
    now = datetime(2024, 5, 1, tzinfo=UTC)
    run = Run(id="r1", scope=ALICE, text="x", steps=[Step(index=1, tool="t")], created_at=now)
    store.insert_run(run, ("host", 1, "token"))
    mine, stale = store.journal("r1", ALICE), store.journal("r1", ALICE)
    with mine.transaction() as events:
        mine.run_started(now)
        mine.event("run.started", {}, now)
    assert [(e.seq, e.type) for e in events] == [(1, "run.started")]

    with pytest.raises(INTEGRITY), stale.transaction():
        stale.run_finished(RunStatus.failed, "too late", now)
        stale.event("run.finished", {}, now)

    assert store.get_run("r1").status is RunStatus.running  # its state change is gone too
    assert [(e.seq, e.type) for e in store.events_after("r1")] == [(1, "run.started")]
    assert (mine.seq, stale.seq) == (1, 0)


def test_old_delivery_records_and_idempotency_keys_are_forgotten(database: str) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = Store(database, clock=lambda: now[0])
    store.forget_old_requests()  # a database with a past has old records of its own
    assert store.claim_delivery("msg:T1:C1:1.0")
    now[0] += timedelta(hours=25)
    assert store.claim_delivery("msg:T1:C1:2.0")
    assert store.forget_old_requests() == 1
    # the old key is gone (claimable again), the recent one is still remembered
    assert store.claim_delivery("msg:T1:C1:1.0")
    assert not store.claim_delivery("msg:T1:C1:2.0")
    store.close()
