"""The App Home: the Home tab opened → the user's open todos and latest runs, published after the
ack; the Messages tab opened → the same suggested prompts as a new Assistant thread (apps on
Slack's agent view and installs still on the Assistant pane alike)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import Deps
from bot.listeners.assistant import PROMPTS
from bot.requests import event_scope


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(body: dict[str, Any], client: AsyncWebClient) -> None:
        event = body.get("event") or {}
        if not event.get("user"):
            return
        if event.get("tab") == "messages" and event.get("channel"):
            # no thread: the prompts of the Messages tab itself
            deps.later(client.assistant_threads_setSuggestedPrompts(
                channel_id=event["channel"], prompts=PROMPTS))  # fmt: skip
        elif event.get("tab") == "home" and deps.home is not None:
            deps.jobs.try_submit(deps.home.publish, event_scope(body, event["user"]))
