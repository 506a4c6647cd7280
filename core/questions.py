"""What a run asks its requester, and when: before a destructive step, and after a crash cut an
MCP call short (its outcome unknown). Part of one pass over a run (`core.execution`); the
answers are `core.approval`'s.

After a crash between a call and its record the step is found `running`. A built-in's writes
commit with its step or not at all, so it is failed "interrupted" and never repeated. An MCP
tool is called again by itself only if its server is trusted and the tool says it is read-only
or idempotent; otherwise its requester is asked — approve (call it again), cancel, or skip — and
where nobody can be asked (the CLI) the step fails. Never a silent second call."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel

from core.plan import Run, RunStatus, Step, StepStatus, iso
from core.records import step_record
from core.store.journal import Journal
from core.tool import Tool, ToolContext
from core.toolbox import Toolbox


class Execution(Protocol):
    """What of `core.execution.Execution` a question needs (that module imports this one)."""

    run: Run
    tools: Toolbox
    journal: Journal
    context: ToolContext
    expires: timedelta
    repeat: set[int]

    def _fail(self, step: Step, message: str, now: datetime) -> None: ...


UNKNOWN = "outcome_unknown"  # the reason of a question asked because a crash cut a call short
DESTRUCTIVE = "destructive"


def may_repeat(execution: Execution, step: Step, now: datetime) -> bool:
    """Inside a transaction, for a destructive step found running after a crash: whether it
    runs again now (else it failed, or its requester is asked)."""
    if "." not in step.tool:  # a built-in: its own writes commit with its step, or not
        execution._fail(step, "interrupted before it finished; not retried", now)
        return False
    tool = execution.tools.lookup(step.tool, execution.run.scope)
    if (tool is not None and tool.repeatable) or step.index in execution.repeat:
        execution.journal.repeating(step.index)  # asked again if this repeat is cut short too
        execution.repeat.discard(step.index)
        return True
    if not execution.run.approval:
        execution._fail(step, f"interrupted; {step.tool} may have run", now)
        return False
    question = f"{step.tool} may or may not have run — run it again?"
    _ask(execution, step, question, "", now, UNKNOWN)
    return False


def ask(execution: Execution, step: Step, tool: Tool, args: BaseModel, now: datetime) -> None:
    """Pause before a destructive step until its requester approves (core.approval)."""
    preview = tool.preview(args, execution.context) if tool.preview else None
    question = preview.question if preview else f"Run step {step.index} ({step.tool})?"
    _ask(execution, step, question, preview.detail if preview else "", now, DESTRUCTIVE)


def _ask(
    execution: Execution, step: Step, question: str, detail: str, now: datetime, why: str
) -> None:
    expires = now + execution.expires
    execution.run.status = RunStatus.awaiting_approval
    execution.journal.ask(step, question, detail, now, expires, why)
    execution.journal.event("run.awaiting_approval", {
        "step": step_record(step), "question": question, "detail": detail,
        "expires_at": iso(expires), "reason": why,
    }, now)  # fmt: skip


def skip(execution: Execution, index: int, now: datetime) -> None:
    """Inside a transaction: step `index` skipped by its requester; the run goes on after it."""
    step = execution.run.steps[index - 1]
    step.status, step.finished_at = StepStatus.skipped, now
    execution.journal.skip_step(index)
    execution.journal.event("step.finished", {"step": step_record(step)}, now)
