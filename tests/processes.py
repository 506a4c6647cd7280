"""Crane as its users run it: `crane serve` in a process of its own, which a test can stop
with SIGTERM or kill outright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


class CraneProcess:
    """`crane serve` in a process of its own, on `db` (Slack settings in `env`)."""

    def __init__(self, db: str, **env: str) -> None:
        self.db = db
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CRANE_DB": db,
            "PORT": str(self.port), "CRANE_PLANNER": "pattern", "CRANE_RETRY_BASE_S": "0",
            "CRANE_WORKERS": "1", "CRANE_SHUTDOWN_TIMEOUT_S": "0.5", **env,
        }  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve"], cwd=ROOT, env=environment,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.process.communicate()[1]
            assert time.monotonic() < deadline, "crane serve did not start"
            time.sleep(0.05)

    def mention(self, text: str) -> tuple[str, httpx.Response]:
        """@Crane <text> in a new top-level message; its ts (the answer's thread) and the ack."""
        from tests.bot.conftest import SECRET, mention_event
        from tests.fakes.signing import event_body, signed_headers

        event = mention_event(text)
        body = event_body(event)
        response = self.http.post("/slack/events", content=body,
                                  headers=signed_headers(body, SECRET))  # fmt: skip
        return event["ts"], response

    def stop(self, how: signal.Signals) -> None:
        self.process.send_signal(how)
        self.process.wait(30)
        self.http.close()
