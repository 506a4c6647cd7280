"""/api/v1: runs (create with Idempotency-Key, read, list, live events) and todos."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.auth import Auth
from api.events import EventHub
from api.problems import Problem
from bot.jobs import Jobs
from core.plan import MAX_REQUEST_CHARS, Run, RunStatus, Scope, iso
from core.runtime import Crane, new_run_id

MAX_BODY_BYTES = 64 * 1024
KEEPALIVE_S = 15.0
FINISHED = (RunStatus.completed, RunStatus.failed)


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
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, run_id = raw.split("|", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise Problem(400, "bad cursor: use next_cursor from a previous page") from error
    try:
        datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ")  # the iso() form
    except ValueError as error:
        raise Problem(400, "bad cursor: use next_cursor from a previous page") from error
    if not run_id:
        raise Problem(400, "bad cursor: use next_cursor from a previous page")
    return created_at, run_id


async def read_body(request: Request) -> RunCreate:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Problem(415, "send the body as application/json")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Problem(413, f"body over {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Problem(413, f"body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return RunCreate.model_validate_json(b"".join(chunks))
    except ValidationError as error:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}".lstrip(": ")
            for item in error.errors()
        )
        raise Problem(422, detail or "invalid body") from error


async def caller(request: Request) -> Scope:  # async: FastAPI runs sync ones in a thread
    """The authenticated caller's scope (api.auth.Auth, set on the app at build time)."""
    auth: Auth = request.app.state.auth
    return auth(request)


Caller = Annotated[Scope, Depends(caller)]


def build_router(crane: Crane, jobs: Jobs, hub: EventHub) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["runs"])

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
        scope: Caller,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        """Start a run; it proceeds in the background (follow it at links.events)."""
        body = await read_body(request)
        body_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        if idempotency_key is not None:
            found = crane.store.idempotent_run(scope, idempotency_key)
            if found:
                return _replay(crane, scope, found, body_hash)
        if not jobs.reserve():
            raise Problem(429, "Crane is busy; try again in a moment", {"Retry-After": "1"})
        try:
            key = (idempotency_key, body_hash) if idempotency_key is not None else None
            run_id = new_run_id()

            def plan_and_store() -> Run:
                # off the event loop: an LLM planner is slow, and storing may wait on
                # SQLite's write lock
                text, plan = crane.plan(scope, body.text, body.thread)
                return crane.start(scope, text, plan, body.thread, key, run_id)

            run = await asyncio.to_thread(plan_and_store)
        except BaseException:
            jobs.release()
            raise
        if run.id != run_id and idempotency_key is not None:
            jobs.release()  # another request with this key won the race: its body decides
            stored = crane.store.idempotent_run(scope, idempotency_key)
            return _replay(crane, scope, stored or ("", run.id), body_hash)
        # the run's log lines carry this request's id (api.logs.request_id)
        jobs.submit_reserved(contextvars.copy_context().run, crane.execute, run.id)
        return JSONResponse(run_body(run), status_code=202)

    @router.get("/runs/{run_id}")
    async def get_run(run_id: str, scope: Caller) -> dict[str, Any]:
        return run_body(crane.store.get_run(run_id, scope))

    @router.get("/runs")
    async def list_runs(
        scope: Caller,
        status: RunStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        before = decode_cursor(cursor) if cursor else None
        found = crane.store.list_runs(scope, limit + 1, status, before)
        page = found[:limit]
        next_cursor = encode_cursor(page[-1]) if len(found) > limit else None
        return {"items": [run_body(run) for run in page], "next_cursor": next_cursor}

    @router.get("/todos", tags=["todos"])
    async def list_todos(scope: Caller) -> dict[str, Any]:
        todos = crane.store.list_todos(scope, include_done=True)
        return {"items": [todo.record() for todo in todos]}

    @router.get("/runs/{run_id}/events", response_class=StreamingResponse)
    async def run_events(
        run_id: str,
        scope: Caller,
        last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    ) -> StreamingResponse:
        """Server-Sent Events: past events replayed, then live ones, until run.finished."""
        crane.store.get_run(run_id, scope)  # 404 for unknown and foreign ids alike
        after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
        return StreamingResponse(
            _stream(crane, hub, run_id, after),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def _replay(crane: Crane, scope: Scope, found: tuple[str, str], body_hash: str) -> JSONResponse:
    stored_hash, run_id = found
    if stored_hash != body_hash:
        raise Problem(422, "this Idempotency-Key was used with a different body")
    run = crane.store.get_run(run_id, scope)
    return JSONResponse(run_body(run), status_code=200 if run.status in FINISHED else 202)


async def _stream(crane: Crane, hub: EventHub, run_id: str, after: int) -> AsyncIterator[str]:
    """Past events from the store, then live ones from the hub, each once, in seq order."""
    queue = hub.watch(run_id)  # before reading the store: nothing published meanwhile is lost
    try:
        # Resuming a finished run (EventSource reconnects after the stream closes): its
        # run.finished is committed with the status, so if it is not after `after`, nothing
        # more will ever come. (Status first, then events: the other order could miss it.)
        finished = after and crane.store.get_run(run_id).status in FINISHED
        past = crane.store.events_after(run_id, after)
        if finished and not past:
            return
        while True:
            for event in past:
                if event.seq <= after:
                    continue  # already sent (the store and the hub can both have it)
                after = event.seq
                yield f"id: {event.seq}\nevent: {event.type}\ndata: {json.dumps(event.data)}\n\n"
                if event.type == "run.finished":
                    return
            try:
                live = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                past = []
                continue
            # the next event in order comes from the hub; after a gap, read the store again
            past = [live] if live.seq <= after + 1 else crane.store.events_after(run_id, after)
    finally:
        hub.unwatch(run_id, queue)
