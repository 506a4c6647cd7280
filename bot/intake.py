"""Durable intake for Slack. A request is recorded — with its delivery key, in one transaction
— before Crane acks it (`record`, called by the listeners); the worker that plans it removes the
record when it stores the run, or once it answered without one. Whatever a process acked but
never planned (SIGTERM with a full queue, kill -9 right after the ack) is planned by the next
process to start on that database (`resume_received`), and answered in its thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.handling import Handler, SlackRequest
from bot.installations import bot_token
from core.plan import Received, RunEvent
from core.runtime import new_run_id

log = logging.getLogger("crane.slack")

OPTIONS = ("silent_if_nothing", "stream", "from_command", "assistant_thread")


def received_from(request: SlackRequest, intake_id: str, handler: Handler) -> Received:
    return Received(
        id=intake_id, scope=request.scope, text=request.text, conversation=request.conversation,
        channel=request.channel, thread_ts=request.thread_ts, response_url=request.response_url,
        options={name: getattr(request, name) for name in OPTIONS},
        received_at=handler.crane.store.clock(),
    )  # fmt: skip


def request_from(received: Received) -> SlackRequest:
    """The request as its listener built it (its delivery key is already recorded)."""
    flag = received.options.get
    return SlackRequest(
        scope=received.scope, channel=received.channel, text=received.text,
        conversation=received.conversation, thread_ts=received.thread_ts,
        response_url=received.response_url, intake_id=received.id,
        silent_if_nothing=flag("silent_if_nothing", False), stream=flag("stream", False),
        from_command=flag("from_command", False),
        assistant_thread=flag("assistant_thread", False),
    )  # fmt: skip


def record(handler: Handler, request: SlackRequest) -> SlackRequest | None:
    """Record the request before the ack; None if its delivery was recorded before."""
    crane = handler.crane
    received = received_from(request, new_run_id(), handler)
    if not crane.store.receive(received, request.delivery_key, crane.orchestrator.owner):
        return None
    return replace(request, intake_id=received.id)


def resume_unanswered(handler: Handler, tell: Callable[[RunEvent], None]) -> int:
    """Post the answers of runs a dead process finished but never answered (`tell`: the
    resumed-run reporter, which posts "Picked up after a restart" and the answer)."""
    crane = handler.crane
    taken = crane.orchestrator.take_unanswered()
    for run_id in taken:
        tell(RunEvent(run_id=run_id, seq=0, type="run.finished", data={},
                      created_at=crane.store.clock()))  # fmt: skip
        crane.store.mark_answered(run_id)
    return len(taken)


def resume_received(handler: Handler) -> int:
    """Plan and answer the requests dead processes acked but never planned; how many."""
    crane = handler.crane
    taken = crane.orchestrator.take_received()
    for received in taken:
        request = request_from(received)
        if handler.installed is not None:  # OAuth mode: the workspace's own token, if any left
            request = replace(request, token=bot_token(crane.store.installations, received.scope))
        handler(request)
    return len(taken)
