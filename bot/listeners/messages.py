"""Plain messages: follow-ups in threads Crane answered in, and top-level DMs.

A mention in a thread arrives twice (app_mention + message, same ts): both build the same
delivery key, so whichever lands first runs and the other stops at the delivery record.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps
from bot.requests import event_scope, from_event, is_user_message, mentions


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("message")
    async def on_message(
        body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        event = body.get("event") or {}
        if not is_user_message(event):
            return
        bot_user_id = context.bot_user_id
        if event.get("channel_type") == "im":
            # threaded DMs belong to the Assistant listener; top-level ones roll into one
            # conversation per user
            conversation = f"{event['channel']}:dm"
            request = from_event(body, bot_user_id, mentioned=True, conversation=conversation,
                                 stream=deps.streaming)  # fmt: skip
        elif event.get("thread_ts"):
            mentioned = mentions(event, bot_user_id)
            request = from_event(body, bot_user_id, mentioned=mentioned, stream=deps.stream_threads)
            if request is None:
                return
            known = deps.crane.reads.follows(event_scope(body, event["user"]), request.conversation)
            if not (known or mentioned):
                return
        else:
            return  # top-level channel chatter; mentions come as app_mention
        if request is not None:
            await deps.submit_or_say_busy(replace(request, token=context.bot_token), client)
