"""Slack messages of a run, whatever draws it (a thread of messages, a stream): where it is
shown (`Target`), posting, an ephemeral note to its requester, the approval prompt, and the
metadata every message Crane posts for a run carries, so a process that goes on with the run
finds its messages in the thread (`posted`) instead of posting them twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import buttons, render

log = logging.getLogger("crane.slack")
EVENT_TYPE = "crane_run_message"

# (run id, step index, where the prompt is: JSON) → stored, so a click can update it later
SavePlace = Callable[[str, int, str], None]
# (run id, where it is shown and the ts of each message posted for it) → stored right after
# each post, so whichever process executes the run next edits those messages (`bot.views`)
Record = Callable[[str, dict[str, Any]], None]


@dataclass
class Target:
    """Where a run is shown, and for whom."""

    channel: str
    thread_ts: str | None  # None: the header goes top-level and the thread hangs off it
    user_id: str
    team_id: str
    text: str
    header_ts: str | None = None  # already posted (a slash command's header)

    @property
    def shared(self) -> bool:
        return buttons.is_shared(self.channel)

    def shown(self, stream: bool = False) -> dict[str, Any]:
        return {"channel": self.channel, "thread_ts": self.thread_ts, "user_id": self.user_id,
                "team_id": self.team_id, "text": self.text, "header_ts": self.header_ts,
                "stream": stream}  # fmt: skip

    @classmethod
    def from_shown(cls, shown: dict[str, Any]) -> Target:
        return cls(shown["channel"], shown.get("thread_ts"), shown["user_id"],
                   shown["team_id"], shown["text"], shown.get("header_ts"))  # fmt: skip


def post(client: WebClient, **kwargs: Any) -> dict[str, Any]:
    """chat.postMessage; on msg_too_long retry once with the text cut hard."""
    try:
        return dict(client.chat_postMessage(**kwargs).data)  # type: ignore[arg-type]
    except SlackApiError as error:
        if error.response.get("error") != "msg_too_long":
            raise
        kwargs["text"] = render.plain(kwargs.get("text", ""))[:1000]
        kwargs.pop("blocks", None)
        return dict(client.chat_postMessage(**kwargs).data)  # type: ignore[arg-type]


def whisper(client: WebClient, target: Target, text: str) -> None:
    """An ephemeral note to the requester in the run's thread."""
    client.chat_postEphemeral(channel=target.channel, user=target.user_id,
                              thread_ts=target.thread_ts, text=render.plain(text))  # fmt: skip


def ask(client: WebClient, target: Target, run_id: str, data: dict[str, Any]) -> str:
    """Post the approval prompt for a `run.awaiting_approval` event; returns where it is
    (JSON: channel, prompt ts, thread, header) for the answer to update later."""
    question, detail, index = data["question"], data.get("detail") or "", data["step"]["index"]
    shown = "" if target.shared else detail
    blocks = buttons.prompt_blocks(target.user_id, run_id, index, question, shown,
                                   skip=data.get("reason") == "outcome_unknown")  # fmt: skip
    prompt = post(client, channel=target.channel, thread_ts=target.thread_ts,
                  text=buttons.prompt_text(target.user_id, question), blocks=blocks)  # fmt: skip
    if detail and target.shared:
        whisper(client, target, f"{question} {detail} ({buttons.ONLY_YOU})")
    return json.dumps({"channel": target.channel, "ts": prompt["ts"], "thread_ts":
                       target.thread_ts, "header_ts": target.header_ts, "text": target.text,
                       "question": question})  # fmt: skip


def tag(run_id: str | None, role: str) -> dict[str, Any]:
    """Slack message metadata naming the run and the message's role in its view."""
    return {"event_type": EVENT_TYPE, "event_payload": {"run_id": run_id or "", "role": role}}


def posted(client: WebClient, channel: str, thread_ts: str, run_id: str) -> dict[str, str]:
    """role → ts of the messages already in the thread for this run (from their metadata)."""
    try:
        reply = client.conversations_replies(channel=channel, ts=thread_ts,
                                             include_all_metadata=True, limit=200)  # fmt: skip
    except SlackApiError as error:
        log.warning("could not look for the run's messages: %s", error.response.get("error"))
        return {}
    found = {}
    for message in reply.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == EVENT_TYPE and payload.get("run_id") == run_id:
            found[str(payload.get("role"))] = str(message["ts"])
    return found
