"""/api/v1/runs/{id}/approve, /skip, /cancel and /feedback: a caller answers their own run's
question, stops it, or rates its answer. Another caller's run is a 404, like a missing one; a
run that is not waiting (approve, skip) or has finished (cancel) is a 409."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from api.auth import Caller
from api.problems import Problem
from api.runs import run_body
from core.approval import Decision, Outcome
from core.jobs import Jobs
from core.plan import Scope
from core.runtime import Crane, Verb

MAX_VOTE_BYTES = 1024
REFUSED = {
    Outcome.stale: "the run is not waiting for approval",
    Outcome.expired: "the approval expired; the run was cancelled",
}


class Vote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Literal["up", "down"]


async def read_vote(request: Request) -> Vote:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Problem(415, "send the body as application/json")
    too_big = Problem(413, f"body over {MAX_VOTE_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_VOTE_BYTES:
        raise too_big
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_VOTE_BYTES:
            raise too_big
    try:
        return Vote.model_validate_json(raw)
    except ValidationError as error:
        raise Problem(422, 'send {"value": "up"} or {"value": "down"}') from error


def decisions_router(crane: Crane, jobs: Jobs) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["runs"])
    reads = crane.reads

    def answer(decision: Decision, refused: str) -> dict[str, Any]:
        if decision.outcome in (Outcome.stale, Outcome.expired) or decision.earlier is not None:
            detail = REFUSED[Outcome.expired] if decision.outcome is Outcome.expired else refused
            raise Problem(409, detail)
        return run_body(reads.run(decision.run.id))

    async def go_on(run_id: str, caller: Scope, verb: Verb) -> dict[str, Any]:
        await asyncio.to_thread(reads.run, run_id, caller)  # 404 for others' runs
        if not jobs.reserve():
            raise Problem(429, "Crane is busy; try again in a moment", {"Retry-After": "1"})
        try:
            decision = await asyncio.to_thread(crane.decide, run_id, caller, verb)
        except BaseException:
            jobs.release()
            raise
        if decision.outcome not in (Outcome.approved, Outcome.skipped):
            jobs.release()
        else:  # goes on like a new run: the cluster's queue, or executed here
            crane.launch(run_id)
        return await asyncio.to_thread(answer, decision, REFUSED[Outcome.stale])

    @router.post("/runs/{run_id}/approve")
    async def approve(run_id: str, caller: Caller) -> dict[str, Any]:
        """Approve the destructive step a waiting run asks about; the run goes on."""
        return await go_on(run_id, caller, "approve")

    @router.post("/runs/{run_id}/skip")
    async def skip(run_id: str, caller: Caller) -> dict[str, Any]:
        """Skip the step a waiting run asks about (say, an MCP call a crash left unknown):
        it is marked skipped and the run goes on after it."""
        return await go_on(run_id, caller, "skip")

    @router.post("/runs/{run_id}/cancel")
    async def cancel(run_id: str, caller: Caller) -> dict[str, Any]:
        """Cancel a waiting run, or stop a running one after the step in flight."""
        await asyncio.to_thread(reads.run, run_id, caller)
        decision = await asyncio.to_thread(crane.decide, run_id, caller, "cancel")
        return await asyncio.to_thread(answer, decision, "the run has already finished")

    body_schema = {"application/json": {"schema": Vote.model_json_schema()}}

    @router.post(
        "/runs/{run_id}/feedback",
        openapi_extra={"requestBody": {"required": True, "content": body_schema}},
    )
    async def feedback(run_id: str, request: Request, caller: Caller) -> dict[str, Any]:
        """Rate the run's answer: one vote per caller, the latest wins."""
        # the body is read here, after the caller is known: who it is first, then what it sent
        vote = await read_vote(request)
        await asyncio.to_thread(reads.run, run_id, caller)
        return run_body(await asyncio.to_thread(crane.vote, run_id, caller, vote.value))

    return router
