"""The HTTP app: REST API, playground, health/ready, metrics. `bot.server` adds /slack/events."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Receive, Scope, Send

from api import problems
from api.auth import Auth
from api.events import EventHub
from api.hot import HotRoutes
from api.metrics import Metrics
from api.routes import build_router
from bot.jobs import Jobs
from core.runtime import Crane

PLAYGROUND = resources.files("api").joinpath("static/playground.html").read_text("utf-8")


class CraneApi(FastAPI):
    """FastAPI, except that the two requests of every run (create, follow its events) go
    straight to api.hot's lean handlers; `hot = None` routes them through FastAPI too."""

    hot: HotRoutes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.hot
        if scope["type"] == "http" and hot is not None and await hot.dispatch(scope, receive, send):
            return
        await super().__call__(scope, receive, send)


def build_api(crane: Crane, jobs: Jobs, auth: Auth, metrics: Metrics) -> CraneApi:
    app = CraneApi(
        title="Crane",
        version="0.1.0",
        description="Plain-word requests → explicit plans of tool steps, run durably.",
    )
    app.state.auth = auth
    problems.install(app)
    hub = EventHub()
    crane.orchestrator.subscribe(hub.publish)
    crane.orchestrator.subscribe(metrics.observe)
    app.hot = HotRoutes(crane, jobs, hub, auth)
    app.include_router(build_router(crane, app.hot))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def playground(request: Request) -> HTMLResponse:
        auth.page_allowed(request)
        return HTMLResponse(PLAYGROUND)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, bool]:
        """Alive."""
        return {"ok": True}

    @app.get("/ready", tags=["ops"])
    async def ready() -> JSONResponse:
        """Ready when the database takes a write transaction."""
        try:
            with crane.store.write():
                pass
        except Exception as error:  # any failure here means "not ready", said plainly
            return JSONResponse({"ok": False, "error": str(error)}, status_code=503)
        return JSONResponse({"ok": True})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_page() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
