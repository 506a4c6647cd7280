"""The Assistant pane (and threaded DMs, which Bolt routes here): same core path, streamed."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import (
    AsyncApp,
    AsyncAssistant,
    AsyncBoltContext,
    AsyncSay,
    AsyncSetStatus,
    AsyncSetSuggestedPrompts,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps
from bot.requests import from_event

PROMPTS = [
    {"title": "Calculate", "message": "calculate (2 + 3) * 4"},
    {"title": "Add a todo", "message": "add a todo to buy milk"},
    {"title": "My todos", "message": "list my todos"},
]


def register(app: AsyncApp, deps: Deps) -> None:
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def started(say: AsyncSay, set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
        await say("Hi! Ask me to calculate something or to keep your todos.")
        await set_suggested_prompts(prompts=PROMPTS)

    @assistant.user_message
    async def user_message(
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        set_status: AsyncSetStatus,
    ) -> None:
        request = from_event(body, context.bot_user_id, mentioned=True, stream=deps.streaming)
        if request is None:
            return
        await set_status("thinking…")
        await deps.submit_or_say_busy(request, client)

    app.use(assistant)
