"""The one ASGI app: POST /slack/events (guarded, Bolt async) — and in OAuth mode GET
/slack/install and /slack/oauth_redirect — beside the REST API, the playground, /health,
/ready and /metrics, on one runtime and one work pool. The only place
where Slack (`bot`) and HTTP (`api`) meet."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import logs
from api.app import build_api
from api.auth import Auth, parse_tokens
from api.metrics import Metrics
from bot.guard import SlackGuard
from core import tracing
from core.app import build
from core.errors import InvalidInput
from core.jobs import Jobs
from core.runtime import Crane
from core.settings import Settings

if TYPE_CHECKING:
    from bot.app import SlackSide
    from core.cluster import Cluster

log = logging.getLogger("crane.server")
PRUNE_EVERY_S = 600.0
OAUTH_PATHS = ("/slack/install", "/slack/oauth_redirect")


@dataclass
class Server:
    app: ASGIApp
    crane: Crane
    jobs: Jobs
    bolt: Any
    metrics: Metrics
    notices: list[str]
    cluster: Cluster | None = None  # PostgreSQL replicas: the job worker, on its own loop


def _bolt_endpoint(
    settings: Settings, crane: Crane, jobs: Jobs, side: SlackSide
) -> tuple[ASGIApp, ASGIApp | None, Any]:
    """POST /slack/events, and in OAuth mode the install pages; and the Bolt app."""
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

    from bot.app import build_app
    from bot.oauth import TROUBLE

    bolt = build_app(settings, crane, jobs, side)
    handler = AsyncSlackRequestHandler(bolt)

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        response: Response = await handler.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def install(scope: Scope, receive: Receive, send: Send) -> None:
        """GET /slack/install and /slack/oauth_redirect: Bolt's flow; its every failure is a
        page a person can act on, never a 500 (a database down, Slack unreachable)."""
        response: Response
        if scope["method"] not in ("GET", "HEAD"):
            response = PlainTextResponse("method not allowed", 405, headers={"allow": "GET"})
        else:
            try:
                response = await handler.handle(Request(scope, receive))
            except Exception:
                log.exception("install flow failed")
                response = HTMLResponse(TROUBLE, status_code=503)
        await response(scope, receive, send)

    return endpoint, (install if settings.slack_oauth else None), bolt


@dataclass
class AckTimer:
    """Slack ack latency: from arrival to the start of our answer; and until the answer is
    sent, the work pool's jobs wait to start (`Jobs.acking`). (A class, not a function, so
    Starlette routes to it as a raw ASGI app.)"""

    app: ASGIApp
    metrics: Metrics
    jobs: Jobs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.slack_ack.observe(time.perf_counter() - started)
            await send(message)

        with self.jobs.acking():
            await self.app(scope, receive, send_timed)


@dataclass
class SlackFirst:
    """Slack's endpoint goes straight to its guard, every method included (the guard answers
    405 itself); FastAPI's routing and middleware stay off the ack path. All else: the API."""

    slack: ASGIApp
    api: ASGIApp
    install: ASGIApp | None = None  # OAuth mode: /slack/install and /slack/oauth_redirect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/slack/events":
            with tracing.request("POST /slack/events", _headers(scope)):  # SERVER span
                return await self.slack(scope, receive, send)
        if self.install is not None and scope["type"] == "http" and scope["path"] in OAUTH_PATHS:
            return await self.install(scope, receive, send)
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            with tracing.request(f"{scope['method']} {scope['path']}", _headers(scope)):
                return await self.api(scope, receive, send)
        return await self.api(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers (for an incoming `traceparent`), read only while tracing is on."""
    if not tracing.enabled():
        return {}
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _slack_side(settings: Settings, crane: Crane) -> SlackSide:
    from bot.app import slack_side

    return slack_side(settings, crane)


def _resume_orphans(crane: Crane, side: SlackSide | None) -> None:
    """What a dead process left resumes in the background (the server is serving meanwhile):
    unfinished runs (Slack runs go on in their thread), finished runs whose answer it never
    posted, then Slack requests it acknowledged but never planned (planned and answered now)."""

    def resume() -> None:
        try:
            crane.recover()
            if side is not None:
                side.resume()
        except Exception:  # the database went away meanwhile: the next start tries again
            log.exception("resuming what a dead process left failed")

    threading.Thread(target=resume, name="crane-resume", daemon=True).start()


def _every(every_s: float, chore: Callable[[], object], name: str) -> threading.Event:
    """Do `chore` now and then in a thread of its own, until the returned event is set."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            try:
                chore()
            except Exception:  # a busy database: the next round tries again
                log.exception("%s failed", name)

    threading.Thread(target=loop, name=f"crane-{name}", daemon=True).start()
    return stop


def _cluster(
    crane: Crane, side: SlackSide | None, replica: bool, jobs: Jobs, workers: int
) -> tuple[Cluster | None, list[threading.Event]]:
    """On PostgreSQL, a `replica`: its job worker (core.cluster), which also prunes and takes
    over dead replicas' runs, once per period for the whole cluster. On SQLite, the one process
    prunes old delivery records and idempotency keys itself."""
    if not crane.shared:
        return None, [_every(PRUNE_EVERY_S, crane.prune, "pruning")]
    if not replica:
        return None, []
    from core.cluster import Cluster

    received = None
    if side is not None:
        from bot.intake import resume_received

        received = partial(resume_received, crane, side.handler)
    return Cluster(crane, received, concurrency=workers, before_run=jobs.yield_to_acks), []


def create(
    settings: Settings | None = None, crane: Crane | None = None, replica: bool = False
) -> Server:
    """The whole server, built from settings; tests call this with their own settings.
    `replica` (`crane serve`): on PostgreSQL, run a job worker of the cluster (core.cluster)."""
    settings = settings or Settings()
    conflict = settings.slack_mode_conflict()
    if conflict:
        raise InvalidInput(conflict)
    resume_here = crane is None
    tracing.configure(settings)  # also for a runtime built elsewhere (tests)
    crane = crane or build(settings, recover=False, start_mcp=True)
    jobs = Jobs(settings.workers, settings.queue_limit)
    metrics = Metrics()
    auth = Auth(parse_tokens(settings.api_tokens))
    missing = settings.missing_slack()
    notices = []
    if missing:
        notices.append(f"Slack is not configured (missing {', '.join(missing)}); "
                       "/slack/events answers 503 until it is.")  # fmt: skip
    if settings.slack_oauth and not missing:
        notices.append("OAuth mode: workspaces install at /slack/install.")
    if not auth.tokens:
        notices.append("no CRANE_API_TOKENS: /api/v1 and / serve loopback clients only, "
                       "as the local user.")  # fmt: skip
    crane.jobs = jobs
    side = None if missing else _slack_side(settings, crane)
    if side is not None:  # Slack Web API calls, coalesced edits and 429s (bot.pacing)
        from bot.pacing import pacer_for

        metrics.count_slack_calls(pacer_for(settings).counts.totals)
    endpoint, install, bolt = (
        (None, None, None) if side is None else _bolt_endpoint(settings, crane, jobs, side)
    )
    # Socket Mode needs no signing secret, but without one the HTTP endpoint stays shut:
    # an empty HMAC key would let anyone sign requests.
    http_missing = missing or ([] if settings.slack_signing_secret else ["SLACK_SIGNING_SECRET"])
    guard = SlackGuard(
        endpoint, settings.slack_signing_secret, settings.max_body_bytes, http_missing
    )

    sweep: Callable[[], object] = crane.expire_questions if side is None else side.expire
    # Now and then, cancel questions left unanswered past their time (CRANE_APPROVAL_TTL_S);
    # clicks on an expired prompt are refused on their own, this also tells the prompt.
    chores = [_every(min(60.0, settings.approval_ttl_s / 2), sweep, "expiring questions")]
    cluster, pruning = _cluster(crane, side, replica, jobs, settings.workers)
    chores += pruning

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        live = None
        if cluster is not None:
            await cluster.start()
            crane.dispatch = cluster.dispatch  # new runs go to the cluster's queue
            api.state.worker_problem = cluster.problem  # /ready
            from server.live import follow_replicas

            live, _ = follow_replicas(crane.reads, api.state.hub)
        yield
        for chore in chores:
            chore.set()
        if live is not None:
            live.cancel()
            await asyncio.gather(live, return_exceptions=True)
        if cluster is not None:
            await cluster.stop()
        # stop taking work; let running runs finish for a bounded time (the rest resume later)
        await asyncio.to_thread(jobs.shutdown, settings.shutdown_timeout_s)
        await asyncio.to_thread(tracing.flush)  # the spans of the runs that just finished
        crane.let_go_queued()  # runs it will not start: another process's soon
        if side is not None:
            side.close()
        if jobs.wait_idle(0):  # nothing left using it: give back PostgreSQL's connections
            crane.close()

    api = build_api(crane, jobs, auth, metrics)
    # Slack delivery records and API idempotency keys are written only by the server, so it
    # alone prunes them (not every `crane ask`, whose cold start this write would cost).
    crane.prune()
    if resume_here:  # after build_api: resumed runs reach SSE readers and metrics too
        _resume_orphans(crane, side)
    api.router.lifespan_context = lifespan
    slack = AckTimer(guard, metrics, jobs)
    app = SlackFirst(slack, api, install)
    return Server(logs.RequestIds(app), crane, jobs, bolt, metrics, notices, cluster)
