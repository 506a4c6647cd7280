"""`/crane <request>`: ack at once (usage, a refusal or busy go in the ack), work after."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot import render
from bot.listeners import BUSY, Deps
from bot.requests import from_command
from core.errors import InvalidInput
from core.requests import clean_request


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/crane")
    async def crane_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        request = replace(from_command(body), token=context.bot_token, stream=deps.stream_threads)
        if request.text.lower() in ("", "help"):
            await ack(response_type="ephemeral", text=render.usage(deps.crane.examples))
            return
        try:
            clean_request(request.text)
        except InvalidInput as error:
            await ack(response_type="ephemeral", text=f"Sorry — {error}")
            return
        if not await deps.submit(request):
            await ack(response_type="ephemeral", text=BUSY)
            return
        await ack()
