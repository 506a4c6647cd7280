"""The App Home tab: opened → the user's open todos and latest runs, published after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.listeners import Deps
from bot.requests import event_scope


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("tab") != "home" or not event.get("user") or deps.home is None:
            return  # the Messages tab: nothing to publish
        deps.jobs.try_submit(deps.home.publish, event_scope(body, event["user"]))
