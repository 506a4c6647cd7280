"""`python -m bench.tips REV [--rounds N] [--quick] [--only NAME ...]`: the same benchmarks on
an earlier commit and on this tree, interleaved (old, new, old, new, …) in one run so both see
the same noisy machine, then the median of each figure side by side.

The earlier commit is checked out into a temporary git worktree and imported from there (this
tree's installed dependencies serve both)."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ONLY = ["orchestrator", "slack_ack", "api"]
# a summary line: "  name   figure…"; the figure's first number is what is compared
SUMMARY_LINE = re.compile(r"^  (\S.*?)\s{2,}(-?[\d.]+)")


def figures(tree: Path, only: list[str], quick: bool) -> dict[str, float]:
    """Run `python -m bench` from `tree`; its summary's first number per figure."""
    command = [sys.executable, "-m", "bench", "--only", *only] + (["--quick"] if quick else [])
    env = os.environ | {"PYTHONPATH": str(tree)}
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    summary = done.stdout.split("== Summary", 1)[-1].splitlines()[1:]
    found = {}
    for line in summary:
        match = SUMMARY_LINE.match(line)
        if match:
            found[match.group(1)] = float(match.group(2))
    if not found:
        raise SystemExit(f"bench failed in {tree}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tips", description=__doc__)
    parser.add_argument("rev", help="the earlier commit, e.g. HEAD~3 or a hash")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", default=DEFAULT_ONLY)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crane-tip-") as folder:
        old = Path(folder) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old),
                        args.rev], check=True)  # fmt: skip
        try:
            runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
            for round_ in range(1, args.rounds + 1):
                for name, tree in (("old", old), ("new", ROOT)):
                    print(f"round {round_}: {name} …", flush=True)
                    runs[name].append(figures(tree, args.only, args.quick))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=False)  # fmt: skip
    names = [n for n in runs["new"][0] if all(n in r for r in runs["old"] + runs["new"])]
    width = max(len(n) for n in names)
    print(f"\nmedian of {args.rounds} interleaved runs: {args.rev} → this tree")
    for name in names:
        before = statistics.median(r[name] for r in runs["old"])
        after = statistics.median(r[name] for r in runs["new"])
        ratio = f"{after / before:.2f}×" if before else "—"
        print(f"  {name:<{width}}  {before:>10.1f} → {after:>10.1f}   new/old {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
