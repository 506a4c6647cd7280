"""Slack's Stop on an agent session (`agent_session_stopped`): the click goes to the job pool
(bot.stopping); with the pool full it is decided before the ack — a Stop is never dropped."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.listeners import Deps
from bot.requests import event_scope
from bot.stopping import SessionStopped


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("agent_session_stopped")
    async def stopped(body: dict[str, Any], context: AsyncBoltContext) -> None:
        event = body.get("event") or {}
        user, channel, thread = event.get("user"), event.get("channel"), event.get("thread_ts")
        if not (user and channel and thread) or deps.stopper is None:
            return
        key = f"session-stop:{body.get('event_id') or event.get('event_ts')}"
        stop = SessionStopped(event_scope(body, user), channel, thread, key, context.bot_token)
        if not deps.jobs.try_submit(deps.stopper, stop):
            await asyncio.to_thread(deps.stopper, stop)
