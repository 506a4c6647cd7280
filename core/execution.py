"""One pass over a stored run: one commit per step (consecutive pure steps: one in all).

Step N's end and step N+1's start commit in one transaction (with step N's tool's own writes,
if it writes); the run's start commits with the first step's start, and the last step's end with
the run's finish. A failure commits the failed step, the skipped later steps and the run's finish
together. Each transaction writes the events announcing its changes (per-run increasing seq), and
they are announced in order only after its COMMIT: step.finished(N), then step.started(N+1) —
before N+1's tool runs, so a subscriber sees ⏳ before ✅.

Step N+1's arguments are resolved and validated in that transaction, once N's result is known;
if they are invalid, N+1's failure is recorded there too. A crash after the COMMIT leaves N+1
`running` before its tool ran: on resume a non-destructive step just runs, and a destructive one
is failed "interrupted" or asked about again (`core.questions`) like any destructive step found
running — conservative but never a silent double effect. At most one step is ever `running`.

A pure tool (no effect outside the run, quick: the calculator) followed by another shares its
commit with it: its ✅ is announced only with that later COMMIT, and a crash before it runs
both again. A tool with any other effect always commits before the next tool starts.

A run with `approval` pauses before each destructive step (arguments resolved, the step still
`pending`): status `awaiting_approval`, and the executor returns — a waiting run holds no worker.
`core.approval` answers the question (a step its requester skipped is passed over). A requested
stop is honoured at the next step boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from core import endings, questions, spans
from core.errors import CraneError, Gone
from core.mcp import GONE
from core.plan import FINAL, Run, RunEvent, RunStatus, Step, StepStatus, ToolResult
from core.policy import RetryPolicy
from core.records import step_record, validation_message
from core.references import resolve_args
from core.store import Store
from core.store.fence import StopSeen
from core.tool import Tool, ToolContext
from core.toolbox import Toolbox

log = logging.getLogger("crane.orchestrator")

Next = tuple[Step, Tool, BaseModel]  # the step that has just started, its tool, its arguments
STOPPED = (StepStatus.failed, StepStatus.skipped)  # the run stops at such a step


class Execution:
    """Executes one unfinished run (the caller holds its lease) and returns it finished."""

    def __init__(
        self,
        store: Store,
        tools: Toolbox,
        with_retries: RetryPolicy,
        announce: Callable[[list[RunEvent]], None],
        run: Run,
        approval_ttl: timedelta = timedelta(days=1),
        lease: str | None = None,
    ) -> None:
        self.tools, self.with_retries, self.announce = tools, with_retries, announce
        self.run = run
        self.clock = store.clock
        self.journal = store.journal(run.id, run.scope, lease)
        self.context = ToolContext(scope=run.scope, store=store)
        # Arguments and attempts as loaded: a step's start is computed from these, so a
        # transaction retried after a failed COMMIT starts the next step the same way again.
        self.loaded = [(step.args, step.attempts) for step in run.steps]
        # an MCP tool's annotations are read again when its step runs: it may ask now
        asks = run.approval and any(s.destructive or "." in s.tool for s in run.steps)
        answers = self.journal.answers() if asks else {}
        self.approved = {index for index, (status, _) in answers.items() if status == "approved"}
        # a repeat approved after a crash left its outcome unknown (once: core.questions)
        self.repeat = {
            i for i, answer in answers.items() if answer == ("approved", questions.UNKNOWN)
        }
        self.skipped = {index for index, (status, _) in answers.items() if status == "skipped"}
        self._saved: tuple[Step, tuple[Any, ...]] | None = None  # see _committed
        self.expires = approval_ttl  # how long a question before a destructive step waits

    def __call__(self) -> Run:
        try:
            with spans.execution(self.run):  # its log lines carry its trace id
                return self._execute()
        except Gone as gone:  # uninstalled, or taken over: nothing more is written or announced
            log.info("run stopped: %s", gone, extra={"run_id": self.run.id})
            return self.run

    def _execute(self) -> Run:
        run = self.run
        self.tools.prepare(run.scope, [step.tool for step in run.steps])  # no transaction held
        following = self._committed(self._begin)
        while following is not None:
            with spans.step(run, following[0]):
                following = self._step(*following)
        self.announce(self.journal.release())  # nothing is held once no step follows
        if run.status in FINAL:  # not waiting for an approval: this process finished it
            spans.finish(run, self.clock())
        log.info("run finished", extra={
            "run_id": run.id, "tenant": f"{run.scope.enterprise_id}/{run.scope.team_id}",
            "user": run.scope.user_id, "outcome": run.status.value,
            "duration_ms": round((self.clock() - run.created_at).total_seconds() * 1000, 3),
        })  # fmt: skip
        return run

    def _step(self, step: Step, tool: Tool, args: BaseModel) -> Next | None:
        """Run a started step's tool (with retries) and commit its end with the next start."""
        try:
            return self.with_retries(self.run.id, self._attempt, step, tool, args)
        except Gone:
            raise
        except CraneError as error:
            message = str(error)
        except Exception:
            log.exception("tool crashed", extra={"run_id": self.run.id, "step": step.index})
            message = f"internal error (ref {self.run.id})"
        return self._committed(lambda: self._fail(step, message, self.clock()))

    def _attempt(self, step: Step, tool: Tool, args: BaseModel) -> Next | None:
        step.attempts += 1
        if tool.writes:
            # its writes commit with its step's completion, or not at all
            with self.journal.transaction() as events:
                self.journal.fenced()  # still this run's executor: only then the tool runs
                following = self._complete(step, tool.function(args, self.context))
        else:
            # outside any transaction (unless held open for a pure tool): a slow tool must not
            # hold SQLite's write lock
            try:
                result = tool.function(args, self.context)
            except Exception:
                self.announce(self.journal.release())  # the steps before it, as if not shared
                raise
            except BaseException:
                self.journal.abandon()  # as a crash would: the held steps run again
                raise
            return self._committed(lambda: self._completed(step, tool, result))
        self.announce(events)
        return following

    def _committed(self, block: Callable[[], Next | None]) -> Next | None:
        """`block` in a transaction, its events announced once it committed. A transaction that
        assumed no stop was asked for (PostgreSQL: nothing of it was read back before its
        COMMIT) and met one rolls back: the run and the step it would have started are put
        back as they were, and the block is done again — stopping there this time."""
        status, repeat = self.run.status, set(self.repeat)
        while True:
            try:
                with self.journal.transaction() as events:
                    following = block()
                break
            except StopSeen:
                self.run.status, self.repeat = status, repeat
                if self._saved is not None:
                    step, state = self._saved
                    (step.status, step.args, step.destructive, step.started_at,
                     step.finished_at, step.attempts, step.error) = state  # fmt: skip
        self.announce(events)
        return following

    def _begin(self) -> Next | None:
        run, now = self.run, self.clock()
        if run.status is RunStatus.pending:
            run.status = RunStatus.running
            self.journal.run_started(now)
            if self.journal.seq == 0:  # not an approved run going on
                self.journal.event("run.started", {"run": run.record()}, now)
        return self._advance(0, now)

    def _completed(self, step: Step, tool: Tool, result: ToolResult) -> Next | None:
        following = self._complete(step, result)
        if following is not None and tool.pure and following[1].pure:
            self.journal.hold()  # one commit for both: a crash runs them again
        return following

    def _complete(self, step: Step, result: ToolResult) -> Next | None:
        now = self.clock()
        step.status, step.finished_at = StepStatus.completed, now
        step.output, step.value = result.text, result.value
        step.todo_numbers, step.todo_number = result.todo_numbers, result.todo_number
        self.journal.step_completed(step)
        self.journal.event("step.finished", {"step": step_record(step)}, now)
        return self._advance(step.index, now)

    def _advance(self, position: int, now: datetime) -> Next | None:
        """Inside a transaction: start the first unfinished step from `position` (0-based) on,
        or record why it cannot start; with none left, finish the run."""
        steps = self.run.steps
        while position < len(steps) and (
            steps[position].status is StepStatus.completed
            or (steps[position].status is StepStatus.skipped and position + 1 in self.skipped)
        ):  # a step its requester chose to skip: the run goes on after it
            position += 1
        if position == len(steps):
            endings.finish(self.run, self.journal, now)
            return None
        step = steps[position]
        if step.status in STOPPED:  # stored by an older version that committed these apart
            endings.stop_after(self.run, self.journal, step.index, now)
            return None
        if (
            step.status is StepStatus.running
            and step.destructive
            and not questions.may_repeat(self, step, now)
        ):
            return None
        self._saved = (step, (step.status, step.args, step.destructive, step.started_at,
                              step.finished_at, step.attempts, step.error))  # fmt: skip
        if self.journal.stop_requested():
            self.cancel(step.index, now)
            return None
        tool = self.tools.lookup(step.tool, self.run.scope)
        if tool is None:  # an MCP tool gone (another replica's list, a restart), or a typo
            self._fail(step, GONE if "." in step.tool else f"unknown tool {step.tool!r}", now)
            return None
        step.destructive = step.destructive or tool.destructive
        planned, attempts = self.loaded[position]
        try:
            step.args = resolve_args(planned, steps[:position], tool.reference_args)
            args = tool.input_model.model_validate(step.args)
        except ValidationError as error:
            message = validation_message(error)
        except CraneError as error:
            message = str(error)
        except Exception:  # a bug in an input model: this step fails, not the one before
            log.exception("arguments crashed", extra={"run_id": self.run.id, "step": step.index})
            message = f"internal error (ref {self.run.id})"
        else:
            if step.destructive and self.run.approval and step.index not in self.approved:
                try:
                    questions.ask(self, step, tool, args, now)
                except CraneError as error:  # e.g. the todo to delete does not exist
                    step.attempts = attempts + 1
                    self._fail(step, str(error), now)
                return None
            step.status, step.started_at = StepStatus.running, now
            self.journal.step_started(step)
            self.journal.event("step.started", {"step": step_record(step)}, now)
            return step, tool, args
        step.attempts = attempts + 1
        self._fail(step, message, now)
        return None

    def cancel(self, index: int, now: datetime) -> None:
        """Inside a transaction: step `index` and the later ones skipped, the run cancelled."""
        endings.cancel(self.run, self.journal, index, now)

    def _fail(self, step: Step, message: str, now: datetime) -> None:
        endings.fail(self.run, self.journal, step, message, now)
