"""The Assistant pane (and threaded DMs, which Bolt routes here): same core path, streamed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import (
    AsyncApp,
    AsyncAssistant,
    AsyncBoltContext,
    AsyncSay,
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
        async def greet() -> None:
            await say("Hi! Ask me to calculate something or to keep your todos.")
            await set_suggested_prompts(prompts=PROMPTS)

        deps.later(greet())

    @assistant.user_message
    async def user_message(
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        request = from_event(body, context.bot_user_id, mentioned=True, stream=deps.streaming)
        if request is None:
            return
        # the worker sets "thinking…" itself, so the status can never land after the answer
        deps.submit_or_say_busy(replace(request, assistant_thread=True), client)

    app.use(assistant)
