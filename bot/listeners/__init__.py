"""Thin Slack listeners: turn a payload into a SlackRequest, hand it to the job pool, return.

Bolt runs them before it answers Slack (process_before_response), so a listener never awaits
a Web API call: anything slow goes to the job pool or to `Deps.later`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot import intake
from bot.handling import Handler, SlackRequest
from bot.ledger import Ledger
from core.jobs import Jobs
from core.runtime import Crane

BUSY = "I'm busy right now — please try again in a moment."
BUSY_MEMORY = 1024  # messages recently told "busy" (their twins stay quiet)
log = logging.getLogger("crane.slack")


@dataclass
class Deps:
    crane: Crane
    ledger: Ledger
    handler: Handler
    jobs: Jobs
    streaming: bool  # stream runs in DMs and the Assistant pane
    stream_threads: bool = False  # …and in channel threads too (where Slack allows it)
    actions: Any = None  # bot.actions.Actions: button clicks
    home: Any = None  # bot.home.HomeTab: the App Home
    stopper: Any = None  # bot.stopping.Stopper: Slack's Stop on an agent session
    _pending: set[asyncio.Task[Any]] = field(default_factory=set)
    _told_busy: OrderedDict[str, None] = field(default_factory=OrderedDict)

    async def submit(self, request: SlackRequest) -> bool:
        """Record the request (durable intake) and queue it, before the listener acks; False,
        with nothing recorded, when the pool is full (say busy). A database that is down
        raises: Slack gets a 503 instead of an ack, and retries."""
        jobs = self.jobs
        if not jobs.reserve_for_ack():
            return False
        try:
            recorded = await intake.record(self.ledger, request)
        except BaseException:
            jobs.release()
            raise
        if recorded is None:  # a retry or a twin of a delivery recorded before: ack, no work
            jobs.release()
            return True
        jobs.submit_reserved(self.handler, recorded)
        return True

    def later(self, call: Coroutine[Any, Any, Any]) -> None:
        """Run a Web API call after the ack; failures are logged, never raised."""

        async def guarded() -> None:
            try:
                await call
            except Exception as error:
                log.warning("Slack call after the ack failed: %r", error)

        task = asyncio.ensure_future(guarded())
        self._pending.add(task)  # keep a reference until done
        task.add_done_callback(self._pending.discard)

    async def submit_or_say_busy(self, request: SlackRequest, client: AsyncWebClient) -> None:
        if await self.submit(request):
            return
        # no "busy" where silence is due ("thanks!" in a thread), and one per message: a
        # mention and its message twin share the delivery key
        if request.silent_if_nothing or not self._first_busy(request.delivery_key):
            return
        self.later(
            client.chat_postMessage(channel=request.channel, thread_ts=request.thread_ts, text=BUSY)
        )

    def _first_busy(self, key: str | None) -> bool:
        if key is None:
            return True
        if key in self._told_busy:
            return False
        self._told_busy[key] = None
        if len(self._told_busy) > BUSY_MEMORY:
            self._told_busy.popitem(last=False)
        return True
