"""The one entry every front end uses (CLI, Slack, REST): validate → plan → store → execute."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, StringConstraints, ValidationError

from core import approval
from core.approval import Decision
from core.errors import InvalidInput
from core.orchestrator import Listener, Orchestrator
from core.plan import MAX_REQUEST_CHARS, History, Plan, Run, RunStatus, Scope, Step
from core.references import check_references
from core.store import Store

log = logging.getLogger("crane.runtime")
Planner = Callable[[str, History], Plan]
# One request stays readable in a Slack thread and bounded in work ("add todos: a;a;a;…").
MAX_PLAN_STEPS = 50


class Request(BaseModel):
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REQUEST_CHARS)
    ]


def clean_request(text: str) -> str:
    """The request text trimmed, or InvalidInput with a message a person can act on."""
    try:
        return Request(text=text).text
    except ValidationError as error:
        if any(e["type"] == "string_unicode" for e in error.errors()):
            # lone surrogates: bytes that were not UTF-8 (a terminal, a JSON "\ud800")
            raise InvalidInput("the request is not valid text (it is not UTF-8)") from error
        if not text.strip():
            raise InvalidInput("the request is empty — say what Crane should do") from error
        raise InvalidInput(
            f"the request is too long ({len(text.strip())} characters; the limit is "
            f"{MAX_REQUEST_CHARS})"
        ) from error


def new_run_id() -> str:
    return secrets.token_hex(8)


class Crane:
    def __init__(self, store: Store, planner: Planner, orchestrator: Orchestrator) -> None:
        self.store = store
        self.planner = planner
        self.orchestrator = orchestrator
        # Replicas (core.cluster): hands a run stored here to the cluster's job queue, whose
        # first free worker on any replica executes it. None: front ends execute runs here.
        self.dispatch: Callable[[str], None] | None = None

    def plan(self, scope: Scope, text: str, conversation: str | None = None) -> tuple[str, Plan]:
        """Clean the request and plan it against this user's part of the conversation."""
        text = clean_request(text)
        history = self.store.history(scope, conversation) if conversation else History()
        # The user's own todos, so "complete call the plumber" can be resolved while planning.
        history.todos = self.store.list_todos(scope, include_done=True)
        plan = self.planner(text, history)
        self._check(plan)
        return text, plan

    def _check(self, plan: Plan) -> None:
        if len(plan.steps) > MAX_PLAN_STEPS:
            raise InvalidInput(
                f"that would take {len(plan.steps)} steps; Crane runs at most {MAX_PLAN_STEPS} "
                "per request — split it up"
            )
        tools = self.orchestrator.tools
        unknown = [step.tool for step in plan.steps if step.tool not in tools]
        if unknown:
            raise InvalidInput(f"the plan uses unknown tools: {', '.join(unknown)}")
        check_references(plan.steps, {name: tool.reference_args for name, tool in tools.items()})

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
    ) -> Run:
        """Store a pending run for an accepted plan; `execute` runs it. With an idempotency
        (key, body hash) already used by this caller, the run stored then is returned. With
        `approval` (Slack, REST) the run pauses before each destructive step (core.approval);
        the CLI's runs never do: they are their operator's own."""
        tools = self.orchestrator.tools
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
            steps=[
                Step(
                    index=i,
                    tool=s.tool,
                    args=s.args,
                    destructive=tools[s.tool].destructive,
                    private=tools[s.tool].private_output,
                )
                for i, s in enumerate(plan.steps, start=1)
            ],
            created_at=self.store.clock(),
            approval=approval,
        )
        stored_id = self.store.insert_run(run, self.orchestrator.owner, idempotency, received)
        if stored_id != run.id:
            return self.store.get_run(stored_id)
        return run

    def dispatched(self, run_id: str) -> bool:
        """Handed to the cluster's job queue (`dispatch`); False: the caller executes it here,
        also when the queue refused it."""
        if self.dispatch is None:
            return False
        try:
            self.dispatch(run_id)
        except Exception:
            log.exception("dispatching failed; running here", extra={"run_id": run_id})
            return False
        return True

    def execute(self, run_id: str, on_event: Listener | None = None) -> Run:
        return self.orchestrator.execute(run_id, on_event)

    def ask(self, scope: Scope, text: str, conversation: str | None = None) -> Run:
        text, plan = self.plan(scope, text, conversation)
        return self.execute(self.start(scope, text, plan, conversation).id)

    def approve(self, run_id: str, by: str, index: int | None = None) -> Decision:
        """Answer a waiting run's question with yes; on `approved`, the caller executes it."""
        return approval.approve(self.orchestrator, run_id, by, index)

    def cancel(self, run_id: str, by: str, index: int | None = None) -> Decision:
        """Cancel a waiting run, or (without `index`) stop a running one at its next step."""
        return approval.cancel(self.orchestrator, run_id, by, index)

    def expire_questions(self) -> list[Decision]:
        return approval.expire(self.orchestrator)

    def vote(self, run_id: str, voter: Scope, value: str) -> Run:
        """One vote (up|down) per person per run, the latest wins; returns the run."""
        if value not in ("up", "down"):
            raise InvalidInput("a vote is up or down")
        self.store.get_run(run_id)  # NotFound for a run that does not exist
        self.store.vote(run_id, voter, value)
        return self.store.get_run(run_id)
