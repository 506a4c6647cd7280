"""`crane serve`: one ASGI app — POST /slack/events (guarded, Bolt async) and GET /health —
served by uvicorn; Socket Mode instead of the HTTP endpoint when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.guard import SlackGuard
from bot.jobs import Jobs
from core.app import build
from core.runtime import Crane
from core.settings import Settings

log = logging.getLogger("crane.server")


@dataclass
class Server:
    app: Starlette
    crane: Crane
    jobs: Jobs
    bolt: object | None


def create(settings: Settings | None = None, crane: Crane | None = None) -> Server:
    """The whole server, built from settings; tests call this with their own settings."""
    settings = settings or Settings()
    crane = crane or build(settings)
    jobs = Jobs(settings.workers, settings.queue_limit)
    missing = settings.missing_slack()
    bolt = None
    endpoint = None
    if not missing:
        from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler

        from bot.app import build_app

        bolt = build_app(settings, crane, jobs)
        handler = AsyncSlackRequestHandler(bolt)

        async def bolt_asgi(scope, receive, send):  # type: ignore[no-untyped-def]
            response: Response = await handler.handle(Request(scope, receive))
            await response(scope, receive, send)

        endpoint = bolt_asgi
    guard = SlackGuard(endpoint, settings.slack_signing_secret, settings.max_body_bytes, missing)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # stop taking work, let running runs finish for a bounded time
        await asyncio.to_thread(jobs.shutdown, 10.0)

    app = Starlette(
        routes=[Route("/slack/events", guard, methods=None), Route("/health", health)],
        lifespan=lifespan,
    )
    return Server(app=app, crane=crane, jobs=jobs, bolt=bolt)


def serve(host: str | None = None, port: int | None = None) -> int:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    server = create(settings)
    host = host or settings.host
    port = port if port is not None else settings.port
    missing = settings.missing_slack()
    if missing:
        print(f"crane: Slack is not configured (missing {', '.join(missing)}); "
              "/slack/events answers 503 until it is.", file=sys.stderr)  # fmt: skip
    print(f"crane: serving on http://{host}:{port} (database {settings.db})", file=sys.stderr)
    config = uvicorn.Config(server.app, host=host, port=port, log_level="warning")
    uv = uvicorn.Server(config)
    if settings.slack_app_token and server.bolt is not None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_mode = AsyncSocketModeHandler(server.bolt, settings.slack_app_token)  # type: ignore[arg-type]
        print("crane: Socket Mode on (SLACK_APP_TOKEN set)", file=sys.stderr)

        async def both() -> None:
            await asyncio.gather(uv.serve(), socket_mode.start_async())  # type: ignore[no-untyped-call]

        asyncio.run(both())
    else:
        uv.run()
    return 0
