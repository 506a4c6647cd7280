"""The demo MCP server (tests/mcp/demo_server.py) as tests configure it: over stdio, or over
streamable HTTP on a loopback port; and what it received (one line per call)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEMO = str(Path(__file__).with_name("demo_server.py"))
START_S = 60.0  # a server's start on a busy 2-core machine: python + the SDK's imports


def stdio(calls: Path, **extra: Any) -> dict[str, Any]:
    """A stdio entry of mcp.json for the demo server, counting its calls in `calls`."""
    env = {"DEMO_CALLS": str(calls), **extra.pop("env", {})}
    return {"command": sys.executable, "args": [DEMO], "env": env, "timeout_s": START_S, **extra}


def write_config(directory: Path, servers: dict[str, Any]) -> str:
    path = directory / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return str(path)


def received(calls: Path) -> list[str]:
    """The tools the server was called with, in order."""
    return calls.read_text(encoding="utf-8").split() if calls.exists() else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def http_server(calls: Path, script: str = DEMO, **env: str) -> Iterator[str]:
    """The demo server (or another `script`) on streamable HTTP at a loopback port: its URL
    until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, script, "http", str(port)],
        env={"DEMO_CALLS": str(calls), "PATH": "/usr/bin:/bin", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the demo HTTP server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        process.wait()


def wait_for(condition: Any, timeout: float = START_S) -> bool:
    """Poll `condition()` until it is true (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())
