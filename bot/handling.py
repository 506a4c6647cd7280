"""One Slack request, in a worker thread: dedupe → plan → store → go on (`Crane.proceed`).

Listeners only build a `SlackRequest`; everything slow or fallible happens here, after the ack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import buttons, render
from bot.installations import Clients
from bot.ledger import Ledger
from bot.messages import Target, post
from bot.views import hook_shown
from core.errors import CraneError, LimitReached
from core.plan import Scope
from core.runtime import Crane

log = logging.getLogger("crane.slack")

CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived"}
# a run answered by its acceptor's reply (no steps): no view to build (bot.views)
ANSWERED_HERE: dict[str, Any] = {"replied": True}
INVITE_NOTE = (
    "I can't post in this channel yet, so I'll answer here. "
    "To see each step in the channel, invite me with `/invite @Crane`."
)


@dataclass(frozen=True)
class SlackRequest:
    scope: Scope
    channel: str
    text: str
    conversation: str
    thread_ts: str | None = None  # None (slash command): the header starts a new thread
    delivery_key: str | None = None  # recorded before any work: Slack retries and twins stop here
    silent_if_nothing: bool = False  # a thread message without a mention: no reply to "thanks!"
    stream: bool = False
    response_url: str | None = None
    from_command: bool = False
    assistant_thread: bool = False  # show "thinking…" in the Assistant pane while planning
    token: str | None = None  # the workspace's bot token (OAuth mode); None: the one token
    intake_id: str | None = None  # its durable intake record (bot.intake), written before the ack


class Handler:
    """Works on one Slack request after its ack: plan it, store the run with where it is shown,
    and go on with it (`Crane.proceed`); `bot.views` shows it wherever it executes."""

    def __init__(self, crane: Crane, clients: Clients, ledger: Ledger) -> None:
        self.crane, self.clients, self.ledger = crane, clients, ledger

    def __call__(self, request: SlackRequest) -> None:
        if not self.clients.installed(request.scope):
            return  # (an uninstall forgot its intake record along with the workspace's rows)
        if request.intake_id is None:  # not recorded at the ack (bot.intake.record)
            if request.delivery_key and not self.ledger.claim_delivery(
                request.delivery_key, request.scope
            ):
                return  # a retry or the twin of a message already handled
            self._handle(request)
            return
        if self._handle(request) is None:
            # answered without a run, or not at all (thread chatter): nothing left to do
            self.ledger.forget_received(request.intake_id)

    def _handle(self, request: SlackRequest) -> str | None:
        """Plan, store and go on with the request: the stored run's id (its intake record
        went with the run's insert), or None when it was answered without a run."""
        client = self.clients.for_scope(request.scope, request.token)
        if client is None:
            return None  # its workspace uninstalled Crane meanwhile
        run_id = None
        try:
            if not request.text.strip():  # a bare "@Crane": say what it can do
                if not request.silent_if_nothing:
                    self._reply(client, request, render.usage(self.crane.examples))
                return None
            if request.assistant_thread:
                self._thinking(client, request)
            try:
                text, plan = self.crane.plan(request.scope, request.text, request.conversation)
            except CraneError as error:
                if request.silent_if_nothing:  # not addressed to Crane: a file, a long paste
                    log.info("unplanned thread message left unanswered: %s", error)
                    return None
                # a usage limit is the requester's own business: only they see it
                limited = isinstance(error, LimitReached)
                self._reply(client, request, f"Sorry — {error}", ephemeral=limited)
                return None
            if not plan.steps and request.silent_if_nothing:
                return None
            if not plan.steps:
                # stored in the conversation: Crane answered in this thread, so it follows up
                run = self.crane.start(request.scope, text, plan, request.conversation,
                                       received=request.intake_id,
                                       shown_in=ANSWERED_HERE)  # fmt: skip
                self.crane.proceed(run.id)
                answer = plan.answer or render.usage(self.crane.examples)
                self._reply(client, request, answer, plan.private)
                self.ledger.mark_answered(run.id)
                return run.id
            target = self._target(client, request, text)
            # a command's thread hangs off the header it just posted; everything else already
            # names its conversation (the thread, or a DM's rolling one)
            conversation = request.conversation
            if target is not None and target.header_ts:
                conversation = f"{target.channel}:{target.thread_ts}"
            if target is None:  # Crane cannot post there: answers go by the response_url
                assert request.response_url
                shown = hook_shown(request.response_url, request.scope.user_id)
                WebhookClient(request.response_url).send(text=INVITE_NOTE,
                                                         response_type="ephemeral")  # fmt: skip
            else:
                shown = target.shown(request.stream)
            # pauses before each destructive step until the requester approves (bot.actions)
            run = self.crane.start(request.scope, text, plan, conversation, approval=True,
                                   received=request.intake_id, shown_in=shown)  # fmt: skip
            run_id = run.id
            self.crane.proceed(run_id)
        except LimitReached as error:  # another request of theirs took the last one meanwhile
            self._reply(client, request, f"Sorry — {error}", ephemeral=True)
            return None
        except Exception:
            log.exception("slack request failed", extra={"run_id": run_id})
            self._reply(client, request, f"Sorry — something went wrong (ref {run_id or 'none'}).")
        return run_id

    def _thinking(self, client: WebClient, request: SlackRequest) -> None:
        """Assistant status while planning; a threaded DM outside the Assistant pane may
        refuse it, which must not stop the answer."""
        try:
            client.assistant_threads_setStatus(
                channel_id=request.channel, thread_ts=request.thread_ts or "", status="thinking…"
            )
        except SlackApiError as error:
            log.info("no Assistant status here: %s", error.response.get("error"))

    def _target(self, client: WebClient, request: SlackRequest, text: str) -> Target | None:
        """Where the run is shown. A slash command first posts its header in the channel (the
        thread and the conversation hang off it); None when the bot cannot post there."""
        target = Target(request.channel, request.thread_ts, request.scope.user_id,
                        request.scope.team_id, text)  # fmt: skip
        if request.thread_ts is not None:
            return target
        try:
            header = post(
                client,
                channel=request.channel,
                text=render.header_text(request.scope.user_id, text, "pending"),
                blocks=render.header_blocks(request.scope.user_id, text, [], "pending"),
            )
        except SlackApiError as error:
            if error.response.get("error") in CANNOT_POST and request.response_url:
                return None
            raise
        target.thread_ts = target.header_ts = header["ts"]
        return target

    def _reply(
        self,
        client: WebClient,
        request: SlackRequest,
        text: str,
        private: bool = False,
        ephemeral: bool = False,
    ) -> None:
        """A short answer outside a run view; never raises (this is the last word). `private`
        (it quotes the requester's todos): where others can read, only the requester sees it;
        `ephemeral`: only the requester sees it, wherever it is."""
        try:
            shared = private and buttons.is_shared(request.channel)
            if request.from_command or ephemeral or shared:
                client.chat_postEphemeral(channel=request.channel, user=request.scope.user_id,
                                          thread_ts=request.thread_ts, text=text)  # fmt: skip
            else:
                post(client, channel=request.channel, thread_ts=request.thread_ts, text=text)
        except Exception as error:  # Slack refused or is unreachable: try the response_url once
            log.warning("could not reply in Slack: %r", error)
            if request.response_url:
                try:
                    WebhookClient(request.response_url).send(text=text, response_type="ephemeral")
                except Exception as hook_error:
                    log.warning("could not reply through response_url: %r", hook_error)
