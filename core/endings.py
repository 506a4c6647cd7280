"""How a pass over a run ends, inside its last transaction (`core.execution`): a step failed
and the later ones are skipped; a stop or a cancelled question skips the rest; or every step
is done. Each ends with the run's finish: its status, its answer and `run.finished`."""

from __future__ import annotations

from datetime import datetime

from core.plan import Run, RunStatus, Step, StepStatus
from core.records import compose_answer, finished_record, step_record
from core.store.journal import Journal


def fail(run: Run, journal: Journal, step: Step, message: str, now: datetime) -> None:
    """`step` failed with `message` (it may fail before it started: invalid arguments)."""
    step.status, step.error, step.finished_at = StepStatus.failed, message, now
    step.started_at = step.started_at or now
    journal.step_failed(step)
    journal.event("step.finished", {"step": step_record(step)}, now)
    stop_after(run, journal, step.index, now)


def stop_after(run: Run, journal: Journal, index: int, now: datetime) -> None:
    """After a failure: every later step is skipped and the run finishes."""
    for later in run.steps[index:]:
        if later.status is not StepStatus.completed:
            later.status = StepStatus.skipped
    journal.skip_after(index)
    finish(run, journal, now)


def cancel(run: Run, journal: Journal, index: int, now: datetime) -> None:
    """Step `index` and every later unfinished step skipped, the run finished `cancelled`."""
    for later in run.steps[index - 1 :]:
        if later.status in (StepStatus.pending, StepStatus.running):
            later.status = StepStatus.skipped
    journal.skip_step(index)  # it may be running: a crash left its outcome unknown
    journal.skip_after(index - 1)
    finish(run, journal, now, cancelled=True)


def finish(run: Run, journal: Journal, now: datetime, cancelled: bool = False) -> None:
    failed = any(step.status is StepStatus.failed for step in run.steps)
    run.status = RunStatus.failed if failed else RunStatus.completed
    if cancelled and not failed:
        run.status = RunStatus.cancelled
    run.answer = compose_answer(run)
    run.finished_at = now
    journal.run_finished(run.status, run.answer, now)
    journal.event("run.finished", finished_record(run), now)
