"""Orchestrator overhead per step, with its durable step records, against two references.

The same no-op tool function runs through each executor, interleaved round by round:
  - Crane: a stored run (insert + execute) on a WAL file database — each step's finish
    committed together with the next step's start, with their events, before the next tool runs
    (one commit per step);
  - Crane with the tool declared pure (no effect outside the run, like the calculator):
    consecutive steps share one commit, reported on its own line;
  - the SQL floor (bench.sql_floor): the statements of one step's commit, sent by bare sqlite3;
  - a bare Python loop calling the function (the floor);
  - LangGraph: a linear graph of as many nodes, checkpointed by its SqliteSaver on a file
    (durability="sync": each step's checkpoint is written before the next step starts, the
    same promise Crane makes; the connection gets Crane's synchronous=NORMAL too). LangGraph's
    default, durability="async" (checkpoints written while the next step runs), is shown too.
  - on PostgreSQL (bench.pg: a scratch schema on one server, over loopback): Crane with
    CRANE_DB=postgresql://…, and the same LangGraph graph checkpointed by its PostgresSaver
    (durability="sync") on the same server.
Reported: µs per step for each (median over rounds), LangGraph / Crane on each database, and
Crane on PostgreSQL / Crane on SQLite.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

from pydantic import BaseModel

from bench import Result, header, median, say, verdict
from bench.pg import scratch_schema
from bench.sql_floor import SqlFloorRunner
from core.orchestrator import Orchestrator
from core.plan import Plan, PlannedStep, Scope, ToolResult
from core.runtime import Crane
from core.store import Store
from core.tool import Tool, ToolContext

STEPS = 20
TARGET_US = 60.0
TARGET_RATIO = 10.0
SCOPE = Scope(user_id="bench")


class NoopInput(BaseModel):
    n: int = 0


def noop(args: NoopInput, ctx: ToolContext) -> ToolResult:
    return ToolResult(text="ok", value=args.n)


NOOP = Tool("noop", NoopInput, noop, "Does nothing.")
PURE_NOOP = Tool("noop", NoopInput, noop, "Does nothing.", pure=True)
PLAN = Plan(steps=[PlannedStep(tool="noop", args={"n": i}) for i in range(STEPS)])


def no_planner(text: str, history: Any) -> Plan:
    return PLAN


class CraneRunner:
    def __init__(self, db: str, tool: Tool = NOOP) -> None:
        self.store = Store(db)
        self.crane = Crane(self.store, no_planner, Orchestrator(self.store, tools={"noop": tool}))

    def run_once(self) -> None:
        run = self.crane.start(SCOPE, "bench", PLAN)
        done = self.crane.execute(run.id)
        if done.status.value != "completed" or len(done.steps) != STEPS:
            raise RuntimeError(f"crane run ended {done.status.value}: {done.answer}")

    def close(self) -> None:
        self.store.close()


class BareRunner:
    def __init__(self) -> None:
        self.ctx = ToolContext(scope=SCOPE, store=None)
        self.args = [NoopInput(n=i) for i in range(STEPS)]

    def run_once(self) -> None:
        for args in self.args:
            noop(args, self.ctx)

    def close(self) -> None:
        pass


class State(TypedDict):
    n: int


def linear_graph() -> Any:
    from langgraph.graph import END, START, StateGraph

    ctx = ToolContext(scope=SCOPE, store=None)

    def node(state: State) -> State:
        result = noop(NoopInput(n=state["n"]), ctx)
        return {"n": int(result.value or 0) + 1}

    graph = StateGraph(State)
    previous = START
    for i in range(STEPS):
        graph.add_node(f"step{i}", node)
        graph.add_edge(previous, f"step{i}")
        previous = f"step{i}"
    graph.add_edge(previous, END)
    return graph


class LangGraphPgRunner:
    """The linear graph checkpointed by LangGraph's PostgresSaver (durability="sync")."""

    def __init__(self, url: str) -> None:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        self.conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
        saver = PostgresSaver(self.conn)  # type: ignore[arg-type]
        saver.setup()
        self.app = linear_graph().compile(checkpointer=saver)
        self.count = 0

    def run_once(self) -> None:
        self.count += 1
        config = {"configurable": {"thread_id": f"t{self.count}"}}
        out = self.app.invoke({"n": 0}, config, durability="sync")  # type: ignore[arg-type]
        if out["n"] != STEPS:
            raise RuntimeError(f"langgraph ended with {out}")

    def close(self) -> None:
        self.conn.close()


class LangGraphRunner:
    def __init__(self, directory: Path, durability: str = "sync") -> None:
        from langgraph.checkpoint.sqlite import SqliteSaver

        graph = linear_graph()

        self.durability = durability
        path = directory / f"langgraph-{durability}.db"
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        saver = SqliteSaver(self.conn)
        saver.setup()  # WAL, like Crane
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.app = graph.compile(checkpointer=saver)
        self.count = 0

    def run_once(self) -> None:
        self.count += 1
        config = {"configurable": {"thread_id": f"t{self.count}"}}
        out = self.app.invoke({"n": 0}, config, durability=self.durability)  # type: ignore[arg-type]
        if out["n"] != STEPS:
            raise RuntimeError(f"langgraph ended with {out}")

    def close(self) -> None:
        self.conn.close()


def _batch_us_per_step(runner: Any, runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        runner.run_once()
    return (time.perf_counter() - start) / (runs * STEPS) * 1e6


def _langgraph(directory: Path, durability: str) -> LangGraphRunner | None:
    try:
        return LangGraphRunner(directory, durability)
    except ImportError as error:
        say(f"  LangGraph not installed ({error}); `pip install -e '.[bench]'` to compare")
        return None


def _runners(directory: Path, pg: str | None, quick: bool) -> list[tuple[str, Any, int]]:
    crane_runs, lg_runs, bare_runs, pg_runs = (3, 1, 50, 1) if quick else (40, 4, 2000, 4)
    runners: list[tuple[str, Any, int]] = [
        ("crane", CraneRunner(str(directory / "crane.db")), crane_runs),
        ("crane-pure", CraneRunner(str(directory / "pure.db"), PURE_NOOP), crane_runs),
        ("sql-floor", SqlFloorRunner(directory / "floor.db", STEPS), crane_runs),
        ("bare", BareRunner(), bare_runs),
    ]
    if pg is not None:
        runners.append(("crane-pg", CraneRunner(pg), pg_runs))
    lg = _langgraph(directory, "sync")
    if lg is not None:
        runners.append(("langgraph", lg, lg_runs))
        # LangGraph's default: checkpoints written in the background, not before the next step
        runners.append(("lg-async", LangGraphRunner(directory, "async"), lg_runs))
        if pg is not None:
            runners.append(("lg-pg", LangGraphPgRunner(pg), max(1, pg_runs // 2)))
    return runners


def run(quick: bool = False) -> Result:
    header(f"Orchestrator: µs per step, {STEPS}-step plan of a no-op tool")
    rounds = 2 if quick else 9
    with tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp, scratch_schema() as pg:
        runners = _runners(Path(tmp), pg, quick)
        for _, runner, _ in runners:  # warm up: imports, prepared statements, caches
            runner.run_once()
        samples: dict[str, list[float]] = {name: [] for name, _, _ in runners}
        for i in range(rounds):
            order = runners if i % 2 == 0 else runners[::-1]
            for name, runner, runs in order:
                samples[name].append(_batch_us_per_step(runner, runs))
        for _, runner, _ in runners:
            runner.close()
    figures = {name: median(values) for name, values in samples.items()}
    for name, value in figures.items():
        spread = f"{min(samples[name]):.1f}–{max(samples[name]):.1f}"
        say(f"  {name:<10} {value:9.2f} µs/step  (rounds: {spread})")
    result: Result = [
        ("orchestrator crane µs/step", f"{figures['crane']:.1f} µs (target < {TARGET_US:.0f}) "
         f"{verdict(figures['crane'] < TARGET_US)}"),
        ("orchestrator crane pure steps µs/step", f"{figures['crane-pure']:.1f} µs (consecutive "
         f"pure steps share a commit; {figures['crane'] / figures['crane-pure']:.1f}× lighter)"),
        ("orchestrator SQL floor µs/step", f"{figures['sql-floor']:.1f} µs (one step's statements "
         "and COMMIT by bare sqlite3)"),
        ("orchestrator bare loop µs/step", f"{figures['bare']:.2f} µs"),
    ]  # fmt: skip
    if "langgraph" in figures:
        ratio = figures["langgraph"] / figures["crane"]
        say(
            f"  LangGraph / Crane = {ratio:.1f}× (LangGraph's default durability=async: "
            f"{figures['lg-async'] / figures['crane']:.1f}×)"
        )
        pure = figures["langgraph"] / figures["crane-pure"]
        say(f"  LangGraph / Crane with pure steps sharing commits = {pure:.1f}×")
        result += [
            ("orchestrator langgraph/crane pure steps", f"{pure:.1f}×"),
            ("orchestrator langgraph µs/step", f"{figures['langgraph']:.1f} µs (durability=sync), "
             f"{figures['lg-async']:.1f} µs (async)"),
            ("orchestrator langgraph/crane", f"{ratio:.1f}× (target ≥ {TARGET_RATIO:.0f}×) "
             f"{verdict(ratio >= TARGET_RATIO)}"),
        ]  # fmt: skip
    return result + _pg_figures(figures) + _trips(quick)


def _trips(quick: bool) -> Result:
    """Round trips and commits per step on PostgreSQL, Crane and LangGraph's PostgresSaver."""
    from bench.pg_trips import per_step

    runs = 1 if quick else 5
    result: Result = []
    for name, make in (("crane-pg", CraneRunner), ("langgraph-pg", LangGraphPgRunner)):
        try:
            found = per_step(make, runs, STEPS)
        except ImportError:
            continue
        if found is None:
            return [("orchestrator round trips", "skipped (no PostgreSQL answered)")]
        trips, commits = found
        say(f"  {name}: {trips:.2f} round trips, {commits:.2f} commits (xact_commit) per step")
        result.append((f"orchestrator {name} round trips, commits per step",
                       f"{trips:.2f}, {commits:.2f}"))  # fmt: skip
    return result


def _pg_figures(figures: dict[str, float]) -> Result:
    if "crane-pg" not in figures:
        return [("orchestrator on PostgreSQL", "skipped (no PostgreSQL answered)")]
    on_pg = figures["crane-pg"]
    result: Result = [
        ("orchestrator crane-pg µs/step", f"{on_pg:.1f} µs "
         f"({on_pg / figures['crane']:.1f}× Crane on SQLite; one commit per step over loopback)"),
    ]  # fmt: skip
    if "lg-pg" in figures:
        ratio = figures["lg-pg"] / on_pg
        say(f"  on PostgreSQL: LangGraph (PostgresSaver, sync) / Crane = {ratio:.1f}×")
        result += [
            ("orchestrator langgraph-pg µs/step", f"{figures['lg-pg']:.1f} µs (durability=sync)"),
            ("orchestrator langgraph-pg/crane-pg", f"{ratio:.1f}×"),
        ]
    return result


def profile(runs: int = 200) -> None:
    """cProfile of Crane's runs (python -c 'import bench.bench_orchestrator as b; b.profile()')."""
    import cProfile
    import pstats

    with tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp:
        runner = CraneRunner(str(Path(tmp) / "crane.db"))
        runner.run_once()
        profiler = cProfile.Profile()
        call: Callable[[], None] = runner.run_once
        profiler.enable()
        for _ in range(runs):
            call()
        profiler.disable()
        runner.close()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    run()
