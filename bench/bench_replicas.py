"""Replicas on one PostgreSQL database (`crane serve` subprocesses, CRANE_BENCH_PG):

- takeover: a replica is `kill -9`ed in the middle of a 50-step run it accepted; the time from
  the kill until a surviving replica has finished that run (median and worst over 5 kills).
  The dead replica is on the same machine (its pid is gone: noticed at the next tick); on another
  host the lease must expire first: add up to CRANE_LEASE_S.
- dispatch latency: a one-step run posted to a replica, from the POST to its `run.finished`
  frame on an SSE stream of that replica — the run goes through procrastinate's queue to the
  first free worker of either replica (p50/p95).
- cross-replica SSE lag: a stream on replica A follows runs executed on replica B; the time
  from each event's stamp on B (taken just before its COMMIT) to its frame reaching the client
  on A (p50/p95; target p95 < 250 ms).
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import httpx

from bench import VENV_BIN, Result, clean_env, free_port, header, median, percentile, say
from bench import verdict as judged
from bench.pg import scratch_schema

TOKEN = "bench"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def replica(db: str, folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = clean_env(CRANE_DB=db, PORT=str(port), CRANE_API_TOKENS=f"{TOKEN}:T1:U1")
    with (folder / f"replica-{port}.log").open("wb") as log:
        process = subprocess.Popen([str(VENV_BIN / "crane"), "serve"], env=env, stderr=log,
                                   stdout=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("replica did not start")
                time.sleep(0.1)
            yield process, url
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(10)


def _status(url: str, run_id: str) -> str:
    status: str = httpx.get(f"{url}/api/v1/runs/{run_id}", headers=AUTH, timeout=10).json()[
        "status"
    ]
    return status


def _wait(url: str, run_id: str, status: str) -> None:
    deadline = time.monotonic() + 30
    while (found := _status(url, run_id)) != status:
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} is {found}, not {status}")
        time.sleep(0.02)


def takeover(db: str, folder: Path, kills: int) -> list[float]:
    times = []
    with replica(db, folder) as (survivor_process, survivor):
        for round_ in range(kills):
            with replica(db, folder) as (victim, url):
                # the survivor is paused while the run is queued, so the victim's worker takes it
                survivor_process.send_signal(signal.SIGSTOP)
                try:
                    titles = "; ".join(f"r{round_} t{n}" for n in range(50))
                    body = {"text": f"add todos: {titles}"}
                    run_id = httpx.post(f"{url}/api/v1/runs", headers=AUTH, timeout=10,
                                        json=body).json()["id"]  # fmt: skip
                    executor = _executor(db, run_id)
                finally:
                    survivor_process.send_signal(signal.SIGCONT)
                victim.send_signal(signal.SIGKILL)
                killed = time.perf_counter()
                victim.wait(10)
            if executor != victim.pid or _status(survivor, run_id) in ("completed", "failed"):
                say(f"  round {round_}: the run finished before the kill; not counted")
                continue
            while _status(survivor, run_id) not in ("completed", "failed"):
                if time.perf_counter() - killed > 60:
                    raise TimeoutError("no takeover within 60 s")
                time.sleep(0.05)
            times.append(time.perf_counter() - killed)
            say(f"  kill {round_ + 1}: taken over and finished in {times[-1]:.2f} s")
    return times


def _executor(db: str, run_id: str) -> int | None:
    """The pid of the process executing the run, once one has started it."""
    import psycopg

    deadline = time.monotonic() + 10
    with psycopg.connect(db) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT status, owner_pid FROM runs WHERE id = %s", (run_id,))
            status, pid = row.fetchone() or ("", None)
            if status != "pending":
                return int(pid) if pid is not None else None
            time.sleep(0.005)
    return None


def dispatch_latency(db: str, folder: Path, runs: int) -> list[float]:
    """POST /api/v1/runs → its `run.finished` frame, for a one-step run that goes through the
    cluster's job queue (any replica's worker) and back to the SSE reader."""
    times = []
    with replica(db, folder) as (_, url), replica(db, folder):
        http = httpx.Client(base_url=url, headers=AUTH, timeout=10)
        for n in range(runs):
            started = time.perf_counter()
            run_id = http.post("/api/v1/runs", json={"text": f"calculate {n}+1"}).json()["id"]
            with http.stream("GET", f"/api/v1/runs/{run_id}/events") as stream:
                for line in stream.iter_lines():
                    if line == "event: run.finished":
                        times.append(time.perf_counter() - started)
                        break
        http.close()
    return times


def sse_lag(db: str, folder: Path, runs: int) -> list[float]:
    lags: list[float] = []
    with replica(db, folder) as (_, reading), replica(db, folder) as (_, executing):
        http = httpx.Client(base_url=executing, headers=AUTH, timeout=10)
        for n in range(runs):
            added = http.post("/api/v1/runs", json={"text": f"add a todo: item {n}"}).json()["id"]
            _wait(executing, added, "completed")
            answer = http.get(f"/api/v1/runs/{added}").json()["answer"]  # "Added todo #7: …"
            number = answer.split("#", 1)[1].split(":", 1)[0]
            text = f"delete todo {number}"
            run_id = http.post("/api/v1/runs", json={"text": text}).json()["id"]
            _wait(executing, run_id, "awaiting_approval")
            seen: dict[int, float] = {}
            opened = threading.Event()

            def follow(
                run_id: str = run_id,
                seen: dict[int, float] = seen,
                opened: threading.Event = opened,
            ) -> None:
                with httpx.stream("GET", f"{reading}/api/v1/runs/{run_id}/events",
                                  headers=AUTH, timeout=30) as stream:  # fmt: skip
                    opened.set()
                    for line in stream.iter_lines():
                        if line.startswith("id: "):
                            seen[int(line[4:])] = time.time()

            follower = threading.Thread(target=follow)
            follower.start()
            opened.wait(10)
            time.sleep(0.3)  # the replayed frames are in; what follows is live
            before = max(seen, default=0)
            http.post(f"/api/v1/runs/{run_id}/approve")
            follower.join(30)
            stamps = _event_stamps(db, run_id)
            lags += [(seen[seq] - stamps[seq]) for seq in seen if seq > before and seq in stamps]
        http.close()
    return lags


def _event_stamps(db: str, run_id: str) -> dict[int, float]:
    import psycopg

    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT seq, created_at FROM run_events WHERE run_id = %s", (run_id,)
        ).fetchall()
    return {seq: datetime.fromisoformat(stamp).timestamp() for seq, stamp in rows}


def run(quick: bool = False) -> Result:
    header("Replicas on PostgreSQL: takeover after kill -9, cross-replica SSE lag")
    figures: Result = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        db = stack.enter_context(scratch_schema())
        if db is None:
            return [("replicas", "skipped (no PostgreSQL)")]
        times = takeover(db, folder, 1 if quick else 5)
        if times:
            worst = max(times)
            figure = (f"median {median(times):.2f} s, worst {worst:.2f} s over {len(times)} "
                      f"kills (target < 30 s: {judged(worst < 30)})")  # fmt: skip
            figures.append(("replicas takeover after kill -9", figure))
        latency = dispatch_latency(db, folder, 5 if quick else 50)
        if latency:
            p50, p95 = median(latency) * 1000, percentile(latency, 95) * 1000
            figure = f"p50 {p50:.0f} ms, p95 {p95:.0f} ms over {len(latency)} runs"
            figures.append(("replicas POST → run.finished via the job queue", figure))
        lags = sse_lag(db, folder, 2 if quick else 20)
        if lags:
            p95 = percentile(lags, 95) * 1000
            figure = (f"p50 {median(lags) * 1000:.0f} ms, p95 {p95:.0f} ms over {len(lags)} "
                      f"events (target p95 < 250 ms: {judged(p95 < 250)})")  # fmt: skip
            figures.append(("replicas SSE lag B→A", figure))
    for name, figure in figures:
        say(f"  {name}: {figure}")
    return figures or [("replicas", "no figures (every run finished before its kill)")]
