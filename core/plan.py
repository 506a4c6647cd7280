"""The vocabulary of Crane: plans, steps, runs and the conversation the planner reads.

Step references: inside a plan, an argument may use an earlier step's result.
An argument that is exactly ``$N`` (or ``$prev``) is replaced by step N's value as-is
(a number stays a number); ``$N`` inside a longer string is replaced by its text form.
Only earlier steps of the same plan may be referenced; conversation references
("that", "the first one") are resolved by the planner into literal arguments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# a step's value: a number, text, todo numbers, or an MCP tool's structured content
JsonValue = int | float | str | bool | list[int] | dict[str, Any] | list[Any] | None

MAX_REQUEST_CHARS = 4000


class RunStatus(StrEnum):
    pending = "pending"
    running = "running"
    awaiting_approval = "awaiting_approval"  # paused before a destructive step: not final
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


# A run in one of these has ended for good: nothing runs, waits or changes any more.
FINAL = frozenset({RunStatus.completed, RunStatus.failed, RunStatus.cancelled})


class StepStatus(StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"
    skipped = "skipped"


class Scope(BaseModel):
    """Who is asking: tenant (enterprise, team) and user, always from verified context."""

    model_config = ConfigDict(frozen=True)

    enterprise_id: str = ""
    team_id: str = ""
    user_id: str = "local"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    model: str | None = None
    latency_ms: float | None = None
    cost_usd: float | None = None


class PlannedStep(BaseModel):
    """One tool call proposed by a planner."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    # For people, never for the tool: e.g. the title of a todo named by its words, so the user
    # sees which todo "complete the report" resolved to. Left out of dumps: not part of a plan's
    # JSON shape (tool calls), so models and stored records never see it.
    note: str | None = Field(default=None, exclude=True)


class Plan(BaseModel):
    """What a planner returns. Zero steps means: do nothing, say `answer` (help or a question)."""

    steps: list[PlannedStep] = Field(default_factory=list)
    answer: str | None = None
    # the answer quotes the requester's own todos: where others can read, only they see it
    private: bool = False
    planner: str = "pattern"
    fallback_reason: str | None = None
    usage: Usage | None = None


class ToolResult(BaseModel):
    """What a tool returns: text for people, a value later steps and follow-ups can use."""

    text: str
    value: JsonValue = None
    todo_numbers: list[int] | None = None  # a listing, in the order shown
    todo_number: int | None = None  # the one todo this step acted on


class Step(BaseModel):
    index: int  # from 1
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    destructive: bool = False
    private: bool = False  # output holds stored data: shown only to the requester where others read
    status: StepStatus = StepStatus.pending
    output: str | None = None
    value: JsonValue = None
    todo_numbers: list[int] | None = None
    todo_number: int | None = None
    error: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Feedback(BaseModel):
    up: int = 0
    down: int = 0


class Run(BaseModel):
    id: str
    scope: Scope
    conversation: str | None = None
    text: str
    status: RunStatus = RunStatus.pending
    planner: str = "pattern"
    fallback_reason: str | None = None
    usage: Usage | None = None
    answer: str | None = None
    steps: list[Step] = Field(default_factory=list)
    created_at: datetime
    finished_at: datetime | None = None
    approval: bool = False  # pause before each destructive step until its requester approves
    feedback: Feedback = Field(default_factory=Feedback)
    # its trace (hex), fixed when accepted: every execution pass is a child of this root span
    trace_id: str | None = None
    root_span_id: str | None = None
    root_parent_id: str | None = None

    def record(self) -> dict[str, Any]:
        """The public JSON shape (CLI --json, REST): the promised keys, nothing internal."""
        return {
            "id": self.id,
            "status": self.status.value,
            "text": self.text,
            "planner": self.planner,
            "fallback_reason": self.fallback_reason,
            "usage": self.usage.model_dump() if self.usage else None,
            "answer": self.answer,
            "steps": [
                {
                    "index": s.index,
                    "tool": s.tool,
                    "args": s.args,
                    "status": s.status.value,
                    "output": s.output,
                    "error": s.error,
                    "attempts": s.attempts,
                }
                for s in self.steps
            ],
            "created_at": iso(self.created_at),
            "finished_at": iso(self.finished_at) if self.finished_at else None,
            "feedback": self.feedback.model_dump(),
            "trace_id": self.trace_id,
        }


class PriorStep(BaseModel):
    """A completed step of the requesting user's earlier runs in this conversation."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    value: JsonValue = None
    todo_numbers: list[int] | None = None
    todo_number: int | None = None
    # Which earlier request (index in History.requests) it answered: "it" looks at one turn.
    # None (history built by hand): each step counts as a turn of its own.
    turn: int | None = None


class Received(BaseModel):
    """A request acknowledged but not planned yet (durable intake): what was asked, by whom,
    and where the answer goes. Front ends put their own flags in `options`."""

    id: str
    scope: Scope
    text: str
    conversation: str
    channel: str = ""
    thread_ts: str | None = None
    response_url: str | None = None
    options: dict[str, bool] = Field(default_factory=dict)
    received_at: datetime


class Todo(BaseModel):
    number: int
    title: str
    done: bool
    created_at: datetime
    done_at: datetime | None = None

    def record(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "done": self.done,
            "created_at": iso(self.created_at),
            "done_at": iso(self.done_at) if self.done_at else None,
        }


class History(BaseModel):
    """What the planner may know of the conversation: this user's earlier steps, oldest first."""

    steps: list[PriorStep] = Field(default_factory=list)
    requests: list[str] = Field(default_factory=list)
    # The requesting user's own todos (open and done), for todos named by their words;
    # None when the caller did not look them up (the planner then knows only the conversation).
    todos: list[Todo] | None = None


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds, always the same width ("2026-01-02T03:04:05.000006Z")."""
    if moment.tzinfo is UTC:  # the common case (every clock reading): just swap "+00:00"
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    # isoformat is several times cheaper than strftime, and this runs on every step
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class RunEvent(BaseModel):
    """One announced state change; persisted in the same transaction as the change itself."""

    run_id: str
    seq: int
    type: str  # run.started | step.started | step.finished | run.awaiting_approval | run.finished
    data: dict[str, Any]
    created_at: datetime
