"""Buttons (block_actions): ack at once, then the click goes to the job pool (bot.actions)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot import buttons
from bot.actions import Click
from bot.listeners import BUSY, Deps
from core.plan import Scope

ACTION_IDS = (buttons.APPROVE, buttons.CANCEL, buttons.SKIP, buttons.STOP, buttons.FEEDBACK,
              buttons.TODO_DONE)  # fmt: skip


def click_from(body: dict[str, Any]) -> Click | None:
    """The click as the verified payload says: who (user, team, enterprise), what, where."""
    user, team = body.get("user") or {}, body.get("team") or {}
    actions = body.get("actions") or []
    if not user.get("id") or not actions:
        return None
    action = actions[0]
    enterprise = (body.get("enterprise") or {}).get("id") or team.get("enterprise_id") or ""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return Click(
        scope=Scope(enterprise_id=enterprise, team_id=team.get("id") or user.get("team_id") or "",
                    user_id=user["id"]),
        action_id=str(action.get("action_id") or ""),
        value=str(action.get("value") or ""),
        channel=channel,
        message_ts=container.get("message_ts"),
        thread_ts=message.get("thread_ts") or container.get("thread_ts"),
        response_url=body.get("response_url"),
    )  # fmt: skip


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_click(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        await ack()
        click = click_from(body)
        if click is None or deps.actions is None:
            return
        click = replace(click, token=context.bot_token)  # the workspace's own (OAuth mode)
        if not deps.jobs.try_submit(deps.actions, click) and click.channel:
            deps.later(client.chat_postEphemeral(channel=click.channel,
                                                 user=click.scope.user_id, text=BUSY))  # fmt: skip

    for action_id in ACTION_IDS:
        app.action(action_id)(on_click)
