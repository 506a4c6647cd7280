"""@Crane in a channel: the same step-by-step view, in that message's thread."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps
from bot.requests import from_event


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def on_mention(
        body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        request = from_event(body, context.bot_user_id, mentioned=True)
        if request is not None:
            request = replace(request, token=context.bot_token, stream=deps.stream_threads)
            await deps.submit_or_say_busy(request, client)
