"""What `crane` prints on a terminal: live progress, run descriptions, one-line logs — with
control characters made visible, since requests and titles come from anyone."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.plan import Run, RunEvent

# C0 and C1 control characters but new line and tab: a title or request holding "\x1b[2J" must
# not drive the terminal of whoever lists it (`crane runs` shows every user's requests).
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (9, 10)}


def shown(text: str) -> str:
    """Text for a terminal: control characters made visible as \\xNN; JSON output is unchanged."""
    return text.translate(_CONTROLS)


def dump(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def stdout_gone() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _OneLine(logging.Formatter):
    """Terminal logs: one line each; tracebacks belong in the server's logs, not here."""

    def format(self, record: logging.LogRecord) -> str:
        return f"crane: {record.getMessage()}"


def terminal_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def print_event(event: RunEvent, notes: dict[int, str] | None = None) -> None:
    """Live progress: the plan (with the planner's notes, e.g. the title of a todo named by its
    words), then each step as it starts and finishes."""
    if event.type == "run.started":
        steps = event.data["run"]["steps"]
        if steps:
            print("Plan:")
            for step in steps:
                note = (notes or {}).get(step["index"])
                shown_note = f" — {json.dumps(note, ensure_ascii=False)}" if note else ""
                print(f"  {step['index']}. {step['tool']} {json.dumps(step['args'])}{shown_note}")
    elif event.type == "step.started":
        step = event.data["step"]
        print(f"⏳ step {step['index']} {step['tool']} running…", flush=True)
    elif event.type == "step.finished":
        step = event.data["step"]
        if step["status"] == "completed":
            print(f"✅ step {step['index']} {step['tool']}: {shown(step['output'])}", flush=True)
        else:
            tries = f" after {step['attempts']} attempts" if step["attempts"] > 1 else ""
            print(f"❌ step {step['index']} {step['tool']} failed{tries}: {shown(step['error'])}")


class Live:
    """The progress printer; once stdout is gone (`crane ask … | head -1`) it stops printing
    rather than fail, and log, on every later event. The run itself goes on to the end."""

    def __init__(self, notes: dict[int, str] | None = None) -> None:
        self.closed = False
        self.notes = notes  # step index → note, from the plan (not stored with the run)

    def __call__(self, event: RunEvent) -> None:
        if self.closed:
            return
        try:
            print_event(event, self.notes)
        except BrokenPipeError:
            self.closed = True


def describe(run: Run) -> str:
    head = f"{run.id}  {run.status.value:<9}  {run.created_at:%Y-%m-%d %H:%M:%S}  {run.text}"
    lines = [head]
    planner = f"    planner: {run.planner}"
    if run.fallback_reason:
        planner += f" (fell back: {run.fallback_reason})"
    if run.usage:
        u = run.usage
        cost = f"${u.cost_usd:.6f}" if u.cost_usd is not None else "cost unknown"
        planner += (f" · {u.model} · {u.prompt_tokens} prompt + {u.completion_tokens} completion"
                    f" tokens ({u.cached_tokens} cached) · {cost}")  # fmt: skip
    lines.append(planner)
    if run.feedback.up or run.feedback.down:
        lines.append(f"    feedback: {run.feedback.up} 👍 · {run.feedback.down} 👎")
    for step in run.steps:
        detail = step.output if step.status.value == "completed" else step.error or ""
        lines.append(f"    {step.index}. {step.tool} {step.status.value}: {detail or ''}")
    return "\n".join(lines)
