"""Pattern planner: median and worst µs per prompt, over every turn of the planner dev set and
of the repository's own cases (tests/core/data/planner_cases.jsonl).

Each prompt is planned against one History holding a user's todos (as `Crane.plan` fills it), so
todos named by their words are resolved as in production, without the store's cost. The figure
per prompt is its best-of-rounds mean; the summary gives the median and the worst of those.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ROOT, Result, header, median, say, verdict

DEV_SET = ROOT.parent / "shared" / "eval" / "planner_dev.jsonl"
CASES = ROOT / "tests" / "core" / "data" / "planner_cases.jsonl"
TARGET_US = 50.0
TODO_TITLES = [
    "buy milk", "call the plumber", "renew insurance", "finish the report", "pay rent",
    "pay rent for May", "go to the gym", "write the report", "print the report", "book flights",
    "water the plants", "call mom", "pick up the kids", "renew passport", "delete old photos",
    "complete 2 forms", "book the vet", "send the invoice", "buy stamps", "thank Ana",
]  # fmt: skip


def prompts(path: Path = DEV_SET) -> list[str]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            found.extend(json.loads(line)["turns"])
    return found


def _history() -> Any:
    from core.plan import History, Todo

    now = datetime.now(UTC)
    todos = [
        Todo(number=n, title=title, done=n % 5 == 0, created_at=now)
        for n, title in enumerate(TODO_TITLES, start=1)
    ]
    return History(todos=todos)


def _measure(texts: list[str], history: Any, rounds: int, repeat: int) -> dict[str, float]:
    from core.planners.pattern import plan

    for text in texts:  # warm up: regex compilation, caches
        plan(text, history)
    best = {text: float("inf") for text in texts}
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            for _ in range(repeat):
                plan(text, history)
            best[text] = min(best[text], (time.perf_counter() - start) / repeat * 1e6)
    return best


def run(quick: bool = False) -> Result:
    sets = {"dev set": prompts(DEV_SET), "own cases": prompts(CASES) if CASES.exists() else []}
    total = sum(len(texts) for texts in sets.values())
    header(f"Pattern planner: µs per prompt over {total} turns (dev set + own cases)")
    rounds, repeat = (2, 3) if quick else (7, 200)
    history = _history()
    figures: Result = []
    every: dict[str, float] = {}
    for name, texts in sets.items():
        if not texts:
            continue
        best = _measure(texts, history, rounds, repeat)
        every.update(best)
        per_prompt = sorted(best.values())
        mid, worst = median(per_prompt), per_prompt[-1]
        say(f"  {name} ({len(texts)} turns): median {mid:.1f} µs/prompt, worst {worst:.1f} µs")
        say(f"    slowest prompt: {max(best, key=best.__getitem__)!r}")
        figures.append((f"planner {name} median / worst µs", f"{mid:.1f} / {worst:.1f} µs"))
    per_prompt = sorted(every.values())
    mid, worst = median(per_prompt), per_prompt[-1]
    say(f"  all: median {mid:.1f} µs/prompt, worst {worst:.1f} µs")
    return [
        ("planner median µs/prompt", f"{mid:.1f} µs (target < {TARGET_US:.0f}) "
         f"{verdict(mid < TARGET_US)}"),
        ("planner worst µs/prompt", f"{worst:.1f} µs"),
        *figures,
    ]  # fmt: skip


if __name__ == "__main__":
    run()
