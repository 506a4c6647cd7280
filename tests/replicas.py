"""Real `crane serve` processes on one database, for the replica tests: each on a free loopback
port, started as an operator would (environment variables), stopped with SIGKILL or frozen with
SIGSTOP as a machine failure would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

TOKENS = "s3cret:T01:U01,other:T02:U02"
ALICE = "s3cret"
START_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {ALICE}"},
                            timeout=30)  # fmt: skip

    def kill(self) -> None:
        """kill -9: no shutdown, no lifespan, connections dropped by the kernel."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"replica exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"replica never ready: {self.log.read_text()[-3000:]}")


@contextmanager
def replicas(db: str, folder: Path, count: int, **env: str) -> Iterator[list[Replica]]:
    """`count` servers on the database `db`, ready; all killed afterwards."""
    script = Path(sys.executable).with_name("crane")
    started: list[Replica] = []
    folder.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CRANE_", "SLACK_"))}
    try:
        for n in range(count):
            port = free_port()
            log = folder / f"replica-{n}.log"
            process = subprocess.Popen(
                [str(script), "serve"],
                env={
                    **base,
                    "CRANE_DB": db,
                    "PORT": str(port),
                    "CRANE_API_TOKENS": TOKENS,
                    "CRANE_PLANNER": "pattern",
                    **env,
                },
                stdout=subprocess.DEVNULL,
                stderr=log.open("wb"),
                cwd=folder,
            )
            started.append(Replica(process, port, log))
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.thaw()
                replica.process.kill()
                replica.process.wait(10)
