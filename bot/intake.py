"""Durable intake for Slack. A request is recorded — with its delivery key, in one transaction
— before Crane acks it (`record`, called by the listeners); the worker that plans it removes the
record when it stores the run, or once it answered without one. Whatever a process acked but
never planned (SIGTERM with a full queue, kill -9 right after the ack) is planned by the next
process to start on that database (`resume_received`), and answered in its thread."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from bot.handling import Handler, SlackRequest
from bot.ledger import Ledger
from core.orchestrator import Listener
from core.plan import Received, RunEvent
from core.requests import new_run_id
from core.runtime import Crane

log = logging.getLogger("crane.slack")

OPTIONS = ("silent_if_nothing", "stream", "from_command", "assistant_thread")


def received_from(request: SlackRequest, intake_id: str, ledger: Ledger) -> Received:
    return Received(
        id=intake_id, scope=request.scope, text=request.text, conversation=request.conversation,
        channel=request.channel, thread_ts=request.thread_ts, response_url=request.response_url,
        options={name: getattr(request, name) for name in OPTIONS}, received_at=ledger.now(),
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


async def record(ledger: Ledger, request: SlackRequest) -> SlackRequest | None:
    """Record the request before the ack; None if its delivery was recorded before."""
    received = received_from(request, new_run_id(), ledger)
    if not await ledger.receive(received, request.delivery_key):
        return None
    return replace(request, intake_id=received.id)


def resume_unanswered(crane: Crane, views: Listener) -> int:
    """Post the answers of runs a dead process finished but never answered: their views
    (bot.views) post them, with "Picked up after a restart" where nothing was recorded."""
    taken = crane.take_unanswered()
    for run_id in taken:
        views(RunEvent(run_id=run_id, seq=0, type="run.finished", data={},
                       created_at=datetime.now(UTC)))  # fmt: skip
    return len(taken)


def resume_received(crane: Crane, handler: Handler) -> int:
    """Plan and answer the requests dead processes acked but never planned; how many. (The
    handler finds each workspace's own token in OAuth mode, if it is still installed.)"""
    taken = crane.take_received()
    for received in taken:
        handler(request_from(received))
    return len(taken)
