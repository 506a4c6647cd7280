"""Tracing's cost per step: the same 20-step run of a no-op tool, with traces off (the SDK not
configured) and on (every span exported by OTLP/HTTP to a local receiver that answers 200),
interleaved round by round in one process; the ratio on/off is the figure.
"""

from __future__ import annotations

import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import Result, header, median, say
from bench.bench_orchestrator import PLAN, SCOPE, STEPS, CraneRunner
from core import tracing
from core.settings import Settings


class _Sink(BaseHTTPRequestHandler):
    """A local OTLP/HTTP receiver: reads each export and answers 200 (an empty response)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _us_per_step(runner: CraneRunner, runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        run = runner.crane.start(SCOPE, "bench", PLAN)
        runner.crane.execute(run.id)
    return (time.perf_counter() - started) * 1e6 / (runs * STEPS)


def run(quick: bool = False) -> Result:
    header(f"Tracing: µs per step, {STEPS}-step plan of a no-op tool, off vs on (OTLP/HTTP)")
    rounds, runs = (2, 3) if quick else (9, 40)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    on = Settings(otel_exporter_otlp_endpoint=f"http://127.0.0.1:{sink.server_address[1]}")
    off = Settings()
    samples: dict[str, list[float]] = {"off": [], "on": []}
    try:
        with tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp:
            runner = CraneRunner(str(Path(tmp) / "crane.db"))
            for i in range(rounds):
                for name in ("off", "on") if i % 2 == 0 else ("on", "off"):
                    tracing.configure(on if name == "on" else off)
                    runner.run_once()  # warm: the provider, the exporter's connection
                    samples[name].append(_us_per_step(runner, runs))
                    tracing.flush()  # the export of this batch is not the next one's cost
            runner.close()
    finally:
        tracing.shutdown()
        sink.shutdown()
    figures = {name: median(values) for name, values in samples.items()}
    ratio = figures["on"] / figures["off"]
    for name, value in figures.items():
        say(f"  traces {name:<3} {value:9.2f} µs/step")
    say(f"  on / off = {ratio:.2f}× ({figures['on'] - figures['off']:.1f} µs per step)")
    return [
        ("tracing off µs/step", f"{figures['off']:.1f} µs"),
        ("tracing on µs/step", f"{figures['on']:.1f} µs (spans exported to a local receiver)"),
        ("tracing on/off", f"{ratio:.2f}×"),
    ]


if __name__ == "__main__":
    run()
