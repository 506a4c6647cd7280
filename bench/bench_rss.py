"""Idle RSS of `crane serve`: the console script as a subprocess, read from /proc once /health
answers and the process has settled. Measured with Slack configured (Bolt loaded, the normal
case) and without (the 503 mode)."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from pathlib import Path

from bench import (
    ROOT,
    VENV_BIN,
    Result,
    clean_env,
    free_port,
    header,
    rss_mib,
    say,
    verdict,
    wait_for_health,
)

TARGET_MIB = 80.0


def idle_rss(slack: bool, settle_s: float = 1.0) -> tuple[float, float]:
    """(RSS MiB, seconds until /health answered) of an idle `crane serve`."""
    with tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp:
        port = free_port()
        env = clean_env(CRANE_DB=str(Path(tmp) / "crane.db"), PORT=str(port))
        if slack:
            # Nothing listens there: an idle server makes no Web API call.
            env.update(SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET="bench-secret",
                       SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")  # fmt: skip
        process = subprocess.Popen(
            [str(VENV_BIN / "crane"), "serve", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            ready = wait_for_health(f"http://127.0.0.1:{port}/health", process=process)
            time.sleep(settle_s)
            return rss_mib(process.pid), ready
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            if process.poll() is None:
                process.kill()
                process.wait()


def run(quick: bool = False) -> Result:
    header("Idle RSS of `crane serve`")
    settle = 0.2 if quick else 2.0
    configured, ready = idle_rss(slack=True, settle_s=settle)
    bare, _ = idle_rss(slack=False, settle_s=settle)
    say(f"  Slack configured: {configured:.1f} MiB (ready in {ready * 1000:.0f} ms)")
    say(f"  Slack not configured (503 mode): {bare:.1f} MiB")
    return [
        ("idle RSS crane serve", f"{configured:.1f} MiB (target < {TARGET_MIB:.0f}) "
         f"{verdict(configured < TARGET_MIB)}"),
        ("idle RSS crane serve, no Slack", f"{bare:.1f} MiB"),
    ]  # fmt: skip


if __name__ == "__main__":
    run()
