"""Helpers for benchmarks that run servers as subprocesses: start and stop them, and wait for
the runs a Crane server started to finish (on SQLite or PostgreSQL)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bench import ROOT, say


def _finished_runs(db: str) -> int:
    if db.startswith(("postgresql://", "postgres://")):
        import psycopg

        with psycopg.connect(db, connect_timeout=5) as conn:
            try:
                found = conn.execute(
                    "SELECT count(*) FROM runs WHERE status IN ('completed', 'failed')"
                ).fetchone()
            except psycopg.errors.UndefinedTable:  # not created yet
                return 0
        return int(found[0]) if found else 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            row = conn.execute(
                "SELECT count(*) FROM runs WHERE status IN ('completed', 'failed')"
            ).fetchone()
        except sqlite3.OperationalError:  # not created yet
            return 0
    return int(row[0])


def wait_runs(db: str, expected: int, timeout: float = 180.0) -> float:
    start = time.perf_counter()
    while _finished_runs(db) < expected:
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"Crane finished {_finished_runs(db)} of {expected} runs")
        time.sleep(0.05)
    return time.perf_counter() - start


def show_log(path: Path) -> bool:
    """On the way out of a failed run, show what the servers said (the file is deleted next)."""
    if path.exists():
        say(f"  servers' log (last lines of {path.name}):")
        for line in path.read_text(errors="replace").splitlines()[-40:]:
            say(f"    {line}")
    return False  # never swallow the error


@contextlib.contextmanager
def process(command: list[str], env: dict[str, str], log: IO[bytes]) -> Iterator[Any]:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
    )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Close its stdin (a server waiting on it ends), then SIGTERM; SIGKILL after 15 s."""
    if process.stdin:
        process.stdin.close()
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
