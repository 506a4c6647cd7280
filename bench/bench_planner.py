"""Pattern planner: median µs per prompt over every turn of the planner dev set.

Each prompt is planned against an empty History (the planner's own cost, no store); the
figure is the median over prompts of each prompt's best-of-rounds mean.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import ROOT, Result, header, median, say, verdict

DEV_SET = ROOT.parent / "shared" / "eval" / "planner_dev.jsonl"
TARGET_US = 50.0


def prompts(path: Path = DEV_SET) -> list[str]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            found.extend(json.loads(line)["turns"])
    return found


def run(quick: bool = False) -> Result:
    from core.plan import History
    from core.planners.pattern import plan

    texts = prompts()
    header(f"Pattern planner: µs per prompt over {len(texts)} dev-set turns")
    rounds, repeat = (2, 3) if quick else (7, 200)
    history = History()
    for text in texts:  # warm up: regex compilation, caches
        plan(text, history)
    best = {text: float("inf") for text in texts}
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            for _ in range(repeat):
                plan(text, history)
            best[text] = min(best[text], (time.perf_counter() - start) / repeat * 1e6)
    per_prompt = sorted(best.values())
    mid, worst = median(per_prompt), per_prompt[-1]
    slowest = max(best, key=best.__getitem__)
    say(f"  median {mid:.1f} µs/prompt, fastest {per_prompt[0]:.1f}, slowest {worst:.1f} µs")
    say(f"  slowest prompt: {slowest!r}")
    return [
        ("planner median µs/prompt", f"{mid:.1f} µs (target < {TARGET_US:.0f}) "
         f"{verdict(mid < TARGET_US)}"),
        ("planner slowest µs/prompt", f"{worst:.1f} µs"),
    ]  # fmt: skip


if __name__ == "__main__":
    run()
