"""Thin Slack listeners: turn a payload into a SlackRequest, hand it to the job pool, return."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.handling import Handler, SlackRequest
from bot.jobs import Jobs

BUSY = "I'm busy right now — please try again in a moment."


@dataclass
class Deps:
    handler: Handler
    jobs: Jobs
    streaming: bool

    def submit(self, request: SlackRequest) -> bool:
        return self.jobs.try_submit(self.handler, request)

    async def submit_or_say_busy(self, request: SlackRequest, client: AsyncWebClient) -> None:
        if not self.submit(request):
            await client.chat_postMessage(
                channel=request.channel, thread_ts=request.thread_ts, text=BUSY
            )
