"""The LLM planner's own overhead, and that the pattern-only path never loads the SDK.

1. Overhead per plan against the local stand-in (tests/fakes/openai_server.py, in its own
   process so it does not share our GIL): prompt build + SDK request over loopback + parse +
   validate, for a request with a short conversation history. The stand-in answers instantly,
   so the model's own latency is excluded; its HTTP handling is not, so the figure is an upper
   bound. Shown beside it: the same request made with the SDK alone, a bare `http.client` POST
   (the transport floor), and the prompt-build and parse+validate parts alone.
2. Cold start: `crane ask` with the pattern planner (no OpenAI settings) must not import
   `openai`; checked with `-X importtime` on the real console script.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from bench import ROOT, VENV_BIN, Result, clean_env, header, median, percentile, say, verdict
from core.plan import History, PriorStep
from core.planners.fallback import CircuitBreaker, ServerMemory
from core.planners.llm import LLMPlanner
from core.planners.llm_prompt import user_message
from core.planners.llm_schema import parse_plan
from core.settings import Settings

TARGET_MS = 2.0
REQUEST = "now add 10 to that, and add a todo to call mom"
HISTORY = History(
    requests=["calculate 12*7", "add a todo to buy milk", "list my todos"],
    steps=[
        PriorStep(tool="calculator", args={"expression": "12*7"}, value=84),
        PriorStep(tool="add_todo", args={"title": "buy milk"}, value=1, todo_number=1),
        PriorStep(tool="list_todos", args={"include_done": False}, value=1, todo_numbers=[1]),
    ],
)


def _timed(function: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def stand_in(*flags: str) -> tuple[subprocess.Popen[str], str]:
    """The local OpenAI-compatible stand-in (tests.fakes.openai_server), and its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", *flags],
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"the stand-in did not start (said {url!r})")
    return process, url


def overhead(quick: bool) -> Result:
    header("LLM planner overhead per plan (local stand-in, model latency excluded)")
    count = 30 if quick else 1000
    process, url = stand_in()
    try:
        settings = Settings(openai_base_url=url, openai_api_key=None, llm_timeout=5.0)
        planner = LLMPlanner(settings, breaker=CircuitBreaker(), memory=ServerMemory())
        first = planner(REQUEST, HISTORY)  # imports the SDK, opens the connection
        assert first.planner == "llm" and first.steps, first
        body = json.dumps(
            {"model": settings.model, "messages": [{"role": "user", "content": "x"}]}
        ).encode()
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)

        def bare_post() -> None:
            connection.request("POST", parts.path + "/chat/completions", body)
            connection.getresponse().read()

        content = json.dumps({"steps": [s.model_dump() for s in first.steps], "answer": None})
        sdk, system = planner.client.sdk(), planner.client.system["json_schema"]
        schema = {"name": "crane_plan", "strict": True, "schema": planner.schema}

        def sdk_alone() -> None:  # the same request, without anything of Crane around it
            sdk.chat.completions.create(
                model=settings.model,
                messages=[{"role": "system", "content": system},
                          {"role": "user", "content": user_message(REQUEST, HISTORY)}],
                temperature=0,
                response_format={"type": "json_schema", "json_schema": schema},
                timeout=5.0,
            )  # fmt: skip

        plans: list[float] = []
        alone: list[float] = []
        posts: list[float] = []
        size = min(count, 100)
        for _ in range(count // size):  # interleaved rounds: the machine is noisy
            plans += _timed(lambda: planner(REQUEST, HISTORY), size)
            alone += _timed(sdk_alone, size)
            posts += _timed(bare_post, size)
        build = _timed(lambda: user_message(REQUEST, HISTORY), count)
        parse = _timed(lambda: parse_plan(content, planner.tools), count)
        connection.close()
    finally:
        process.kill()
        process.wait()
    per_plan = median(plans)
    p95, ok = percentile(plans, 95), verdict(per_plan < TARGET_MS)
    say(f"  per plan          {per_plan:6.3f} ms median, p95 {p95:.3f} ms (n={len(plans)})  "
        f"target < {TARGET_MS:g} ms: {ok}")  # fmt: skip
    say(f"  SDK request alone {median(alone):6.3f} ms median (the same request, no Crane)")
    say(f"  bare HTTP POST    {median(posts):6.3f} ms median (transport + stand-in floor)")
    say(f"  prompt build      {median(build):6.3f} ms median (per request; instructions prebuilt)")
    say(f"  parse + validate  {median(parse):6.3f} ms median")
    say(f"  Crane's own share {per_plan - median(alone):6.3f} ms (per plan − SDK request alone)")
    return [("llm planner overhead/plan", f"{per_plan:.3f} ms (target < {TARGET_MS:g})")]


def cold_start() -> Result:
    header("Pattern-only `crane ask` does not import openai")
    script = VENV_BIN / "crane"
    if not script.exists():
        raise RuntimeError(f"{script} not found: install Crane into this venv (make bench)")
    with tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp:
        env = clean_env(CRANE_PLANNER="auto", CRANE_DB=str(Path(tmp) / "crane.db"))
        done = subprocess.run(
            [sys.executable, "-X", "importtime", str(script), "ask", "calculate 2+3"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"crane ask exited {done.returncode}: {done.stderr[-500:]}")
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    if "core" not in imported:
        raise RuntimeError("-X importtime reported no imports of core: the check would be empty")
    clean = "openai" not in imported
    loaded = "not imported" if clean else "IMPORTED"
    say(f"  openai: {loaded}  {verdict(clean)}")
    return [("pattern ask imports openai", f"{'no' if clean else 'yes'} ({verdict(clean)})")]


def run(quick: bool = False) -> Result:
    return overhead(quick) + cold_start()


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
