"""THE run lifecycle, the one entry every front end (CLI, Slack, REST) uses.

- accept: `plan` (clean the request, plan it against the requester's conversation) and
  `start` (store it with its idempotency key or intake record, and where it is shown);
- run: `proceed` is the one place that decides where a stored run executes — the cluster's job
  queue (replicas on PostgreSQL) or here, now; `launch` does that from a request thread, in the
  work pool (`core.jobs`);
- decide: `decide` (approve, cancel, stop — by the run's requester only) and `vote`;
- recover: `recover`, `take_unanswered`, `take_received` (what a dead process left).

Front ends translate their input into these calls and the events (`subscribe`) into output;
they read through `reads` (core.reads) and write nothing into the store themselves."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any, Literal

from core import approval, spans, tracing
from core.approval import Decision
from core.errors import Forbidden, InvalidInput
from core.gate import Gate
from core.jobs import Jobs
from core.limits import Limits
from core.orchestrator import Listener, Orchestrator
from core.plan import (
    History,
    Plan,
    Received,
    Run,
    RunStatus,
    Scope,
)
from core.planners import calls
from core.reads import Reads
from core.requests import check_plan, clean_request, new_run_id, planned_steps
from core.store import Store, is_url
from core.tool import examples
from core.toolbox import Toolbox

log = logging.getLogger("crane.runtime")
Planner = Callable[[str, History], Plan]


class NotYours(Forbidden):
    """A decision on someone else's run: only its requester may answer or stop it."""

    def __init__(self, requester: Scope) -> None:
        super().__init__(f"only <@{requester.user_id}> may decide on this run")
        self.requester = requester


Verb = Literal["approve", "cancel", "stop", "skip"]


class Crane:
    def __init__(
        self,
        store: Store,
        planner: Planner,
        orchestrator: Orchestrator,
        jobs: Jobs | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.gate = Gate(store, limits or Limits())  # usage limits (core.gate)
        self.limits, self.refusals = self.gate.limits, self.gate.refusals
        self.planner = planner
        self.orchestrator = orchestrator
        self.jobs = jobs  # the work pool of a server; the CLI executes in its own thread
        self.reads = Reads(store)  # what front ends may read: runs, todos, events
        # Replicas (core.cluster): hands a run stored here to the cluster's job queue, whose
        # first free worker on any replica executes it. None: runs execute in this process.
        self.dispatch: Callable[[str], None] | None = None

    # --- accept ---------------------------------------------------------------------------------

    def plan(self, scope: Scope, text: str, conversation: str | None = None) -> tuple[str, Plan]:
        """Clean the request and plan it against this user's part of the conversation."""
        text = clean_request(text)
        tracing.accept()  # the run's trace starts here: planning is part of it
        self.gate.admit(scope)  # over a run limit: refused before any LLM spend
        history = self.store.history(scope, conversation) if conversation else History()
        # The user's own todos, so "complete call the plumber" can be resolved while planning.
        history.todos = self.store.list_todos(scope, include_done=True)
        with spans.planning(text) as planned:
            plan = self.gate.plan(
                self.planner, scope, text, history, lambda: self.tools.catalog(scope)
            )
            planned(plan.planner, plan.fallback_reason)
        tools = self.tools.visible(scope, [step.tool for step in plan.steps])
        check_plan(plan, tools)
        return text, calls.with_tools_in_help(plan, tools)

    def start(
        self,
        scope: Scope,
        text: str,
        plan: Plan,
        conversation: str | None = None,
        idempotency: tuple[str, str] | None = None,
        run_id: str | None = None,
        approval: bool = False,
        received: str | None = None,
        shown_in: dict[str, Any] | None = None,
        counted: bool = True,
    ) -> Run:
        """Store a pending run for an accepted plan. With an idempotency (key, body hash)
        already used by this caller, the run stored then is returned. With `approval` (Slack,
        REST) the run pauses before each destructive step (core.approval); the CLI's runs never
        do: they are their operator's own. `received`: the intake record it was planned from;
        `shown_in`: where a front end shows it, stored with it. A run `counted` (not a click's)
        is counted in its user's usage, and refused (LimitReached) over a run limit."""
        tools = self.tools.visible(scope, [step.tool for step in plan.steps])
        check_plan(plan, tools)  # again: a tool may have gone since it was planned
        run = Run(
            id=run_id or new_run_id(),
            scope=scope,
            conversation=conversation,
            text=text,
            status=RunStatus.pending,
            planner=plan.planner,
            fallback_reason=plan.fallback_reason,
            usage=plan.usage,
            answer=plan.answer,
            steps=planned_steps(plan, tools),
            created_at=self.store.clock(),
            approval=approval,
        )
        run.trace_id, run.root_span_id, run.root_parent_id = tracing.accepted_ids()
        stored_id = self.gate.refusing(
            self.store.insert_run, run, self.orchestrator.owner, idempotency, received, shown_in,
            self.limits if counted else None,
        )  # fmt: skip
        if stored_id != run.id:
            return self.store.get_run(stored_id)
        return run

    # --- run ------------------------------------------------------------------------------------

    def proceed(self, run_id: str, on_event: Listener | None = None) -> Run | None:
        """Go on with a stored run, new or approved: the one place that decides between the
        cluster's job queue (None: whichever replica's worker fetches it executes it) and
        executing it here, now, in this thread (the run as it stands after)."""
        if self.dispatch is not None:
            self.orchestrator.release(run_id)  # the worker takes it from this process's token
            try:
                self.dispatch(run_id)
                return None
            except Exception:
                log.exception("dispatching failed; running here", extra={"run_id": run_id})
        return self.orchestrator.execute(run_id, on_event)

    def launch(self, run_id: str) -> None:
        """`proceed` in the work pool, from a request thread that reserved a slot there
        (`jobs.reserve`); the run's lease is held meanwhile, so no replica takes it over."""
        assert self.jobs is not None, "launch needs the server's work pool"
        self.orchestrator.hold(run_id)
        # the run's log lines carry the request's context (its request id)
        self.jobs.submit_reserved(contextvars.copy_context().run, self.proceed, run_id)

    def execute(self, run_id: str, on_event: Listener | None = None) -> Run:
        """Execute (or resume) a stored run here, whatever the cluster (the CLI, tests)."""
        return self.orchestrator.execute(run_id, on_event)

    def ask(
        self,
        scope: Scope,
        text: str,
        conversation: str | None = None,
        on_event: Listener | None = None,
        plan: Plan | None = None,
    ) -> Run:
        """Plan (unless `plan`, made for the cleaned `text`, is given), store and execute
        here, whatever the cluster (the CLI: its runs are its operator's own): the run."""
        if plan is None:
            text, plan = self.plan(scope, text, conversation)
        return self.execute(self.start(scope, text, plan, conversation).id, on_event)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every committed event of every run this process executes or decides."""
        return self.orchestrator.subscribe(listener)

    # --- decide ---------------------------------------------------------------------------------

    def decide(self, run_id: str, by: Scope, verb: Verb, index: int | None = None) -> Decision:
        """The requester's answer: approve, cancel or skip the question (about step `index`,
        if given), or stop the run at its next step. NotFound, or NotYours for anyone else.
        On `approved` or `skipped` the caller goes on with `proceed` (or `launch`)."""
        run = self.store.get_run(run_id)
        if run.scope != by:
            raise NotYours(run.scope)
        if verb in ("approve", "skip"):
            answer = approval.approve if verb == "approve" else approval.skip
            return answer(self.orchestrator, run_id, by.user_id, index)
        return approval.cancel(
            self.orchestrator, run_id, by.user_id, None if verb == "stop" else index
        )

    def approve(self, run_id: str, by: str, index: int | None = None) -> Decision:
        """Answer a waiting run's question with yes; on `approved`, the caller proceeds."""
        return approval.approve(self.orchestrator, run_id, by, index)

    def cancel(self, run_id: str, by: str, index: int | None = None) -> Decision:
        """Cancel a waiting run, or (without `index`) stop a running one at its next step."""
        return approval.cancel(self.orchestrator, run_id, by, index)

    def expire_questions(self) -> list[Decision]:
        """Cancel every question past its time; subscribers hear the runs finish."""
        return approval.expire(self.orchestrator)

    def vote(self, run_id: str, voter: Scope, value: str) -> Run:
        """One vote (up|down) per person per run, the latest wins; returns the run."""
        if value not in ("up", "down"):
            raise InvalidInput("a vote is up or down")
        self.store.get_run(run_id)  # NotFound for a run that does not exist
        self.store.vote(run_id, voter, value)
        return self.store.get_run(run_id)

    # --- recover --------------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Resume here the runs whose process died (subscribers hear them); their ids."""
        return self.orchestrator.recover()

    def take_unanswered(self) -> list[str]:
        """Finished runs whose answer a dead process never posted, now this process's."""
        return self.orchestrator.take_unanswered()

    def take_received(self) -> list[Received]:
        """Requests a dead process acknowledged but never planned, now this process's."""
        return self.orchestrator.take_received()

    def forget_workspace(self, enterprise_id: str, team_id: str | None) -> dict[str, int]:
        """An uninstall: every row of the workspace (or org) goes; its runs stop."""
        return self.store.forget_tenant(enterprise_id, team_id)

    def prune(self) -> int:  # delivery records and idempotency keys past their 24 h
        return self.store.forget_old_requests()

    def close(self) -> None:  # the database's connections and MCP servers (shutdown, exit)
        self.tools.close()
        self.store.close()

    def let_go_queued(self) -> None:
        """Shutting down: runs held for the pool that will not start here go to others."""
        self.orchestrator.let_go_queued()

    def ready(self) -> None:  # raises unless the database takes a write transaction now
        with self.store.write():
            pass

    @property
    def clustered(self) -> bool:
        """Runs go to the cluster's job queue (any replica's worker executes them)."""
        return self.dispatch is not None

    @property
    def shared(self) -> bool:  # a PostgreSQL database replicas share (not a SQLite file)
        return is_url(self.store.path)

    @property
    def examples(self) -> list[tuple[str, ...]]:
        """What help shows in every front end: each built-in tool's plain-word examples."""
        return examples(self.tools.builtins.values())

    @property
    def tools(self) -> Toolbox:  # built-ins and MCP tools; `.visible(scope)`: what scope may use
        return self.orchestrator.tools
