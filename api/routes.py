"""/api/v1: runs (create with Idempotency-Key, read, list, live events) and todos.

Creating a run and following its events are what every API run costs, so those two are served
by `api.hot` ahead of FastAPI; they are declared here too, for the OpenAPI schema and /docs,
and their endpoints hand over to the same handlers."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope

from api.auth import Auth
from api.hot import MAX_IDEMPOTENCY_KEY, MAX_LAST_EVENT_ID, HotRoutes, RunCreate, run_body
from api.problems import Problem
from core.plan import Run, RunStatus, Scope, iso
from core.runtime import Crane


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


async def caller(request: Request) -> Scope:  # async: FastAPI runs sync ones in a thread
    """The authenticated caller's scope (api.auth.Auth, set on the app at build time)."""
    auth: Auth = request.app.state.auth
    return auth(request)


Caller = Annotated[Scope, Depends(caller)]


class HandOver(Response):
    """An endpoint's answer that is an ASGI app of its own (one of api.hot's handlers)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__()
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def build_router(crane: Crane, hot: HotRoutes) -> APIRouter:
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
        scope: Caller,
        idempotency_key: Annotated[str | None, Header(max_length=MAX_IDEMPOTENCY_KEY)] = None,
    ) -> Response:
        """Start a run; it proceeds in the background (follow it at links.events)."""
        return HandOver(hot.create_run)

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
        last_event_id: Annotated[str | None, Header(max_length=MAX_LAST_EVENT_ID)] = None,
    ) -> Response:
        """Server-Sent Events: past events replayed, then live ones, until run.finished."""
        return HandOver(partial(hot.run_events, run_id=run_id))

    return router
