"""Slack's own Stop on an agent session (`agent_session_stopped`), after the ack, on whichever
replica Slack delivered it to: the requester's click stops every running run of that thread
exactly like the `crane_stop` button (the step in flight finishes, the rest are skipped, the
run ends `cancelled`, wherever it executes) and the thread says who stopped it; anyone else is
told, only them, whose runs these are. Either way the session leaves `processing` once nothing
runs: the runs' views set it when they finish, and here when nothing was running."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.installations import Clients
from bot.ledger import Ledger
from bot.messages import post
from bot.sessions import GOING, Sessions, Thread
from core.approval import Outcome
from core.errors import NotFound
from core.plan import Scope
from core.runtime import Crane, NotYours

log = logging.getLogger("crane.slack")


@dataclass(frozen=True)
class SessionStopped:
    """One click on Slack's Stop, as the verified event says."""

    scope: Scope  # who clicked
    channel: str
    thread_ts: str
    delivery_key: str  # a duplicate delivery changes nothing
    token: str | None = None  # the workspace's bot token (OAuth mode)


class Stopper:
    def __init__(self, crane: Crane, clients: Clients, ledger: Ledger, sessions: Sessions) -> None:
        self.crane, self.clients, self.ledger, self.sessions = crane, clients, ledger, sessions

    def __call__(self, stop: SessionStopped) -> None:
        client = self.clients.for_scope(stop.scope, stop.token)
        if client is None or not self.ledger.claim_delivery(stop.delivery_key, stop.scope):
            return  # uninstalled meanwhile, or a delivery seen before
        running = self._running(stop)
        stopped, requester = [], None
        for run_id in running:
            try:
                decision = self.crane.decide(run_id, stop.scope, "stop")
            except NotFound:
                continue
            except NotYours as error:
                requester = error.requester.user_id
                continue
            if decision.outcome in (Outcome.stopping, Outcome.cancelled):
                stopped.append(run_id)
        try:
            if stopped:
                post(client, channel=stop.channel, thread_ts=stop.thread_ts,
                     text=f"Stopped by <@{stop.scope.user_id}>.")  # fmt: skip
            elif requester:
                client.chat_postEphemeral(channel=stop.channel, user=stop.scope.user_id,
                                          thread_ts=stop.thread_ts,
                                          text=f"Only <@{requester}> can stop this.")  # fmt: skip
        except SlackApiError as error:
            log.warning("could not say who stopped: %s", error.response.get("error"))
        if not running:  # nothing to stop: the session is no longer processing
            thread = Thread(stop.scope, stop.channel, stop.thread_ts,
                            f"{stop.channel}:{stop.thread_ts}", "")  # fmt: skip
            self.sessions.follow(client, thread)

    def _running(self, stop: SessionStopped) -> list[str]:
        """The thread's runs still going (a top-level DM's: in the user's rolling DM
        conversation, shown in this thread)."""
        reads = self.crane.reads
        found = reads.unfinished_in(stop.scope, f"{stop.channel}:{stop.thread_ts}")
        if stop.channel.startswith("D"):
            for run_id, status in reads.unfinished_in(stop.scope, f"{stop.channel}:dm"):
                if (self.ledger.shown(run_id) or {}).get("thread_ts") == stop.thread_ts:
                    found.append((run_id, status))
        return [run_id for run_id, status in found if status in GOING]
