"""Slack payloads → `SlackRequest`. Scope comes from the verified payload only: the envelope's
`team_id` (the workspace the event came from) and `enterprise_id` — never Bolt's
`context.team_id`, which is empty on org-wide installs and would merge every workspace."""

from __future__ import annotations

from typing import Any

from bot.handling import SlackRequest
from bot.markup import readable
from core.plan import Scope

HANDLED_SUBTYPES = {None, "thread_broadcast", "file_share"}  # real user messages


def event_scope(body: dict[str, Any], user_id: str) -> Scope:
    return Scope(
        enterprise_id=body.get("enterprise_id") or "",
        team_id=body.get("team_id") or "",
        user_id=user_id,
    )


def is_user_message(event: dict[str, Any]) -> bool:
    """Edits, deletions, bot posts (ours included) and other subtypes never start work."""
    return (
        event.get("subtype") in HANDLED_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(event.get("channel"))
        and bool(event.get("ts"))
        and isinstance(event.get("text") or "", str)
    )


def message_key(body: dict[str, Any], event: dict[str, Any]) -> str:
    # app_mention and its message twin share channel + ts, not event_id
    return f"msg:{body.get('team_id') or ''}:{event['channel']}:{event['ts']}"


def mentions(event: dict[str, Any], bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}>" in (event.get("text") or "")


def from_event(
    body: dict[str, Any],
    bot_user_id: str | None,
    *,
    mentioned: bool,
    conversation: str | None = None,
    stream: bool = False,
) -> SlackRequest | None:
    event = body.get("event") or {}
    if not is_user_message(event):
        return None
    thread_ts = event.get("thread_ts") or event["ts"]
    return SlackRequest(
        scope=event_scope(body, event["user"]),
        channel=event["channel"],
        text=readable(event.get("text") or "", bot_user_id),
        conversation=conversation or f"{event['channel']}:{thread_ts}",
        thread_ts=thread_ts,
        delivery_key=message_key(body, event),
        silent_if_nothing=not mentioned,
        stream=stream,
    )


def from_command(body: dict[str, Any]) -> SlackRequest:
    scope = Scope(
        enterprise_id=body.get("enterprise_id") or "",
        team_id=body.get("team_id") or "",
        user_id=body.get("user_id") or "",
    )
    return SlackRequest(
        scope=scope,
        channel=body.get("channel_id") or "",
        text=readable(body.get("text") or ""),
        # each /crane starts its own thread; its key is set once the header is posted
        conversation=f"{body.get('channel_id')}:cmd:{body.get('trigger_id')}",
        response_url=body.get("response_url"),
        from_command=True,
    )
