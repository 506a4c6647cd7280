"""What a run's steps and answer look like to everyone outside the executor: a step as event
and REST JSON, the answer composed from the steps, an argument error said plainly."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from core.plan import Run, RunStatus, Step, StepStatus


def step_record(step: Step) -> dict[str, Any]:
    duration = (
        (step.finished_at - step.started_at).total_seconds() * 1000
        if step.started_at and step.finished_at
        else None
    )
    return {
        "duration_ms": duration,
        "index": step.index,
        "tool": step.tool,
        "args": step.args,
        "status": step.status.value,
        "output": step.output,
        "error": step.error,
        "attempts": step.attempts,
        "private": step.private,
        "todo_number": step.todo_number,
        "todo_numbers": step.todo_numbers,
    }


def finished_record(run: Run) -> dict[str, Any]:
    """The data of a finished run's `run.finished` event."""
    return {
        "status": run.status.value,
        "answer": run.answer,
        "steps": [step_record(step) for step in run.steps],
        "usage": run.usage.model_dump() if run.usage else None,
        "planner": run.planner,
        "fallback_reason": run.fallback_reason,
    }


def compose_answer(run: Run) -> str:
    """Plain text covering every executed step, and for a failure the failing step and why."""
    lines = [
        step.output for step in run.steps if step.status is StepStatus.completed and step.output
    ]
    for step in run.steps:
        if step.status is StepStatus.failed:
            lines.append(f"Step {step.index} ({step.tool}) failed: {step.error}")
    skipped = [step for step in run.steps if step.status is StepStatus.skipped]
    if run.status is RunStatus.cancelled and skipped:
        first = skipped[0]
        lines.append(f"Cancelled before step {first.index} ({first.tool}); nothing after it ran.")
    return "\n".join(lines) if lines else (run.answer or "Nothing to do.")


def validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(loc) for loc in item["loc"])
        message = item["msg"].removeprefix("Value error, ")  # a schema's own message, as is
        parts.append(f"{where}: {message}" if where else message)
    return "invalid arguments — " + "; ".join(parts)
