"""`python -m bench [--quick] [--only NAME ...]`: every benchmark in turn, then a summary table.

Each bench prints its own figures as it goes; ratios are measured side by side in one run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

from bench import Result, say

MODULES = [
    "planner",
    "planner_vs",
    "orchestrator",
    "cold_start",
    "slack_ack",
    "rss",
    "llm",
    "api",
    "replicas",
    "agent",
    "slack_rate",
    "tracing",
    "limits",
    "mcp",
    "mcp_llm",
    "load",
]
OPTIONAL: set[str] = set()


def load(name: str) -> object | None:
    module = f"bench.bench_{name}"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if name in OPTIONAL and error.name == module:
            return None
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts (smoke run)")
    parser.add_argument("--only", nargs="+", choices=MODULES, help="run just these")
    args = parser.parse_args(argv)
    summary: list[tuple[str, str]] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in args.only or MODULES:
        try:
            module = load(name)
            if module is None:
                say(f"\n(bench_{name} not present: skipped)")
                continue
            figures: Result = module.run(quick=args.quick)  # type: ignore[attr-defined]
        except Exception:
            traceback.print_exc()
            failed.append(name)
            summary.append((f"{name}", "ERROR (see above)"))
            continue
        summary.extend(figures)
    width = max((len(name) for name, _ in summary), default=10)
    say()
    say(f"== Summary ({'quick' if args.quick else 'full'} run, "
        f"{time.perf_counter() - started:.0f} s) ==")  # fmt: skip
    for name, figure in summary:
        say(f"  {name:<{width}}  {figure}")
    if failed:
        say(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
