"""The two requests of every API run — `POST /api/v1/runs` and `GET /api/v1/runs/{id}/events` —
as lean ASGI handlers. `api.app.CraneApi` sends them here before FastAPI's middleware stack,
routing and dependency solving, which cost about as much server time per run as the run itself.
The stream is written straight to the connection (no StreamingResponse task group), with the
frames that arrived together in one write; a run created here is authorised and replayed from
the hub's memory of it (`EventHub.track`), any other from the store. FastAPI still declares
both routes (the OpenAPI schema, /docs) and their endpoints hand over to these handlers, so
either way in answers alike.

The promises are FastAPI's: the caller first (401/403), then the header limits (422), content
type (415), body size (413) and the body model (422, extra fields forbidden); every error
problem+json (`api.problems.for_error`), never a 5xx for anything a client sends."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.types import Receive, Send
from starlette.types import Scope as ASGIScope

from api import problems
from api.auth import Auth
from api.events import EventHub, Frame, frame
from api.problems import Problem
from bot.jobs import Jobs
from core.plan import FINAL, MAX_REQUEST_CHARS, Run, Scope
from core.runtime import Crane, new_run_id

MAX_BODY_BYTES = 64 * 1024
MAX_IDEMPOTENCY_KEY = 200
MAX_LAST_EVENT_ID = 20
MAX_SEQ = 2**63 - 1  # the largest SQLite INTEGER
KEEPALIVE_S = 15.0
# A stream that waited this long for its run starts watching for the client leaving (one
# more task per stream: only for runs that take a while)
WATCH_AFTER_S = 1.0
FINISHED = tuple(FINAL)  # completed, failed, cancelled
RUNS = "/api/v1/runs"
EVENTS = "/events"

_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
KEEPALIVE = b": keep-alive\n\n"


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_REQUEST_CHARS, description="The request")
    thread: str | None = Field(
        default=None, min_length=1, max_length=200, description="Conversation id for follow-ups"
    )


def run_body(run: Run) -> dict[str, Any]:
    links = {"self": f"/api/v1/runs/{run.id}", "events": f"/api/v1/runs/{run.id}/events"}
    return {**run.record(), "links": links}


def parse_body(raw: bytes) -> RunCreate:
    try:
        return RunCreate.model_validate_json(raw)
    except ValidationError as error:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}".lstrip(": ")
            for item in error.errors()
        )
        raise Problem(422, detail or "invalid body") from error


def _headers(scope: ASGIScope, *wanted: bytes) -> dict[bytes, str]:
    """The first value of each wanted header (names are lowercase in ASGI), as text."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in wanted and name not in found:
            found[name] = value.decode("latin-1")
    return found


def _too_long(name: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:  # as FastAPI's Header(max_length=...) says it
        raise Problem(422, f"header.{name}: String should have at most {limit} characters")


async def _send_json(send: Send, status: int, content: Any) -> None:
    body = _json(content).encode()
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ClientLeft(Exception):
    """The client disconnected before its request body arrived."""


class HotRoutes:
    def __init__(self, crane: Crane, jobs: Jobs, hub: EventHub, auth: Auth) -> None:
        self.crane, self.jobs, self.hub, self.auth = crane, jobs, hub, auth

    async def dispatch(self, scope: ASGIScope, receive: Receive, send: Send) -> bool:
        """Serve the request if it is one of the two; False to leave it to FastAPI."""
        path: str = scope["path"]
        if not path.startswith(RUNS) or scope.get("root_path"):
            return False
        method = scope["method"]
        if method == "POST" and path == RUNS:
            await self.create_run(scope, receive, send)
            return True
        if method == "GET" and path.endswith(EVENTS):
            run_id = path[len(RUNS) + 1 : -len(EVENTS)]
            if run_id and path[len(RUNS)] == "/" and "/" not in run_id:
                await self.run_events(scope, receive, send, run_id)
                return True
        return False

    def _caller(self, scope: ASGIScope, headers: dict[bytes, str]) -> Scope:
        client = scope.get("client")
        return self.auth.caller(headers.get(b"authorization", ""), client[0] if client else None)

    # --- POST /api/v1/runs ---------------------------------------------------------------------

    async def create_run(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        try:
            status, content = await self._create_run(scope, receive)
        except ClientLeft:
            return
        except Exception as error:
            await problems.for_error(error)(scope, receive, send)
            return
        await _send_json(send, status, content)

    async def _create_run(self, scope: ASGIScope, receive: Receive) -> tuple[int, dict[str, Any]]:
        headers = _headers(
            scope, b"authorization", b"idempotency-key", b"content-type", b"content-length"
        )
        caller = self._caller(scope, headers)
        idempotency_key = headers.get(b"idempotency-key")
        _too_long("idempotency-key", idempotency_key, MAX_IDEMPOTENCY_KEY)
        kind = headers.get(b"content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise Problem(415, "send the body as application/json")
        declared = headers.get(b"content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise Problem(413, f"body over {MAX_BODY_BYTES} bytes")
        body = parse_body(await _read_body(receive))
        body_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        crane, jobs = self.crane, self.jobs
        if idempotency_key is not None:
            found = crane.store.idempotent_run(caller, idempotency_key)
            if found:
                return self._replay(caller, found, body_hash)
        if not jobs.reserve():
            if jobs.closed:  # shutting down: another instance (or this one, restarted) will do
                raise Problem(
                    503, "Crane is shutting down; try again shortly", {"Retry-After": "5"}
                )
            raise Problem(429, "Crane is busy; try again in a moment", {"Retry-After": "1"})
        try:
            key = (idempotency_key, body_hash) if idempotency_key is not None else None
            run_id = new_run_id()

            def plan_and_store() -> Run:
                # off the event loop: an LLM planner is slow, and storing may wait on
                # SQLite's write lock
                text, plan = crane.plan(caller, body.text, body.thread)
                return crane.start(caller, text, plan, body.thread, key, run_id)

            run = await asyncio.to_thread(plan_and_store)
        except BaseException:
            jobs.release()
            raise
        if run.id != run_id and idempotency_key is not None:
            jobs.release()  # another request with this key won the race: its body decides
            stored = crane.store.idempotent_run(caller, idempotency_key)
            return self._replay(caller, stored or ("", run.id), body_hash)
        self.hub.track(run.id, caller)
        # the run's log lines carry this request's id (api.logs.request_id)
        jobs.submit_reserved(contextvars.copy_context().run, crane.execute, run.id)
        return 202, run_body(run)

    def _replay(
        self, caller: Scope, found: tuple[str, str], body_hash: str
    ) -> tuple[int, dict[str, Any]]:
        stored_hash, run_id = found
        if stored_hash != body_hash:
            raise Problem(422, "this Idempotency-Key was used with a different body")
        run = self.crane.store.get_run(run_id, caller)
        return 200 if run.status in FINISHED else 202, run_body(run)

    # --- GET /api/v1/runs/{id}/events ----------------------------------------------------------

    async def run_events(self, scope: ASGIScope, receive: Receive, send: Send, run_id: str) -> None:
        """Server-Sent Events: past events replayed, then live ones, until run.finished."""
        try:
            headers = _headers(scope, b"authorization", b"last-event-id")
            caller = self._caller(scope, headers)
            last_event_id = headers.get(b"last-event-id")
            _too_long("last-event-id", last_event_id, MAX_LAST_EVENT_ID)
            if self.hub.owner(run_id) != caller:  # known to be the caller's: no need to look
                self.crane.store.get_run(run_id, caller)  # 404 for unknown and foreign ids alike
        except Exception as error:
            await problems.for_error(error)(scope, receive, send)
            return
        after = 0
        if last_event_id and last_event_id.isascii() and last_event_id.isdigit():
            after = int(last_event_id)
            if after > MAX_SEQ:  # no event has such an id (and SQLite could not compare it)
                after = 0
        await self._stream(scope, receive, send, run_id, after)

    def _stored(self, run_id: str, after: int) -> list[Frame]:
        """The run's events after seq `after` from the store (a run this server did not
        create, or created too long ago to be tracked)."""
        store = self.crane.store
        # Resuming a finished run (EventSource reconnects after the stream closes): its
        # run.finished is committed with the status, so if it is not after `after`, nothing
        # more will ever come. (Status first, then events: the other order could miss it.)
        finished = after and store.get_run(run_id).status in FINISHED
        past = [frame(event) for event in store.events_after(run_id, after)]
        return [Frame(after, True, b"")] if finished and not past else past

    async def _stream(
        self, scope: ASGIScope, receive: Receive, send: Send, run_id: str, after: int
    ) -> None:
        """Past events (from the hub for a run tracked there, else from the store), then live
        ones from the hub, each once, in seq order, until run.finished."""
        # watch before reading the store: nothing published meanwhile is lost
        channel, past = self.hub.watch(run_id)
        watcher: asyncio.Task[None] | None = None
        try:
            if past is None:
                try:
                    past = self._stored(run_id, after)
                except Exception as error:
                    await problems.for_error(error)(scope, receive, send)
                    return
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            while True:
                out: list[bytes] = []
                for item in past:
                    if item.seq > after:
                        after = item.seq
                        out.append(item.data)
                    # else: already sent (the store and the hub can both have it)
                    if item.last:  # the end, even if the client had it already
                        await send({"type": "http.response.body", "body": b"".join(out)})
                        return
                if out:
                    more = {"type": "http.response.body", "body": b"".join(out), "more_body": True}
                    await send(more)
                if watcher is not None and watcher.done():
                    return  # the client left
                live: list[Frame] = await channel.take(KEEPALIVE_S if watcher else WATCH_AFTER_S)
                if watcher is not None and watcher.done():
                    return
                if not live:
                    if watcher is None:
                        watcher = asyncio.ensure_future(_disconnected(receive))
                        watcher.add_done_callback(lambda _: channel.wake())
                    else:
                        await send({"type": "http.response.body", "body": KEEPALIVE,
                                    "more_body": True})  # fmt: skip
                    past = []
                    continue
                # the next events in order come from the hub; after a gap, read the store again
                past = live if _follows(live, after) else self._stored(run_id, after)
        finally:
            self.hub.unwatch(run_id, channel)
            if watcher is not None and not watcher.done():
                watcher.cancel()


def _follows(frames: list[Frame], after: int) -> bool:
    """True if these frames continue the stream after seq `after` without a gap."""
    for item in frames:
        if item.seq > after + 1:
            return False
        after = max(after, item.seq)
    return True


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _read_body(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientLeft
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise Problem(413, f"body over {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
