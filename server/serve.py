"""`crane serve`: the server assembly (`server.app`) on uvicorn; Socket Mode instead of the
HTTP endpoint when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from api import logs
from core.errors import InvalidInput
from core.settings import Settings
from core.store import describe
from server.app import create


def serve(host: str | None = None, port: int | None = None) -> int:
    import uvicorn

    logs.configure()
    try:
        settings = Settings()
    except ValidationError as bad:  # e.g. a malformed CRANE_SLACK_RATE_LIMITS: one line
        print(f"crane: {_first_problem(bad)}", file=sys.stderr)
        return 2
    try:
        server = create(settings, replica=True)
    except InvalidInput as refused:  # e.g. both Slack modes configured
        print(f"crane: {refused}", file=sys.stderr)
        return 2
    host = host or settings.host
    port = port if port is not None else settings.port
    for notice in server.notices:
        print(f"crane: {notice}", file=sys.stderr)
    print(f"crane: playground and API on http://{host}:{port}/ (database {describe(settings.db)})",
          file=sys.stderr)  # fmt: skip
    grace = int(settings.shutdown_timeout_s) + 1
    config = uvicorn.Config(
        server.app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=grace
    )
    uv = uvicorn.Server(config)
    if settings.slack_app_token and server.bolt is not None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_mode = AsyncSocketModeHandler(server.bolt, settings.slack_app_token)
        print("crane: Socket Mode on (SLACK_APP_TOKEN set)", file=sys.stderr)

        async def both() -> None:
            await asyncio.gather(uv.serve(), socket_mode.start_async())  # type: ignore[no-untyped-call]

        asyncio.run(both())
    else:
        uv.run()
    return 0


def _first_problem(bad: ValidationError) -> str:
    """One line naming the setting and what is wrong with it."""
    error = bad.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    name = ".".join(str(part) for part in error["loc"])
    return message if message.startswith(name) else f"{name}: {message}"
