"""One executor per run: a lease (fencing token + expiry) on the run row, checked by every
write of the run, on both backends. "Another process" is a second runtime on the same
database under its own owner token; "frozen past its lease" is the shared clock moved on."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from core.app import build
from core.errors import LeaseLost
from core.plan import RunStatus, ToolResult
from core.policy import LEASE
from core.settings import Settings
from core.store import Store, is_url
from core.tool import ToolContext
from tests.core.test_orchestrator import (
    SCOPE,
    Args,
    Clock,
    Crash,
    Toolbox,
    make_crane,
    ok,
    start,
    statuses,
)

PAST_LEASE = LEASE + timedelta(seconds=1)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def shared(database: str, clock: Clock) -> Iterator[Store]:
    opened = Store(database, clock=clock)
    yield opened
    opened.close()


def _box() -> Toolbox:
    box = Toolbox()
    box.add("say", lambda args, ctx: ToolResult(text=args.text or "said"))
    return box


def test_a_frozen_owner_writes_nothing_after_its_run_was_taken_over(
    shared: Store, clock: Clock
) -> None:
    frozen_box, live_box = _box(), _box()
    live = make_crane(shared, live_box, owner=("replica-b", 2, "b"))
    frozen = make_crane(shared, frozen_box, owner=("replica-a", 1, "a"))

    def freeze(args: Args, ctx: ToolContext) -> ToolResult:
        # replica A stops here past its lease; replica B takes the run over and finishes it
        clock.advance(PAST_LEASE)
        assert live.execute(run_id).status is RunStatus.completed
        return ToolResult(text="A's late result")

    frozen_box.add("slow", freeze)
    live_box.add("slow", ok("B's result"))
    run_id = start(frozen, ("say", {"text": "first"}), ("slow", {}), ("say", {"text": "last"})).id

    returned = frozen.execute(run_id)  # A wakes up: its write is refused, it stops quietly

    assert returned.status is RunStatus.running  # what A knew; it wrote none of it
    run = shared.get_run(run_id)
    assert run.status is RunStatus.completed
    assert run.answer == "first\nB's result\nlast"
    assert frozen_box.calls == Counter({"say": 1, "slow": 1})  # A never went past step 2
    assert live_box.calls == Counter({"slow": 1, "say": 1})  # B did not redo step 1
    events = shared.events_after(run_id)
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert [event.type for event in events].count("run.finished") == 1


def test_a_transaction_of_a_stale_owner_is_rolled_back_whole(shared: Store, clock: Clock) -> None:
    run_id = start(make_crane(shared, _box(), owner=("replica-a", 1, "a")), ("say", {})).id
    journal = shared.journal(run_id, SCOPE, lease="a")
    clock.advance(PAST_LEASE)
    assert shared.take_run(run_id, None, ("replica-b", 2, "b:1"), LEASE)

    with pytest.raises(LeaseLost), journal.transaction():
        shared.add_todo(SCOPE, "a tool's write")  # never reached: the lease is checked first
        journal.event("step.started", {}, clock())

    assert shared.list_todos(SCOPE) == []
    assert shared.events_after(run_id) == []
    assert shared.run_owner(run_id)["owner_token"] == "b:1"


def test_a_run_whose_owner_holds_a_fresh_lease_is_not_executed_by_another_process(
    shared: Store,
) -> None:
    owner = make_crane(shared, _box(), owner=("replica-a", 1, "a"))
    other_box = _box()
    other = make_crane(shared, other_box, owner=("replica-b", 2, "b"))
    run_id = start(owner, ("say", {"text": "mine"})).id

    assert other.execute(run_id).status is RunStatus.pending
    assert other.orchestrator.recover(is_alive=lambda pid: True) == []
    assert other_box.calls == Counter()
    assert owner.execute(run_id).status is RunStatus.completed


@pytest.mark.parametrize("destructive", [False, True])
def test_a_takeover_continues_from_the_last_committed_step(
    shared: Store, clock: Clock, destructive: bool
) -> None:
    crashing, box = _box(), _box()
    crashing.add("second", lambda args, ctx: (_ for _ in ()).throw(Crash()),
                 destructive=destructive)  # fmt: skip
    box.add("second", ok("second done"), destructive=destructive)
    dying = make_crane(shared, crashing, owner=("replica-a", 1, "a"))
    run_id = start(dying, ("say", {"text": "first"}), ("second", {}), ("say", {"text": "third"})).id
    with pytest.raises(Crash):  # replica A dies in step 2 (kill -9)
        dying.execute(run_id)
    clock.advance(PAST_LEASE)

    taker = make_crane(shared, box, owner=("replica-b", 2, "b"))
    assert taker.orchestrator.recover(is_alive=lambda pid: True) == [run_id]

    run = shared.get_run(run_id)
    assert box.calls["say"] == (0 if destructive else 1)  # step 1 never redone
    if destructive:  # it may have taken effect: failed, never done twice
        assert statuses(run) == ["completed", "failed", "skipped"]
        assert "interrupted" in (run.steps[1].error or "")
    else:
        assert run.answer == "first\nsecond done\nthird"


def test_renewing_a_lease_reports_the_runs_taken_over(shared: Store, clock: Clock) -> None:
    crane = make_crane(shared, _box(), owner=("replica-a", 1, "a"))
    run_id = start(crane, ("say", {})).id
    assert shared.renew_leases({run_id: "a"}) == []
    clock.advance(PAST_LEASE)
    assert shared.take_run(run_id, None, ("replica-b", 2, "b:1"), LEASE)

    assert shared.renew_leases({run_id: "a"}) == [run_id]


def test_crane_ask_on_a_shared_database_takes_over_nothing(database: str) -> None:
    store = Store(database)
    dead = ("elsewhere.example", 4242, "gone")
    run_id = start(make_crane(store, _box(), owner=dead), ("say", {})).id
    store.close()
    with store.write() as conn:  # its owner stopped beating long ago
        conn.execute("UPDATE runs SET heartbeat_at = '2000-01-01T00:00:00.000000Z'")

    build(Settings(planner="pattern"), db=database).store.close()  # what `crane ask` builds

    row = store.run_owner(run_id)
    store.close()
    # SQLite has one machine and no servers to take over: the CLI resumes orphans there
    assert (row["owner_token"] == "gone") is is_url(database)


def test_a_queued_run_taken_over_elsewhere_is_no_longer_renewed_here(
    shared: Store, clock: Clock
) -> None:
    frozen = make_crane(shared, _box(), owner=("replica-a", 1, "frozen-queue"))
    frozen.orchestrator.lease = timedelta(seconds=0.3)  # its heartbeat beats every 0.1 s
    run_id = start(frozen, ("say", {})).id
    frozen.orchestrator.hold(run_id)  # held while it waits in A's queue
    clock.advance(PAST_LEASE)
    taker = make_crane(shared, _box(), owner=("replica-b", 2, "b"))
    assert taker.orchestrator.recover(is_alive=lambda pid: True) == [run_id]

    def beating() -> bool:
        return any(t.name == "crane-heartbeat-frozen-queue" for t in threading.enumerate())

    deadline = time.monotonic() + 5
    while beating() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not beating()  # A saw it lost the run once, and stopped writing for it
    assert frozen.execute(run_id).status is RunStatus.completed  # B's result, untouched


def test_runs_left_in_the_queue_at_shutdown_are_no_longer_renewed(shared: Store) -> None:
    leaving = make_crane(shared, _box(), owner=("replica-a", 1, "leaving"))
    leaving.orchestrator.lease = timedelta(seconds=0.3)
    run_id = start(leaving, ("say", {})).id
    leaving.orchestrator.hold(run_id)  # queued here, never started: the server shuts down

    leaving.orchestrator.let_go_queued()

    def beating() -> bool:
        return any(t.name == "crane-heartbeat-leaving" for t in threading.enumerate())

    deadline = time.monotonic() + 5
    while beating() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not beating()  # its lease runs out: another process may take the run over
    assert shared.get_run(run_id).status is RunStatus.pending
