"""The HTTP app: REST API, playground, health/ready, metrics. `server` adds /slack/events."""

from __future__ import annotations

import asyncio
import html
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import problems
from api.auth import Auth
from api.events import EventHub
from api.metrics import Metrics
from api.routes import build_router
from core.jobs import Jobs
from core.runtime import Crane

PLAYGROUND = resources.files("api").joinpath("static/playground.html").read_text("utf-8")


def playground_page(examples: list[tuple[str, ...]]) -> str:
    """The playground, its hint the tools' own examples (Crane.examples): the help every front
    end shows comes from the same text."""
    tries = " · ".join(f"<code>{html.escape(tool[0])}</code>" for tool in examples)
    first = html.escape(" and ".join(tool[0] for tool in examples[:2]), quote=True)
    return PLAYGROUND.replace("<!--examples-->", tries).replace("__EXAMPLE__", first)


def build_api(crane: Crane, jobs: Jobs, auth: Auth, metrics: Metrics) -> FastAPI:
    app = FastAPI(
        title="Crane",
        version="0.1.0",
        description="Plain-word requests → explicit plans of tool steps, run durably.",
    )
    app.state.auth = auth
    problems.install(app)
    hub = app.state.hub = EventHub()  # who follows which run (tests look too)
    crane.subscribe(hub.publish)
    crane.subscribe(metrics.observe)
    crane.refusals.append(metrics.count_refusal)
    metrics.count_votes(crane.reads.vote_totals)
    app.include_router(build_router(crane, jobs, hub))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def playground(request: Request) -> HTMLResponse:
        auth.page_allowed(request)
        return HTMLResponse(playground_page(crane.examples))

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, Any]:
        """Alive; and each configured MCP server by name, "up" or "down" (still 200)."""
        return {"ok": True, "mcp": crane.tools.status()}

    @app.get("/ready", tags=["ops"])
    async def ready() -> JSONResponse:
        """Ready when the database takes a write transaction (and, on PostgreSQL, this
        replica's job worker runs)."""

        try:  # off the event loop: a database that is down may take seconds to say so
            await asyncio.to_thread(crane.ready)
        except Exception as error:  # any failure here means "not ready", said plainly
            return JSONResponse({"ok": False, "error": str(error)}, status_code=503)
        problem = getattr(app.state, "worker_problem", lambda: None)()
        if problem:
            return JSONResponse({"ok": False, "error": problem}, status_code=503)
        return JSONResponse({"ok": True})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_page() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
