"""The Assistant pane (and threaded DMs, which Bolt routes here): same core path, streamed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import (
    AsyncApp,
    AsyncAssistant,
    AsyncBoltContext,
    AsyncSay,
    AsyncSetSuggestedPrompts,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps
from bot.requests import event_scope, from_event

PROMPTS = [
    {"title": "Calculate", "message": "calculate (2 + 3) * 4"},
    {"title": "Add a todo", "message": "add a todo to buy milk"},
    {"title": "My todos", "message": "list my todos"},
]


class PaneAssistant(AsyncAssistant):
    """Bolt's Assistant middleware, tried only on events: it looks for its listeners in every
    request otherwise, and a burst of `/crane` commands paid for it before each ack."""

    async def async_process(
        self, *, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[Any]]
    ) -> BoltResponse | None:
        if req.body.get("type") != "event_callback":
            return await next()  # type: ignore[no-any-return]
        return await super().async_process(req=req, resp=resp, next=next)


def register(app: AsyncApp, deps: Deps) -> None:
    assistant = PaneAssistant()

    @assistant.thread_started
    async def started(
        body: dict[str, Any], say: AsyncSay, set_suggested_prompts: AsyncSetSuggestedPrompts
    ) -> None:
        thread = (body.get("event") or {}).get("assistant_thread") or {}
        # one greeting per thread, whatever Slack retries
        key = (f"assistant:{body.get('team_id') or ''}:{thread.get('channel_id')}:"
               f"{thread.get('thread_ts')}")  # fmt: skip

        async def greet() -> None:
            scope = event_scope(body, "")
            if not await asyncio.to_thread(deps.ledger.claim_delivery, key, scope):
                return
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
        request = replace(request, assistant_thread=True, token=context.bot_token)
        await deps.submit_or_say_busy(request, client)

    app.use(assistant)
