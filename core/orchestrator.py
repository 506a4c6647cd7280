"""Runs a stored plan step by step: durable state, retries of transient errors, events.

Every state change is committed before it is announced, and a tool's own writes commit in
the same transaction as its step's completion, so a crash never leaves a todo without the
step that made it. Executing a run again never re-executes a completed step.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import CraneError, ToolError, TransientError
from core.plan import Run, RunEvent, RunStatus, Step, StepStatus
from core.references import resolve_args
from core.store import Owner, Store
from core.tools import REGISTRY, Tool, ToolContext

log = logging.getLogger("crane.orchestrator")

Listener = Callable[[RunEvent], None]
HEARTBEAT_INTERVAL = timedelta(seconds=30)
HEARTBEAT_EXPIRY = timedelta(minutes=2)  # several missed beats: the owner is gone


def this_process() -> Owner:
    return (socket.gethostname(), os.getpid(), secrets.token_hex(8))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    }


def compose_answer(run: Run) -> str:
    """Plain text covering every executed step, and for a failure the failing step and why."""
    lines = [
        step.output for step in run.steps if step.status is StepStatus.completed and step.output
    ]
    for step in run.steps:
        if step.status is StepStatus.failed:
            lines.append(f"Step {step.index} ({step.tool}) failed: {step.error}")
    return "\n".join(lines) if lines else (run.answer or "Nothing to do.")


def validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(loc) for loc in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "invalid arguments — " + "; ".join(parts)


class Orchestrator:
    def __init__(
        self,
        store: Store,
        tools: dict[str, Tool] | None = None,
        *,
        retry_attempts: int = 4,
        retry_base_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        owner: Owner | None = None,
    ) -> None:
        self.store = store
        self.tools = tools if tools is not None else REGISTRY
        self.retry_attempts = max(1, retry_attempts)
        self.retry_base_s = retry_base_s
        self.sleep = sleep
        self.owner = owner or this_process()
        self._listeners: list[Listener] = []
        # After a first transient failure, tenacity runs the remaining attempts; waits go
        # base, 2·base, 4·base… (1 s, 2 s, 4 s by default). One policy object for every step
        # (tenacity keeps per-call state thread-locally).
        self._retry_rest = Retrying(
            stop=stop_after_attempt(self.retry_attempts - 1),
            wait=wait_exponential(multiplier=2 * self.retry_base_s),
            retry=retry_if_exception_type(TransientError),
            sleep=self.sleep,
            reraise=True,
        )
        self._local = threading.local()  # per-execution listeners: runs execute in many threads
        self._local.listeners = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event after it is committed; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _announce(self, event: RunEvent | None) -> None:
        if event is None:
            return
        for listener in [*self._listeners, *getattr(self._local, "listeners", [])]:
            try:
                listener(event)
            except Exception:  # a broken subscriber must not break the run
                log.exception("event listener failed", extra={"run_id": event.run_id})

    def execute(self, run_id: str, on_event: Listener | None = None) -> Run:
        """Run (or resume) a stored run; `on_event` hears only this run's events."""
        self._local.listeners = [on_event] if on_event else []
        self._local.last_beat = datetime.min.replace(tzinfo=UTC)
        try:
            return self._execute(run_id)
        finally:
            self._local.listeners = []

    def _execute(self, run_id: str) -> Run:
        run = self.store.get_run(run_id)
        if run.status in (RunStatus.completed, RunStatus.failed):
            return run
        if run.status is RunStatus.pending:
            run.status = RunStatus.running
            started = ("run.started", {"run": run.record()})
            self._local.last_beat = self.store.clock()  # set_run beats too
            self._announce(self.store.set_run(run.id, RunStatus.running, started))
        for step in run.steps:
            if step.status is StepStatus.completed:
                continue
            outcome: StepStatus = step.status
            if outcome in (StepStatus.pending, StepStatus.running):
                outcome = self._run_step(run, step)
            if outcome is not StepStatus.completed:
                self._skip_rest(run, step.index)
                break
        return self._finish(run)

    def _run_step(self, run: Run, step: Step) -> StepStatus:
        self._try_step(run, step)
        return step.status

    def _try_step(self, run: Run, step: Step) -> None:
        if step.status is StepStatus.running and step.destructive:
            # It may or may not have taken effect before the crash: never do it twice.
            return self._fail(run, step, "interrupted before it finished; not retried")
        tool = self.tools.get(step.tool)
        if tool is None:
            return self._fail(run, step, f"unknown tool {step.tool!r}")
        try:
            step.args = resolve_args(step.args, run.steps[: step.index - 1], tool.reference_args)
            args = tool.input_model.model_validate(step.args)
        except ValidationError as error:
            step.attempts += 1
            return self._fail(run, step, validation_message(error))
        except CraneError as error:
            step.attempts += 1
            return self._fail(run, step, str(error))
        step.status, step.started_at = StepStatus.running, self.store.clock()
        started = ("step.started", {"step": step_record(step)})
        # the heartbeat rides along with a step start, at most every HEARTBEAT_INTERVAL
        beat = step.started_at - self._local.last_beat > HEARTBEAT_INTERVAL
        if beat:
            self._local.last_beat = step.started_at
        self._announce(self.store.set_step(run.id, step, started, heartbeat=beat))
        try:
            self._attempt_with_retries(run, step, tool, args)
        except (ToolError, TransientError) as error:
            self._fail(run, step, str(error))
        except CraneError as error:
            self._fail(run, step, str(error))
        except Exception:
            log.exception("tool crashed", extra={"run_id": run.id, "step": step.index})
            self._fail(run, step, f"internal error (ref {run.id})")
        return None

    def _attempt_with_retries(self, run: Run, step: Step, tool: Tool, args: Any) -> None:
        try:
            return self._attempt(run, step, tool, args)  # the common case: no retry machinery
        except TransientError:
            if self.retry_attempts == 1:
                raise
            log.warning("transient failure, retrying", extra={"run_id": run.id})
        self.sleep(self.retry_base_s)
        self._retry_rest(self._attempt, run, step, tool, args)
        return None

    def _attempt(self, run: Run, step: Step, tool: Tool, args: Any) -> None:
        step.attempts += 1
        context = ToolContext(scope=run.scope, store=self.store)
        # A tool that writes runs inside the transaction that completes its step, so its rows
        # and the step's completion commit together. Others run outside: a slow pure tool
        # must not hold SQLite's write lock.
        with self.store.write() if tool.writes else nullcontext():
            result = tool.function(args, context)
            step.status, step.finished_at = StepStatus.completed, self.store.clock()
            step.output, step.value = result.text, result.value
            step.todo_numbers, step.todo_number = result.todo_numbers, result.todo_number
            event = self.store.set_step(
                run.id, step, ("step.finished", {"step": step_record(step)})
            )
        self._announce(event)

    def _fail(self, run: Run, step: Step, message: str) -> None:
        step.status, step.error, step.finished_at = StepStatus.failed, message, self.store.clock()
        step.started_at = step.started_at or step.finished_at
        self._announce(
            self.store.set_step(run.id, step, ("step.finished", {"step": step_record(step)}))
        )

    def _skip_rest(self, run: Run, failed_index: int) -> None:
        for later in run.steps[failed_index:]:
            if later.status is StepStatus.pending:
                later.status = StepStatus.skipped
                self.store.set_step(run.id, later)

    def _finish(self, run: Run) -> Run:
        failed = any(step.status is StepStatus.failed for step in run.steps)
        run.status = RunStatus.failed if failed else RunStatus.completed
        run.answer = compose_answer(run)
        finished = ("run.finished", {
            "status": run.status.value,
            "answer": run.answer,
            "steps": [step_record(step) for step in run.steps],
            "usage": run.usage.model_dump() if run.usage else None,
            "planner": run.planner,
            "fallback_reason": run.fallback_reason,
        })  # fmt: skip
        log.info("run finished", extra={
            "run_id": run.id, "tenant": f"{run.scope.enterprise_id}/{run.scope.team_id}",
            "user": run.scope.user_id, "outcome": run.status.value,
            "duration_ms": round((self.store.clock() - run.created_at).total_seconds() * 1000, 3),
        })  # fmt: skip
        run.finished_at = self.store.clock()
        event = self.store.set_run(run.id, run.status, finished, run.answer, run.finished_at)
        self._announce(event)
        return run

    def recover(self, is_alive: Callable[[int], bool] = pid_alive) -> list[str]:
        """Resume runs whose owning process is gone; never one a live process is executing."""
        host, _, token = self.owner
        now = self.store.clock()
        resumed = []
        for row in self.store.unfinished_runs():
            if row["owner_token"] == token:
                continue
            if row["owner_host"] == host:
                orphaned = not is_alive(row["owner_pid"]) or row["owner_pid"] == os.getpid()
            else:
                beat = row["heartbeat_at"]
                orphaned = beat is None or now - datetime.fromisoformat(beat) > HEARTBEAT_EXPIRY
            if orphaned and self.store.claim_run(row["id"], row["owner_token"], self.owner):
                log.warning("recovering run %s", row["id"])
                self.execute(row["id"])
                resumed.append(row["id"])
        return resumed
