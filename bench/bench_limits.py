"""The run limits' cost per accepted request (plan + store of a one-step run), on SQLite and
PostgreSQL, interleaved round by round: with no counting at all (a click's run), with usage
counted (always, limits off), and with both run limits set (a read before planning, two
upserts in the transaction that stores the run). Limits high enough that nothing is refused.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench import Result, header, median, say
from bench.pg import scratch_schema
from core.limits import Limits
from core.orchestrator import Orchestrator
from core.plan import Plan, PlannedStep, Scope
from core.runtime import Crane
from core.store import Store

PLAN = Plan(steps=[PlannedStep(tool="calculator", args={"expression": "2+3"})])
SCOPE = Scope(enterprise_id="E1", team_id="T1", user_id="bench")
KINDS = {
    "uncounted": None,
    "usage only": Limits(),
    "run limits": Limits(runs_per_minute=10**6, runs_per_day=10**8),
}


def _planner(text: str, history: Any) -> Plan:
    return PLAN


def _us_per_request(store: Store, kind: str, requests: int) -> float:
    limits = KINDS[kind]
    crane = Crane(store, _planner, Orchestrator(store), limits=limits)
    started = time.perf_counter()
    for _ in range(requests):
        text, plan = crane.plan(SCOPE, "calculate 2+3")
        crane.start(SCOPE, text, plan, counted=limits is not None)
    return (time.perf_counter() - started) * 1e6 / requests


def _measure(db: str, rounds: int, requests: int) -> dict[str, float]:
    store = Store(db)
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    try:
        for kind in KINDS:
            _us_per_request(store, kind, 2)  # warm up
        for i in range(rounds):
            for kind in list(KINDS) if i % 2 == 0 else list(KINDS)[::-1]:
                samples[kind].append(_us_per_request(store, kind, requests))
    finally:
        store.close()
    return {kind: median(values) for kind, values in samples.items()}


def run(quick: bool = False) -> Result:
    header("Limits: µs per accepted request (plan + store), uncounted vs usage vs run limits")
    rounds, requests = (2, 5) if quick else (7, 200)
    result: Result = []
    with tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp, scratch_schema() as pg:
        databases = {"sqlite": str(Path(tmp) / "crane.db")}
        if pg is not None:
            databases["postgresql"] = pg
        for backend, db in databases.items():
            figures = _measure(db, rounds, 20 if backend == "postgresql" and quick else requests)
            base = figures["uncounted"]
            for kind, value in figures.items():
                say(f"  {backend:<10} {kind:<10} {value:9.1f} µs/request")
            extra = figures["run limits"] - base
            result.append((f"limits {backend} µs/request", (
                f"{base:.0f} uncounted, {figures['usage only']:.0f} usage, "
                f"{figures['run limits']:.0f} run limits (+{extra:.0f} µs)")))  # fmt: skip
        if pg is None:
            result.append(("limits postgresql", "skipped (no PostgreSQL answered)"))
    return result


if __name__ == "__main__":
    run()
