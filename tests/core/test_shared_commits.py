"""Steps whose tools have no effect outside the run (the calculator) share one commit: fewer
commits, yet nothing is announced before it is durable, a crash simply runs them again, a tool
with effects always commits before the next tool starts, and a shared commit that fails loses
none of the steps it held."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from core.approval import Outcome
from core.errors import TransientError
from core.plan import RunEvent, RunStatus, ToolResult
from core.runtime import Crane
from core.store import Store
from core.tool import ToolContext
from tests.core.test_orchestrator import (
    Args,
    Crash,
    Seen,
    Toolbox,
    make_crane,
    reader,
    start,
    statuses,
)


@pytest.fixture
def toolbox() -> Toolbox:
    box = Toolbox()
    box.add("pure", lambda args, ctx: ToolResult(text=f"p{args.n}", value=args.n), pure=True)
    box.add("effect", lambda args, ctx: ToolResult(text=f"e{args.n}", value=args.n))
    return box


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = Store(database)
    yield opened
    opened.close()


@pytest.fixture
def read(store: Store) -> Iterator[Callable[[str], Seen]]:
    with reader(store) as now:
        yield now


class FailsOneCommit:
    """Counts write transactions; the `nth` one's COMMIT fails (rolled back, TransientError),
    as a busy or lost database's would."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch, nth: int = 0) -> None:
        self.write, self.commits, self.nth = store._db.write, 0, nth
        monkeypatch.setattr(store._db, "write", self.transaction)

    def transaction(self) -> AbstractContextManager[Any]:
        inner = self.write()
        outer = self

        class Counted:
            def __enter__(self) -> Any:
                return inner.__enter__()

            def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
                if kind is None and outer.commits + 1 == outer.nth:
                    outer.nth = 0
                    inner.__exit__(TransientError, TransientError("busy"), None)  # rolls back
                    raise TransientError("database busy at COMMIT")
                inner.__exit__(kind, error, tb)
                outer.commits += kind is None

        return Counted()


def test_pure_steps_share_one_commit_and_each_is_announced_only_once_it_is_durable(
    store: Store, toolbox: Toolbox, read: Callable[[str], Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    crane = make_crane(store, toolbox)
    finished: list[tuple[int, list[str]]] = []

    def listener(event: RunEvent) -> None:
        if event.type == "step.finished":  # what another process reads as it is announced
            finished.append((event.data["step"]["index"], read(event.run_id)[0]))

    crane.orchestrator.subscribe(listener)
    run_id = start(crane, *[("pure", {"n": n}) for n in range(5)]).id
    counted = FailsOneCommit(store, monkeypatch)
    crane.execute(run_id)

    assert counted.commits == 3  # the lease, the start, then every step in one
    assert [index for index, _ in finished] == [1, 2, 3, 4, 5]
    for index, durable in finished:
        assert durable[index - 1] == "completed"  # never shown ✅ and then lost
    assert statuses(store.get_run(run_id)) == ["completed"] * 5


def test_a_tool_with_effects_commits_before_the_next_tool_starts_and_starts_committed(
    store: Store, toolbox: Toolbox, read: Callable[[str], Seen]
) -> None:
    seen: dict[str, list[str]] = {}

    def looking(name: str) -> Callable[[Args, ToolContext], ToolResult]:
        def behaviour(args: Args, ctx: ToolContext) -> ToolResult:
            seen[name] = read(run_id)[0]
            return ToolResult(text=name)

        return behaviour

    toolbox.add("effect", looking("effect"))
    toolbox.add("after", looking("after"), pure=True)
    crane = make_crane(store, toolbox)
    run_id = start(crane, ("pure", {}), ("pure", {}), ("effect", {}), ("after", {})).id
    crane.execute(run_id)

    # the pure steps before it are durable, and so is its own start
    assert seen["effect"] == ["completed", "completed", "running", "pending"]
    # its end was committed before the next tool ran, pure as that one is
    assert seen["after"] == ["completed", "completed", "completed", "running"]


def test_a_crash_inside_a_shared_commit_runs_its_pure_steps_again_and_nothing_else(
    store: Store, toolbox: Toolbox
) -> None:
    died: list[bool] = []

    def dies_once(args: Args, ctx: ToolContext) -> ToolResult:
        if not died:
            died.append(True)
            raise Crash()
        return ToolResult(text="survived")

    toolbox.add("dies", dies_once, pure=True)
    crane = make_crane(store, toolbox)
    run_id = start(crane, ("effect", {"n": 1}), ("pure", {"n": 2}), ("dies", {})).id
    with pytest.raises(Crash):
        crane.execute(run_id)
    # the effect's end committed; the pure step's end was held with the crashed step's start
    assert statuses(store.get_run(run_id)) == ["completed", "running", "pending"]

    toolbox.calls.clear()
    run = make_crane(store, toolbox).execute(run_id)

    assert toolbox.calls == Counter({"pure": 1, "dies": 1})  # the effect is not run again
    assert run.status is RunStatus.completed
    assert run.answer == "e1\np2\nsurvived"


def test_a_shared_commit_that_fails_loses_none_of_the_steps_it_held(
    store: Store, toolbox: Toolbox, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    crane = make_crane(store, toolbox, sleeps)
    announced: list[tuple[str, int]] = []
    crane.orchestrator.subscribe(
        lambda event: announced.append((event.type, event.data.get("step", {}).get("index", 0)))
    )
    run_id = start(crane, *[("pure", {"n": n}) for n in range(4)]).id
    FailsOneCommit(store, monkeypatch, nth=3)  # the lease, the start, then the shared one

    run = crane.execute(run_id)

    assert sleeps == [1]  # retried once
    assert run.status is RunStatus.completed and run.answer == "p0\np1\np2\np3"
    stored = store.get_run(run_id)
    assert statuses(stored) == ["completed"] * 4
    events = store.events_after(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = [(e.type, e.data.get("step", {}).get("index", 0)) for e in events]
    assert kinds == announced  # each announced once, in the order stored
    assert Counter(kind for kind, _ in kinds) == Counter(
        {"run.started": 1, "step.started": 4, "step.finished": 4, "run.finished": 1}
    )


def _stop_from_elsewhere(crane: Crane, run_id: str) -> None:
    """Another thread (another process's request) asks to stop the run, and is done."""
    outcomes: list[Outcome] = []
    asking = threading.Thread(target=lambda: outcomes.append(crane.cancel(run_id, "alice").outcome))
    asking.start()
    asking.join()
    assert outcomes == [Outcome.stopping]


@pytest.mark.parametrize("pure", [True, False])
def test_a_stop_asked_for_while_a_tool_runs_starts_no_further_step_and_leaves_no_gap(
    store: Store, toolbox: Toolbox, pure: bool
) -> None:
    crane = make_crane(store, toolbox)
    announced: list[tuple[str, int]] = []
    crane.orchestrator.subscribe(
        lambda event: announced.append((event.type, event.data.get("step", {}).get("index", 0)))
    )

    def stops(args: Args, ctx: ToolContext) -> ToolResult:
        _stop_from_elsewhere(crane, run_id)
        return ToolResult(text="stopping")

    # pure: the next step would share its commit (the stop is read before its tool runs)
    toolbox.add("stops", stops, pure=pure)
    run_id = start(crane, ("stops", {}), ("pure", {"n": 2}), ("effect", {"n": 3})).id

    run = crane.execute(run_id)

    assert run.status is RunStatus.cancelled
    assert statuses(run) == statuses(store.get_run(run_id)) == ["completed", "skipped", "skipped"]
    assert toolbox.calls["pure"] == toolbox.calls["effect"] == 0
    events = store.events_after(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kinds = [(e.type, e.data.get("step", {}).get("index", 0)) for e in events]
    assert kinds == announced  # each announced once, in the order stored
    assert kinds == [("run.started", 0), ("step.started", 1), ("step.finished", 1),
                     ("run.finished", 0)]  # fmt: skip


def test_a_run_asked_to_stop_before_it_started_runs_no_step(store: Store, toolbox: Toolbox) -> None:
    crane = make_crane(store, toolbox)
    run_id = start(crane, ("pure", {"n": 1}), ("effect", {"n": 2})).id
    assert crane.cancel(run_id, "alice").outcome is Outcome.stopping  # still queued

    run = crane.execute(run_id)

    assert run.status is RunStatus.cancelled
    assert statuses(run) == statuses(store.get_run(run_id)) == ["skipped", "skipped"]
    assert toolbox.calls["pure"] == toolbox.calls["effect"] == 0
    events = store.events_after(run_id)
    assert [(e.seq, e.type) for e in events] == [(1, "run.started"), (2, "run.finished")]
