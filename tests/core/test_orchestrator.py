"""The orchestrator: retries, failure handling, durability across crashes, recovery, events."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from core.errors import InvalidInput, NotFound, ToolError, TransientError
from core.orchestrator import Orchestrator
from core.plan import (
    History,
    Plan,
    PlannedStep,
    Run,
    RunEvent,
    RunStatus,
    Scope,
    ToolResult,
)
from core.references import check_references
from core.runtime import Crane
from core.store import Owner, Store
from core.tool import Tool, ToolContext
from core.tools import REGISTRY

SCOPE = Scope(enterprise_id="E1", team_id="T1", user_id="alice")


class Crash(BaseException):
    """Stands in for the process dying mid-step: nothing in Crane catches it."""


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = ""
    n: int = 0


class Clock:
    """A store clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Toolbox:
    """Custom tools that count their calls; behaviours are plain functions of (args, ctx)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.tools: dict[str, Tool] = dict(REGISTRY)

    def add(
        self,
        name: str,
        behaviour: Callable[[Args, ToolContext], ToolResult],
        *,
        destructive: bool = False,
        reference_args: tuple[str, ...] = ("text", "n"),
        writes: bool = False,
        pure: bool = False,
    ) -> None:
        def function(args: Args, ctx: ToolContext) -> ToolResult:
            self.calls[name] += 1
            return behaviour(args, ctx)

        self.tools[name] = Tool(
            name, Args, function, f"test tool {name}", destructive, reference_args, writes,
            pure=pure,
        )  # fmt: skip

    def fails(self, name: str, error: BaseException, times: int | None = None) -> None:
        """A tool that raises `error` (the first `times` calls, or always), then says ok."""

        def behaviour(args: Args, ctx: ToolContext) -> ToolResult:
            if times is None or self.calls[name] <= times:
                raise error
            return ToolResult(text=f"{name} ok", value=self.calls[name])

        self.add(name, behaviour)


def ok(text: str = "ok", value: Any = None) -> Callable[[Args, ToolContext], ToolResult]:
    return lambda args, ctx: ToolResult(text=text, value=value)


@pytest.fixture
def toolbox() -> Toolbox:
    box = Toolbox()
    box.add("say", lambda args, ctx: ToolResult(text=args.text or "said", value=args.n))
    box.add("double", lambda args, ctx: ToolResult(text=str(args.n * 2), value=args.n * 2))
    return box


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked_store(db_path: str, clock: Clock) -> Iterator[Store]:
    opened = Store(db_path, clock=clock)
    yield opened
    opened.close()


def make_crane(
    store: Store,
    toolbox: Toolbox,
    sleeps: list[float] | None = None,
    owner: Owner | None = None,
    planner: Callable[[str, History], Plan] | None = None,
) -> Crane:
    orchestrator = Orchestrator(
        store,
        tools=toolbox.tools,
        retry_attempts=4,
        retry_base_s=1,
        sleep=sleeps.append if sleeps is not None else _no_sleep,
        owner=owner,
    )
    return Crane(store, planner or (lambda text, history: Plan()), orchestrator)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep({seconds})")


def start(crane: Crane, *steps: tuple[str, dict[str, Any]], text: str = "do it") -> Run:
    plan = Plan(steps=[PlannedStep(tool=tool, args=args) for tool, args in steps])
    return crane.start(SCOPE, text, plan)


def run_steps(crane: Crane, *steps: tuple[str, dict[str, Any]]) -> Run:
    return crane.execute(start(crane, *steps).id)


def statuses(run: Run) -> list[str]:
    return [step.status.value for step in run.steps]


# retries


def test_transient_errors_are_retried_after_waits_of_1_2_and_4_seconds(
    store: Store, toolbox: Toolbox, sleeps: list[float]
) -> None:
    toolbox.fails("flaky", TransientError("database busy"), times=3)
    run = run_steps(make_crane(store, toolbox, sleeps), ("flaky", {}))

    assert sleeps == [1, 2, 4]
    assert run.status is RunStatus.completed
    assert run.steps[0].attempts == 4
    assert run.answer == "flaky ok"
    assert store.get_run(run.id).steps[0].attempts == 4


def test_a_step_that_stays_transient_fails_after_the_last_attempt(
    store: Store, toolbox: Toolbox, sleeps: list[float]
) -> None:
    toolbox.fails("flaky", TransientError("service unavailable"))
    run = run_steps(make_crane(store, toolbox, sleeps), ("flaky", {}))

    assert sleeps == [1, 2, 4]
    assert toolbox.calls["flaky"] == 4
    assert run.status is RunStatus.failed
    assert run.steps[0].attempts == 4
    assert run.steps[0].error == "service unavailable"
    assert "Step 1 (flaky) failed: service unavailable" in (run.answer or "")


def test_a_tool_error_is_not_retried(store: Store, toolbox: Toolbox, sleeps: list[float]) -> None:
    toolbox.fails("strict", ToolError("todo #9 not found"))
    run = run_steps(make_crane(store, toolbox, sleeps), ("strict", {}))

    assert sleeps == []
    assert toolbox.calls["strict"] == 1
    assert run.steps[0].attempts == 1
    assert run.status is RunStatus.failed
    assert run.answer == "Step 1 (strict) failed: todo #9 not found"


def test_a_crashing_tool_fails_its_step_without_showing_a_traceback(
    store: Store, toolbox: Toolbox
) -> None:
    toolbox.fails("buggy", KeyError("secret internals"))
    run = run_steps(make_crane(store, toolbox), ("buggy", {}))

    assert run.status is RunStatus.failed
    assert run.steps[0].error == f"internal error (ref {run.id})"
    assert "secret internals" not in (run.answer or "")
    assert "Traceback" not in (run.answer or "")


def test_invalid_arguments_fail_the_step_with_a_readable_reason(
    store: Store, toolbox: Toolbox
) -> None:
    run = run_steps(make_crane(store, toolbox), ("say", {"n": "lots"}))

    assert run.status is RunStatus.failed
    assert toolbox.calls["say"] == 0
    assert run.steps[0].attempts == 1
    assert (run.steps[0].error or "").startswith("invalid arguments — n: ")


# failures and re-execution


def test_after_a_failure_later_steps_are_skipped_and_the_answer_names_the_error(
    store: Store, toolbox: Toolbox
) -> None:
    toolbox.fails("boom", ToolError("the printer is on fire"))
    run = run_steps(
        make_crane(store, toolbox),
        ("say", {"text": "first"}),
        ("boom", {}),
        ("say", {"text": "never"}),
    )

    assert statuses(run) == ["completed", "failed", "skipped"]
    assert toolbox.calls["say"] == 1
    assert run.status is RunStatus.failed
    assert run.answer == "first\nStep 2 (boom) failed: the printer is on fire"
    assert statuses(store.get_run(run.id)) == ["completed", "failed", "skipped"]


def test_executing_a_finished_run_again_does_not_run_its_tools_again(
    store: Store, toolbox: Toolbox
) -> None:
    crane = make_crane(store, toolbox)
    run = run_steps(crane, ("say", {"text": "once"}), ("double", {"n": 2}))

    again = crane.execute(run.id)

    assert toolbox.calls == Counter({"say": 1, "double": 1})
    assert again.status is RunStatus.completed
    assert again.answer == run.answer == "once\n4"


def test_a_plan_with_no_steps_completes_with_the_planners_answer(
    store: Store, toolbox: Toolbox
) -> None:
    crane = make_crane(store, toolbox)
    run = crane.execute(crane.start(SCOPE, "hello", Plan(answer="I can calculate.")).id)

    assert run.status is RunStatus.completed
    assert run.steps == []
    assert run.answer == "I can calculate."


def test_a_step_whose_tool_disappeared_fails_by_name(store: Store, toolbox: Toolbox) -> None:
    run_id = start(make_crane(store, toolbox), ("say", {})).id
    del toolbox.tools["say"]

    run = make_crane(store, toolbox).execute(run_id)

    assert run.status is RunStatus.failed
    assert run.steps[0].error == "unknown tool 'say'"


# durability across a crash


def _crash_in_step_two(
    store: Store, toolbox: Toolbox, destructive: bool
) -> tuple[str, Callable[[], Run]]:
    """Start a run whose step 2 dies mid-way; return its id and a way to resume it."""
    toolbox.add("second", ok("second done"), destructive=destructive)
    crashing = Toolbox()
    crashing.tools = dict(toolbox.tools)
    crashing.add("second", _raise(Crash()), destructive=destructive)

    crane = make_crane(store, crashing)
    run = start(crane, ("say", {"text": "first done"}), ("second", {}), ("say", {"text": "third"}))
    with pytest.raises(Crash):
        crane.execute(run.id)
    assert statuses(store.get_run(run.id)) == ["completed", "running", "pending"]
    return run.id, lambda: make_crane(store, toolbox).execute(run.id)


def _raise(error: BaseException) -> Callable[[Args, ToolContext], ToolResult]:
    def behaviour(args: Args, ctx: ToolContext) -> ToolResult:
        raise error

    return behaviour


def test_a_run_interrupted_in_step_two_resumes_there_without_redoing_step_one(
    store: Store, toolbox: Toolbox
) -> None:
    run_id, resume = _crash_in_step_two(store, toolbox, destructive=False)
    toolbox.calls.clear()

    run = resume()

    assert toolbox.calls == Counter({"second": 1, "say": 1})  # steps 2 and 3 only
    assert run.id == run_id
    assert run.status is RunStatus.completed
    assert run.answer == "first done\nsecond done\nthird"


def test_an_interrupted_destructive_step_is_failed_not_run_again(
    store: Store, toolbox: Toolbox
) -> None:
    _, resume = _crash_in_step_two(store, toolbox, destructive=True)
    toolbox.calls.clear()

    run = resume()

    assert toolbox.calls == Counter()
    assert statuses(run) == ["completed", "failed", "skipped"]
    assert run.status is RunStatus.failed
    assert "interrupted" in (run.steps[1].error or "")
    assert "Step 2 (second) failed: interrupted" in (run.answer or "")


def test_a_crash_mid_step_leaves_none_of_the_tools_writes(store: Store, toolbox: Toolbox) -> None:
    def add_then_die(args: Args, ctx: ToolContext) -> ToolResult:
        ctx.store.add_todo(ctx.scope, "half done")
        raise Crash()

    toolbox.add("writer", add_then_die, writes=True)
    with pytest.raises(Crash):
        run_steps(make_crane(store, toolbox), ("writer", {}))

    assert store.list_todos(SCOPE, include_done=True) == []


# transactions around a step


def test_a_tools_write_is_rolled_back_when_its_step_fails(store: Store, toolbox: Toolbox) -> None:
    def add_then_fail(args: Args, ctx: ToolContext) -> ToolResult:
        ctx.store.add_todo(ctx.scope, "should vanish")
        raise ToolError("changed my mind")

    toolbox.add("writer", add_then_fail, writes=True)
    run = run_steps(make_crane(store, toolbox), ("writer", {}))

    assert run.status is RunStatus.failed
    assert store.list_todos(SCOPE, include_done=True) == []


def test_a_retried_step_leaves_exactly_one_copy_of_its_write(
    store: Store, toolbox: Toolbox, sleeps: list[float]
) -> None:
    def add_flakily(args: Args, ctx: ToolContext) -> ToolResult:
        todo = ctx.store.add_todo(ctx.scope, "buy milk")
        if toolbox.calls["writer"] < 3:
            raise TransientError("lost connection")
        return ToolResult(text=f"added #{todo.number}", value=todo.number)

    toolbox.add("writer", add_flakily, writes=True)
    run = run_steps(make_crane(store, toolbox, sleeps), ("writer", {}))

    assert run.answer == "added #1"
    assert [(t.number, t.title) for t in store.list_todos(SCOPE)] == [(1, "buy milk")]


def test_a_pure_tool_runs_without_holding_the_write_lock(store: Store, toolbox: Toolbox) -> None:
    # Another connection can write while a non-writing tool computes: slow tools never
    # block todos, Slack deliveries or other runs.
    other = Store(store.path)
    seen: list[int] = []

    def compute(args: Args, ctx: ToolContext) -> ToolResult:
        seen.append(other.add_todo(Scope(user_id="someone-else"), "written meanwhile").number)
        return ToolResult(text="done")

    toolbox.add("pure", compute)
    run = run_steps(make_crane(store, toolbox), ("pure", {}))

    assert run.status is RunStatus.completed
    assert seen == [1]
    other.close()


# recovery


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _orphan(store: Store, toolbox: Toolbox, owner: Owner) -> str:
    return start(make_crane(store, toolbox, owner=owner), ("say", {"text": "recovered"})).id


def test_recover_resumes_a_run_whose_process_on_this_host_is_dead(
    store: Store, toolbox: Toolbox
) -> None:
    run_id = _orphan(store, toolbox, (socket.gethostname(), _dead_pid(), "old"))

    assert make_crane(store, toolbox).orchestrator.recover() == [run_id]
    run = store.get_run(run_id)
    assert run.status is RunStatus.completed
    assert run.answer == "recovered"


def test_recover_leaves_a_run_of_a_live_process_on_this_host_alone(
    store: Store, toolbox: Toolbox
) -> None:
    run_id = _orphan(store, toolbox, (socket.gethostname(), os.getppid(), "busy"))

    assert make_crane(store, toolbox).orchestrator.recover() == []
    assert store.get_run(run_id).status is RunStatus.pending
    assert toolbox.calls["say"] == 0


def test_recover_resumes_a_run_left_by_an_earlier_runtime_in_this_process(
    store: Store, toolbox: Toolbox
) -> None:
    run_id = _orphan(store, toolbox, (socket.gethostname(), os.getpid(), "previous"))

    assert make_crane(store, toolbox).orchestrator.recover() == [run_id]
    assert store.get_run(run_id).status is RunStatus.completed


def test_recover_never_touches_a_run_it_owns_itself(store: Store, toolbox: Toolbox) -> None:
    crane = make_crane(store, toolbox)
    run_id = start(crane, ("say", {})).id

    assert crane.orchestrator.recover() == []
    assert store.get_run(run_id).status is RunStatus.pending


def test_recover_resumes_a_run_on_another_host_once_its_heartbeat_expired(
    clocked_store: Store, toolbox: Toolbox, clock: Clock
) -> None:
    run_id = _orphan(clocked_store, toolbox, ("elsewhere.example", 4242, "remote"))
    clock.advance(timedelta(minutes=2, seconds=1))

    assert make_crane(clocked_store, toolbox).orchestrator.recover() == [run_id]
    assert clocked_store.get_run(run_id).status is RunStatus.completed


def test_recover_leaves_a_run_on_another_host_with_a_fresh_heartbeat_alone(
    clocked_store: Store, toolbox: Toolbox, clock: Clock
) -> None:
    run_id = _orphan(clocked_store, toolbox, ("elsewhere.example", 4242, "remote"))
    clock.advance(timedelta(seconds=10))

    assert make_crane(clocked_store, toolbox).orchestrator.recover() == []
    assert clocked_store.get_run(run_id).status is RunStatus.pending


def test_only_one_recovering_process_can_claim_an_orphan(store: Store, toolbox: Toolbox) -> None:
    run_id = _orphan(store, toolbox, (socket.gethostname(), _dead_pid(), "old"))
    host = socket.gethostname()

    assert store.claim_run(run_id, "old", (host, 1, "first")) is True
    assert store.claim_run(run_id, "old", (host, 2, "second")) is False


def test_recover_resumes_a_crashed_run_at_the_step_it_was_in(
    store: Store, toolbox: Toolbox
) -> None:
    run_id, _ = _crash_in_step_two(store, toolbox, destructive=False)
    toolbox.calls.clear()
    # The crashed runtime lived in this process under another token: it counts as dead.

    assert make_crane(store, toolbox).orchestrator.recover() == [run_id]
    assert toolbox.calls == Counter({"second": 1, "say": 1})
    assert store.get_run(run_id).status is RunStatus.completed


# events


def _events_of(crane: Crane, *steps: tuple[str, dict[str, Any]]) -> tuple[Run, list[RunEvent]]:
    seen: list[RunEvent] = []
    crane.orchestrator.subscribe(seen.append)
    return run_steps(crane, *steps), seen


def test_subscribers_see_each_state_change_in_order(store: Store, toolbox: Toolbox) -> None:
    run, seen = _events_of(make_crane(store, toolbox), ("say", {"text": "hi"}))

    assert [event.type for event in seen] == [
        "run.started",
        "step.started",
        "step.finished",
        "run.finished",
    ]
    assert [event.seq for event in seen] == [1, 2, 3, 4]
    assert {event.run_id for event in seen} == {run.id}
    assert seen[2].data["step"]["output"] == "hi"
    assert seen[3].data["status"] == "completed"
    assert seen[3].data["answer"] == "hi"


def test_persisted_events_match_what_subscribers_saw(store: Store, toolbox: Toolbox) -> None:
    toolbox.fails("boom", ToolError("nope"))
    run, seen = _events_of(make_crane(store, toolbox), ("say", {}), ("boom", {}), ("say", {}))

    stored = store.events_after(run.id)

    def shape(events: list[RunEvent]) -> list[tuple[int, str, dict[str, Any]]]:
        return [(event.seq, event.type, event.data) for event in events]

    assert shape(stored) == shape(seen)
    assert [event.type for event in stored] == [
        "run.started",
        "step.started",
        "step.finished",
        "step.started",
        "step.finished",
        "run.finished",
    ]
    assert stored[4].data["step"]["error"] == "nope"
    assert shape(store.events_after(run.id, after_seq=4)) == shape(seen[4:])


def test_a_subscriber_that_raises_does_not_break_the_run(store: Store, toolbox: Toolbox) -> None:
    crane = make_crane(store, toolbox)

    def broken(event: RunEvent) -> None:
        raise RuntimeError("subscriber bug")

    crane.orchestrator.subscribe(broken)
    run, seen = _events_of(crane, ("say", {"text": "still fine"}))

    assert run.status is RunStatus.completed
    assert run.answer == "still fine"
    assert len(seen) == 4


def test_an_unsubscribed_listener_hears_nothing_more(store: Store, toolbox: Toolbox) -> None:
    crane = make_crane(store, toolbox)
    seen: list[RunEvent] = []
    unsubscribe = crane.orchestrator.subscribe(seen.append)
    run_steps(crane, ("say", {}))
    unsubscribe()
    run_steps(crane, ("say", {}))

    assert len(seen) == 4


# step references


def test_references_feed_earlier_values_into_later_steps(store: Store, toolbox: Toolbox) -> None:
    run = run_steps(
        make_crane(store, toolbox),
        ("say", {"n": 5}),
        ("double", {"n": "$1"}),
        ("double", {"n": "$prev"}),
        ("say", {"text": "total $3 from $1"}),
    )

    assert run.status is RunStatus.completed
    assert [step.value for step in run.steps] == [5, 10, 20, 0]
    assert run.steps[3].output == "total 20 from 5"


def test_a_negative_value_is_parenthesised_inside_text(store: Store, toolbox: Toolbox) -> None:
    run = run_steps(make_crane(store, toolbox), ("say", {"n": -3}), ("say", {"text": "$1 + 10"}))
    assert run.steps[1].output == "(-3) + 10"


def test_a_reference_to_a_new_todo_completes_that_todo(store: Store, toolbox: Toolbox) -> None:
    store.add_todo(SCOPE, "older")
    run = run_steps(
        make_crane(store, toolbox),
        ("add_todo", {"title": "buy milk"}),
        ("complete_todo", {"number": "$1"}),
    )

    assert run.status is RunStatus.completed
    assert [(t.number, t.done) for t in store.list_todos(SCOPE, include_done=True)] == [
        (1, False),
        (2, True),
    ]


@pytest.mark.parametrize(
    "steps",
    [
        [("double", {"n": "$2"}), ("say", {"n": 1})],
        [("double", {"n": "$1"})],
        [("double", {"n": "$prev"})],
        [("say", {}), ("double", {"n": "$0"})],
        [("say", {}), ("say", {"text": "see $7"})],
    ],
    ids=["forward", "self", "prev-in-first", "zero", "missing"],
)
def test_a_plan_referring_to_no_earlier_step_is_refused_and_nothing_stored(
    store: Store, toolbox: Toolbox, steps: list[tuple[str, dict[str, Any]]]
) -> None:
    plan = Plan(steps=[PlannedStep(tool=tool, args=args) for tool, args in steps])
    crane = make_crane(store, toolbox, planner=lambda text, history: plan)

    with pytest.raises(InvalidInput, match="which is not an earlier step"):
        crane.plan(SCOPE, "do it")
    with pytest.raises(InvalidInput):
        check_references(plan.steps, {name: t.reference_args for name, t in toolbox.tools.items()})
    assert store.list_runs() == []


def test_a_plan_using_an_unknown_tool_is_refused(store: Store, toolbox: Toolbox) -> None:
    plan = Plan(steps=[PlannedStep(tool="launch_rockets")])
    crane = make_crane(store, toolbox, planner=lambda text, history: plan)

    with pytest.raises(InvalidInput, match="unknown tools: launch_rockets"):
        crane.ask(SCOPE, "launch")
    assert store.list_runs() == []


@pytest.mark.parametrize("title", ["pay $100 rent", "send $1 to $prev", "$2"])
def test_a_todo_title_with_dollar_signs_is_stored_verbatim(
    store: Store, toolbox: Toolbox, title: str
) -> None:
    run = run_steps(make_crane(store, toolbox), ("say", {"n": 7}), ("add_todo", {"title": title}))

    assert run.status is RunStatus.completed
    assert [todo.title for todo in store.list_todos(SCOPE)] == [title]


def test_runs_are_listed_newest_first(clocked_store: Store, toolbox: Toolbox, clock: Clock) -> None:
    crane = make_crane(clocked_store, toolbox)
    ids = []
    for text in ("first", "second", "third"):
        ids.append(start(crane, ("say", {}), text=text).id)
        clock.advance(timedelta(microseconds=1))

    assert [run.id for run in clocked_store.list_runs()] == ids[::-1]
    assert [run.text for run in clocked_store.list_runs(limit=2)] == ["third", "second"]


def test_a_run_is_invisible_to_another_caller(store: Store, toolbox: Toolbox) -> None:
    run = run_steps(make_crane(store, toolbox), ("say", {}))
    other = Scope(enterprise_id="E1", team_id="T1", user_id="mallory")

    with pytest.raises(NotFound, match=f"run {run.id} not found") as foreign:
        store.get_run(run.id, other)
    with pytest.raises(NotFound, match="run nope not found") as missing:
        store.get_run("nope", SCOPE)
    assert type(foreign.value) is type(missing.value)
    assert store.get_run(run.id, SCOPE).id == run.id


# one commit per step: a step's end and the next step's start commit together


Seen = tuple[list[str], list[str], str]  # step statuses, event types, run status


@contextmanager
def reader(store: Store) -> Iterator[Callable[[str], Seen]]:
    """What another process reads right now: a run's step statuses, event types and status."""
    other = Store(store.path)

    def now(run_id: str) -> Seen:
        run = other.get_run(run_id)
        return statuses(run), [e.type for e in other.events_after(run_id)], run.status.value

    yield now
    other.close()


@pytest.fixture
def read(store: Store) -> Iterator[Callable[[str], Seen]]:
    with reader(store) as now:
        yield now


def test_a_steps_end_and_the_next_steps_start_are_committed_before_either_is_announced(
    store: Store, toolbox: Toolbox, read: Callable[[str], Seen]
) -> None:
    crane = make_crane(store, toolbox)
    seen: list[tuple[str, int, Any]] = []

    def listener(event: RunEvent) -> None:
        step = event.data.get("step", {}).get("index", 0)
        seen.append((event.type, step, read(event.run_id)))

    crane.orchestrator.subscribe(listener)
    run = run_steps(crane, ("say", {"text": "one"}), ("say", {"text": "two"}))

    assert [(kind, step) for kind, step, _ in seen] == [
        ("run.started", 0), ("step.started", 1),
        ("step.finished", 1), ("step.started", 2),
        ("step.finished", 2), ("run.finished", 0),
    ]  # fmt: skip
    started = ["run.started", "step.started"]
    between = [*started, "step.finished", "step.started"]
    # each announcement comes after the whole transaction holding it has committed
    assert [state for _, _, state in seen] == [
        (["running", "pending"], started, "running"),
        (["running", "pending"], started, "running"),
        (["completed", "running"], between, "running"),
        (["completed", "running"], between, "running"),
        (["completed", "completed"], [*between, "step.finished", "run.finished"], "completed"),
        (["completed", "completed"], [*between, "step.finished", "run.finished"], "completed"),
    ]
    assert [e.type for e in store.events_after(run.id)] == [kind for kind, _, _ in seen]


def test_a_run_of_n_steps_takes_n_plus_one_commits_after_taking_its_lease(
    store: Store, toolbox: Toolbox
) -> None:
    crane = make_crane(store, toolbox)
    run_id = start(crane, *[("say", {"n": n}) for n in range(5)]).id
    with store.write() as conn:  # this thread's connection, which the run will use
        pass
    commits: list[str] = []
    conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    try:
        run = crane.execute(run_id)
    finally:
        conn.set_trace_callback(None)

    assert run.status is RunStatus.completed
    # the lease; start + step 1; 4 × (end of one + start of next); end + finish
    assert len(commits) == 7


def test_the_tool_runs_only_after_its_start_is_committed_and_announced(
    store: Store, toolbox: Toolbox, read: Callable[[str], Seen]
) -> None:
    order: list[str] = []

    def observed(args: Args, ctx: ToolContext) -> ToolResult:
        order.append(f"tool sees {read(run_id)[0]}")
        return ToolResult(text="done")

    toolbox.add("observed", observed)
    crane = make_crane(store, toolbox)
    crane.orchestrator.subscribe(
        lambda event: order.append(event.type) if event.type.startswith("step") else None
    )
    run_id = start(crane, ("say", {}), ("observed", {})).id
    crane.execute(run_id)

    assert order == [
        "step.started", "step.finished", "step.started",
        "tool sees ['completed', 'running']", "step.finished",
    ]  # fmt: skip


def _crash_on(kind: str, index: int) -> Callable[[RunEvent], None]:
    def listener(event: RunEvent) -> None:
        if event.type == kind and event.data["step"]["index"] == index:
            raise Crash()  # the process dies right after the announcement

    return listener


@pytest.mark.parametrize("destructive", [False, True], ids=["plain", "destructive"])
def test_a_crash_between_steps_leaves_only_the_next_step_running(
    store: Store, toolbox: Toolbox, destructive: bool
) -> None:
    toolbox.add("second", ok("second done"), destructive=destructive)
    crane = make_crane(store, toolbox)
    run = start(crane, ("add_todo", {"title": "buy milk"}), ("second", {}), ("say", {}))
    crane.orchestrator.subscribe(_crash_on("step.started", 2))
    with pytest.raises(Crash):
        crane.execute(run.id)

    # step 1's write committed with its completion, and with step 2's start
    assert statuses(store.get_run(run.id)) == ["completed", "running", "pending"]
    assert [todo.title for todo in store.list_todos(SCOPE)] == ["buy milk"]
    assert toolbox.calls["second"] == 0

    resumed = make_crane(store, toolbox).execute(run.id)

    assert [todo.title for todo in store.list_todos(SCOPE)] == ["buy milk"]  # not added again
    if destructive:  # it never ran, but a destructive step found running is never retried
        assert statuses(resumed) == ["completed", "failed", "skipped"]
        assert toolbox.calls["second"] == 0
        assert "interrupted" in (resumed.steps[1].error or "")
    else:
        assert statuses(resumed) == ["completed", "completed", "completed"]
        assert toolbox.calls["second"] == 1


def test_events_keep_counting_from_the_store_when_a_run_resumes(
    store: Store, toolbox: Toolbox
) -> None:
    crane = make_crane(store, toolbox)
    run = start(crane, ("say", {}), ("say", {}), ("say", {}))
    first: list[RunEvent] = []
    crane.orchestrator.subscribe(first.append)
    crane.orchestrator.subscribe(_crash_on("step.finished", 2))
    with pytest.raises(Crash):
        crane.execute(run.id)
    again: list[RunEvent] = []

    make_crane(store, toolbox).execute(run.id, on_event=again.append)

    stored = store.events_after(run.id)
    assert [e.seq for e in stored] == list(range(1, 10))
    assert [e.type for e in stored] == [
        "run.started", "step.started", "step.finished", "step.started", "step.finished",
        "step.started",  # committed with step 2's end; the crash came before it was announced
        "step.started", "step.finished", "run.finished",  # step 3 again, after the resume
    ]  # fmt: skip
    assert [e.seq for e in first] == [1, 2, 3, 4, 5]
    assert [e.seq for e in again] == [7, 8, 9]


def test_invalid_arguments_of_the_next_step_fail_it_in_the_previous_steps_transaction(
    store: Store, toolbox: Toolbox, read: Callable[[str], Seen]
) -> None:
    toolbox.add("word", ok("a word", value="not a number"))
    crane = make_crane(store, toolbox)
    at_first_finish: list[Any] = []
    crane.orchestrator.subscribe(
        lambda event: (
            at_first_finish.append(read(event.run_id))
            if event.type == "step.finished" and event.data["step"]["index"] == 1
            else None
        )
    )
    run = run_steps(crane, ("word", {}), ("double", {"n": "$1"}), ("say", {}))

    assert statuses(run) == ["completed", "failed", "skipped"]
    assert (run.steps[1].error or "").startswith("invalid arguments — n: ")
    assert run.steps[1].attempts == 1
    assert toolbox.calls["double"] == 0
    kinds = ["run.started", "step.started", "step.finished", "step.finished", "run.finished"]
    assert at_first_finish == [(["completed", "failed", "skipped"], kinds, "failed")]
