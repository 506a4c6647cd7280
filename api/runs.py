"""/api/v1/runs: create a run (with Idempotency-Key), read one, list a caller's runs.

The order of refusals is the caller first (401/403, the `Caller` dependency), then the header
limits (422, FastAPI's `Header(max_length=…)`), the content type (415), the body size (413) and
the body model (422, extra fields forbidden) — read here from the raw request, so a client sees
who it is before what it sent is judged."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import ClientDisconnect

from api.auth import Caller
from api.problems import Problem
from core.jobs import Jobs
from core.plan import FINAL, MAX_REQUEST_CHARS, Run, RunStatus, Scope, iso
from core.requests import new_run_id
from core.runtime import Crane

MAX_BODY_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY = 200
FINISHED = FINAL  # completed, failed, cancelled


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_REQUEST_CHARS, description="The request")
    thread: str | None = Field(
        default=None, min_length=1, max_length=200, description="Conversation id for follow-ups"
    )


def run_body(run: Run) -> dict[str, Any]:
    links = {"self": f"/api/v1/runs/{run.id}", "events": f"/api/v1/runs/{run.id}/events"}
    return {**run.record(), "links": links}


def encode_cursor(run: Run) -> str:
    raw = f"{iso(run.created_at)}|{run.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    bad = Problem(400, "bad cursor: use next_cursor from a previous page")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, run_id = raw.split("|", 1)
        datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ")  # the iso() form
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise bad from error
    if not run_id:
        raise bad
    return created_at, run_id


async def read_body(request: Request) -> RunCreate:
    """The body as a RunCreate: JSON only, at most MAX_BODY_BYTES, no unknown fields."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Problem(415, "send the body as application/json")
    declared = request.headers.get("content-length", "")
    too_big = Problem(413, f"body over {MAX_BODY_BYTES} bytes")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_big
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_big
    try:
        return RunCreate.model_validate_json(raw)
    except ValidationError as error:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}".lstrip(": ")
            for item in error.errors()
        )
        raise Problem(422, detail or "invalid body") from error


class Runs:
    """The run routes' state: the runtime, its work pool, and how to follow a new run."""

    def __init__(self, crane: Crane, jobs: Jobs, track: Any) -> None:
        self.crane, self.jobs, self.track = crane, jobs, track

    async def create(self, request: Request, caller: Scope, key: str | None) -> Response:
        try:
            body = await read_body(request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        body_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        crane, jobs = self.crane, self.jobs
        # the store off the event loop: a slow database must not hold up acks and streams
        if key is not None and (
            found := await asyncio.to_thread(crane.reads.idempotent_run, caller, key)
        ):
            return await asyncio.to_thread(self._replay, caller, found, body_hash)
        if not jobs.reserve():
            if jobs.closed:  # shutting down: another instance (or this one, restarted) will do
                raise Problem(
                    503, "Crane is shutting down; try again shortly", {"Retry-After": "5"}
                )
            raise Problem(429, "Crane is busy; try again in a moment", {"Retry-After": "1"})
        try:
            run_id = new_run_id()

            def plan_and_store() -> Run:
                # off the event loop: an LLM planner is slow, and storing may wait on a lock
                text, plan = crane.plan(caller, body.text, body.thread)
                idempotency = (key, body_hash) if key is not None else None
                # pauses before each destructive step until the caller approves (api.decisions)
                return crane.start(caller, text, plan, body.thread, idempotency, run_id,
                                   approval=True)  # fmt: skip

            run = await asyncio.to_thread(plan_and_store)
        except BaseException:
            jobs.release()
            raise
        if run.id != run_id and key is not None:
            jobs.release()  # another request with this key won the race: its body decides
            stored = await asyncio.to_thread(crane.reads.idempotent_run, caller, key)
            return await asyncio.to_thread(self._replay, caller, stored or ("", run.id), body_hash)
        if not crane.clustered:
            # followed from memory: its frames are all committed here (a run of the cluster
            # may be committed elsewhere before anyone watches; its readers start from the store)
            self.track(run.id, caller)
        crane.launch(run.id)  # in the pool: the cluster's queue, or executed here
        return JSONResponse(run_body(run), status_code=202)

    def _replay(self, caller: Scope, found: tuple[str, str], body_hash: str) -> Response:
        stored_hash, run_id = found
        if stored_hash != body_hash:
            raise Problem(422, "this Idempotency-Key was used with a different body")
        run = self.crane.reads.run(run_id, caller)
        return JSONResponse(run_body(run), status_code=200 if run.status in FINISHED else 202)


def runs_router(runs: Runs) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["runs"])
    reads = runs.crane.reads

    @router.post(
        "/runs",
        status_code=202,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": RunCreate.model_json_schema()}},
            }
        },
    )
    async def create_run(
        request: Request,
        caller: Caller,
        idempotency_key: Annotated[str | None, Header(max_length=MAX_IDEMPOTENCY_KEY)] = None,
    ) -> Response:
        """Start a run; it proceeds in the background (follow it at links.events)."""
        return await runs.create(request, caller, idempotency_key)

    # plain `def` routes: FastAPI runs them in its thread pool, off the event loop
    @router.get("/runs/{run_id}")
    def get_run(run_id: str, caller: Caller) -> dict[str, Any]:
        return run_body(reads.run(run_id, caller))

    @router.get("/runs")
    def list_runs(
        caller: Caller,
        status: RunStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        before = decode_cursor(cursor) if cursor else None
        found = reads.runs(caller, limit + 1, status, before)
        page = found[:limit]
        next_cursor = encode_cursor(page[-1]) if len(found) > limit else None
        return {"items": [run_body(run) for run in page], "next_cursor": next_cursor}

    return router
