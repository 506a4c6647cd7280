"""Crane's benchmarks: `make bench` (= `python -m bench`, `--quick` for a smoke run).

Every module exposes `run(quick: bool = False) -> list[tuple[str, str]]` (figure name, formatted
figure) and prints as it goes. Comparisons are measured side by side, interleaved, in one run:
the machine is noisy, so only ratios taken together mean anything.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
Result = list[tuple[str, str]]


def say(text: str = "") -> None:
    print(text, flush=True)


def header(title: str) -> None:
    say()
    say(f"== {title} ==")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the 99th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: none of the caller's Crane/Slack/OpenAI settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CRANE_", "SLACK_", "OPENAI_")) and key != "PORT"
    }
    env["CRANE_PLANNER"] = "pattern"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_health(url: str, timeout: float = 30.0, process: object = None) -> float:
    """Poll `url` until it answers 200; returns the seconds it took."""
    start = time.perf_counter()
    while True:
        poll = getattr(process, "poll", None)
        if poll is not None and poll() is not None:
            raise RuntimeError(f"server exited with {poll()} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            pass
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.02)


def rss_mib(pid: int) -> float:
    """Resident set size of a live process, from /proc/<pid>/status (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
