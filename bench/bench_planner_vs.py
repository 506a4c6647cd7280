"""Pattern planner, this tree against an earlier one, side by side in one run: the same prompts
(this tree's dev set + own cases + held-out set), the same History, the same timing loop, each
tree's planner in a subprocess of its own. The earlier tree is `git archive`d from
CRANE_BENCH_BASE (default: where this branch left main) into a temporary directory.

`python -m bench --only planner_vs`, or `python -m bench.bench_planner_vs [REF]`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from bench import ROOT, Result, header, median, say, verdict
from bench.bench_planner import CASES, DEV_SET, TARGET_US, TODO_TITLES, prompts

HELD_OUT = ROOT / "tests" / "core" / "data" / "planner_heldout.jsonl"
# Runs inside each tree: plans every prompt against one History of TODO_TITLES and prints each
# prompt's best-of-rounds mean in µs.
_SCRIPT = """
import json, sys, time
from datetime import UTC, datetime
from core.plan import History, Todo
from core.planners.pattern import plan
texts, titles, rounds, repeat = json.load(sys.stdin)
now = datetime.now(UTC)
history = History(todos=[Todo(number=n, title=t, done=n % 5 == 0, created_at=now)
                         for n, t in enumerate(titles, start=1)])
for text in texts:
    plan(text, history)
best = [float("inf")] * len(texts)
for _ in range(rounds):
    for i, text in enumerate(texts):
        start = time.perf_counter()
        for _ in range(repeat):
            plan(text, history)
        best[i] = min(best[i], (time.perf_counter() - start) / repeat * 1e6)
print(json.dumps(best))
"""


def _git(*args: str) -> str:
    found = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return found.stdout.strip()


def _base_ref() -> str:
    """CRANE_BENCH_BASE, else where this branch left main, else (on main) the commit before."""
    ref = os.environ.get("CRANE_BENCH_BASE")
    if ref:
        return ref
    base = _git("merge-base", "HEAD", "main")
    return base if base and base != _git("rev-parse", "HEAD") else "HEAD~1"


def _export(ref: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "core"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def _measure(tree: Path, texts: list[str], rounds: int, repeat: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    found = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps([texts, TODO_TITLES, rounds, repeat]),
        capture_output=True, text=True, check=True, env=env, cwd=tree,
    )  # fmt: skip
    return list(json.loads(found.stdout))


def run(quick: bool = False) -> Result:
    ref = _base_ref()
    groups = {"dev set + own cases": [*prompts(DEV_SET), *prompts(CASES)]}
    groups["held-out"] = prompts(HELD_OUT)
    texts = [text for group in groups.values() for text in group]
    header(f"Pattern planner: this tree vs {ref[:12]}, µs per prompt over {len(texts)} turns")
    rounds, repeat = (1, 3) if quick else (2, 150)
    before = after = [float("inf")] * len(texts)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            _export(ref, Path(tmp))
        except (OSError, subprocess.CalledProcessError):
            say(f"  (no git history for {ref!r} here: nothing to compare against)")
            return [("planner before → after", f"skipped: {ref!r} not available")]
        for _ in range(3):  # alternate, so a busy moment of the machine hits both trees alike
            before = list(map(min, before, _measure(Path(tmp), texts, rounds, repeat)))
            after = list(map(min, after, _measure(ROOT, texts, rounds, repeat)))
    figures: Result = []
    start = 0
    for group, members in groups.items():
        end = start + len(members)
        was, now = sorted(before[start:end]), sorted(after[start:end])
        start = end
        say(f"  {group} ({len(members)} turns): median {median(was):.1f} → {median(now):.1f} "
            f"µs/prompt, worst {was[-1]:.1f} → {now[-1]:.1f} µs")  # fmt: skip
        figures.append(
            (f"planner {group} median before → after", f"{median(was):.1f} → {median(now):.1f} µs")
        )
    slowest = max(range(len(texts)), key=after.__getitem__)
    say(f"    slowest now: {texts[slowest]!r} ({after[slowest]:.1f} µs)")
    mid = median(sorted(after[: len(groups["dev set + own cases"])]))
    figures.append(("planner median now (dev + own)", f"{mid:.1f} µs (target < {TARGET_US:.0f}) "
                    f"{verdict(mid < TARGET_US)}"))  # fmt: skip
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1:
        os.environ["CRANE_BENCH_BASE"] = sys.argv[1]
    run()
