"""What a request must be before Crane plans it, and what a plan must be before it is stored."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, StringConstraints, ValidationError

from core.errors import InvalidInput
from core.plan import MAX_REQUEST_CHARS, Plan, Step
from core.references import check_references
from core.tool import Tool

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


class _RandomIds:
    """16 hex digits from the OS's random source, read 4 KiB at a time: os.urandom lets go of
    the GIL, and on a busy event loop each call waited to get it back (one per Slack ack)."""

    def __init__(self) -> None:
        self._forget()
        os.register_at_fork(after_in_child=self._forget)  # a child never repeats its parent's

    def _forget(self) -> None:
        self._lock, self._pool, self._used = threading.Lock(), b"", 0

    def __call__(self) -> str:
        with self._lock:
            if self._used == len(self._pool):
                self._pool, self._used = os.urandom(4096), 0
            pool, start = self._pool, self._used
            self._used += 8
        return pool[start : start + 8].hex()


new_run_id = _RandomIds()


def check_plan(plan: Plan, tools: Mapping[str, Tool]) -> None:
    """InvalidInput for a plan too long to run, naming tools that do not exist, with a
    reference ($N) to a step that is not before it, or arguments a tool refuses already."""
    if len(plan.steps) > MAX_PLAN_STEPS:
        raise InvalidInput(
            f"that would take {len(plan.steps)} steps; Crane runs at most {MAX_PLAN_STEPS} "
            "per request — split it up"
        )
    unknown = [step.tool for step in plan.steps if step.tool not in tools]
    if unknown:
        raise InvalidInput(f"the plan uses unknown tools: {', '.join(unknown)}")
    check_references(plan.steps, {s.tool: tools[s.tool].reference_args for s in plan.steps})
    for step in plan.steps:
        check = tools[step.tool].check
        if check is not None:
            check(step.args)


def planned_steps(plan: Plan, tools: dict[str, Tool]) -> list[Step]:
    """The run's steps for a checked plan, numbered from 1, marked as their tools are."""
    return [
        Step(index=i, tool=s.tool, args=s.args, destructive=tools[s.tool].destructive,
             private=tools[s.tool].private_output)
        for i, s in enumerate(plan.steps, start=1)
    ]  # fmt: skip
