"""`crane ask` cold start: wall time of the real console script as a subprocess.

Side by side, interleaved: `python -c pass` (the interpreter's floor) and
`python -c "import core.app"` (the runtime's imports). Then the ten slowest imports of
`crane ask` from `-X importtime`, cumulative and self.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, VENV_BIN, Result, clean_env, header, median, say, verdict

TARGET_MS = 400.0
REQUEST = "calculate 2+3"


def _crane_script() -> str:
    script = VENV_BIN / "crane"
    if not script.exists():
        raise RuntimeError(f"{script} not found: install Crane into this venv (make bench)")
    return str(script)


def _wall_ms(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr.strip()}")
    return elapsed


def importtime(command: list[str], env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) for every import `command` makes, via -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(own), int(cumulative), name.rstrip()))
    return rows


def run(quick: bool = False) -> Result:
    header(f"Cold start: `crane ask {REQUEST!r}` as a subprocess")
    runs = 2 if quick else 15
    with tempfile.TemporaryDirectory(prefix="crane-bench-") as tmp:
        db = str(Path(tmp) / "crane.db")
        env = clean_env(CRANE_DB=db)
        ask = [_crane_script(), "ask", REQUEST, "--db", db]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import core.app": [sys.executable, "-c", "import core.app"],
            "crane ask": ask,
        }
        for command in commands.values():  # warm the page cache; creates the database
            _wall_ms(command, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(runs):
            names = list(commands) if i % 2 == 0 else list(commands)[::-1]
            for name in names:
                samples[name].append(_wall_ms(commands[name], env))
        imports = importtime(ask, env)
    figures = {name: median(values) for name, values in samples.items()}
    for name, value in figures.items():
        say(f"  {name:<16} {value:7.1f} ms  (min {min(samples[name]):.1f}, n={runs})")
    say("  slowest imports of `crane ask` (cumulative ms / self ms):")
    for own, cumulative, name in sorted(imports, key=lambda row: -row[1])[:10]:
        say(f"    {cumulative / 1000:7.1f} {own / 1000:7.1f}  {name}")
    say("  by self time:")
    for own, cumulative, name in sorted(imports, key=lambda row: -row[0])[:10]:
        say(f"    {cumulative / 1000:7.1f} {own / 1000:7.1f}  {name.strip()}")
    ask_ms = figures["crane ask"]
    heavy = [name.strip() for _, _, name in imports]
    lazy = [sdk for sdk in ("openai", "slack_sdk", "slack_bolt", "aiohttp") if sdk in heavy]
    say(f"  heavy SDKs imported by `crane ask`: {', '.join(lazy) or 'none'}")
    return [
        ("cold start crane ask", f"{ask_ms:.0f} ms (target < {TARGET_MS:.0f}) "
         f"{verdict(ask_ms < TARGET_MS)}"),
        ("cold start python -c pass", f"{figures['python -c pass']:.0f} ms"),
        ("cold start import core.app", f"{figures['import core.app']:.0f} ms"),
    ]  # fmt: skip


if __name__ == "__main__":
    run()
