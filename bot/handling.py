"""One Slack request, in a worker thread: dedupe → plan → store → run, shown in Slack.

Listeners only build a `SlackRequest`; everything slow or fallible happens here, after the ack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import buttons, render
from bot.installations import bot_token, with_token
from bot.progress import Target, ThreadProgress, post
from bot.stream import StreamProgress
from core.errors import CraneError
from core.plan import FINAL, Run, RunEvent, Scope
from core.records import finished_record, step_record
from core.runtime import Crane

log = logging.getLogger("crane.slack")

CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived"}
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
    def __init__(
        self,
        crane: Crane,
        client: WebClient,
        usage_line: Callable[[dict[str, Any]], str | None] = lambda data: None,
        installed: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.crane = crane
        self.client = client
        self.usage_line = usage_line
        # OAuth mode: (enterprise, team) → still installed? A request queued before its
        # workspace uninstalled Crane must not bring its rows back.
        self.installed = installed

    def __call__(self, request: SlackRequest) -> None:
        store = self.crane.store
        scope = request.scope
        if self.installed and not self.installed(scope.enterprise_id, scope.team_id):
            # (an uninstall forgot its intake record along with the workspace's other rows)
            return
        if request.intake_id is None:  # not recorded at the ack (bot.intake.record)
            if request.delivery_key and not store.claim_delivery(request.delivery_key, scope):
                return  # a retry or the twin of a message already handled
            self._handle(request)
            return
        run_id, answered = self._handle(request)
        if run_id is None:
            # answered without a run, or not at all (thread chatter): nothing left to do
            store.forget_received(request.intake_id)
        elif answered:  # its intake record went with the run's insert; its answer is out now
            store.mark_answered(run_id)

    def _handle(self, request: SlackRequest) -> tuple[str | None, bool]:
        """Plan, store and run the request, answering in Slack: the stored run's id, and
        whether its answer is out (not when a job of the cluster executes and answers it)."""
        # the workspace's own token (OAuth mode), else the one token
        client = with_token(self.client, request.token) if request.token else self.client
        run_id = None
        try:
            if not request.text.strip():  # a bare "@Crane": say what it can do
                if not request.silent_if_nothing:
                    self._reply(client, request, render.USAGE)
                return None, True
            if request.assistant_thread:
                self._thinking(client, request)
            try:
                text, plan = self.crane.plan(request.scope, request.text, request.conversation)
            except CraneError as error:
                if request.silent_if_nothing:  # not addressed to Crane: a file, a long paste
                    log.info("unplanned thread message left unanswered: %s", error)
                    return None, True
                self._reply(client, request, f"Sorry — {error}")
                return None, True
            if not plan.steps and request.silent_if_nothing:
                return None, True
            if not plan.steps:
                # stored in the conversation: Crane answered in this thread, so it follows up
                run = self.crane.start(request.scope, text, plan, request.conversation,
                                       received=request.intake_id)  # fmt: skip
                self.crane.execute(run.id)
                self._reply(client, request, plan.answer or render.USAGE, plan.private)
                return run.id, True
            target = self._target(client, request, text)
            # a command's thread hangs off the header it just posted; everything else already
            # names its conversation (the thread, or a DM's rolling one)
            conversation = request.conversation
            if target is not None and target.header_ts:
                conversation = f"{target.channel}:{target.thread_ts}"
            # pauses before each destructive step until the requester approves (bot.actions)
            run = self.crane.start(request.scope, text, plan, conversation, approval=True,
                                   received=request.intake_id)  # fmt: skip
            run_id = run.id
            if target is None:
                self._answer_by_response_url(request, run_id)
                return run_id, True
            self.crane.store.save_shown(run_id, target.shown(request.stream))
            if self.crane.dispatched(run_id):  # the worker that fetches it shows it (bot.shown)
                return run_id, False
            self._run(client, request, target, run_id)
        except Exception:
            log.exception("slack request failed", extra={"run_id": run_id})
            self._reply(client, request, f"Sorry — something went wrong (ref {run_id or 'none'}).")
        return run_id, True

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

    def _answer_by_response_url(self, request: SlackRequest, run_id: str) -> None:
        # Slack allows five uses in 30 minutes: one note, one result.
        assert request.response_url
        hook = WebhookClient(request.response_url)
        hook.send(text=INVITE_NOTE, response_type="ephemeral")
        user = request.scope.user_id

        def ask_here(event: Any) -> None:  # the prompt, ephemeral like everything else here
            if event.type != "run.awaiting_approval":
                return
            data, index = event.data, event.data["step"]["index"]
            question, detail = data["question"], data.get("detail") or ""
            blocks = buttons.prompt_blocks(user, run_id, index, question, detail)
            hook.send(text=buttons.prompt_text(user, question), response_type="ephemeral",
                      blocks=blocks)  # fmt: skip
            place = {"response_url": request.response_url, "question": question}
            self.save_place(run_id, index, json.dumps(place))

        run = self.crane.execute(run_id, on_event=ask_here)
        if run.status in FINAL:
            hook.send(text=render.plain(run.answer or ""), response_type="ephemeral")

    def save_place(self, run_id: str, index: int, place: str) -> None:
        """Remember where a run's approval prompt is, so its answer can update it."""
        self.crane.store.set_approval_place(run_id, index, place)

    def _run(self, client: WebClient, request: SlackRequest, target: Target, run_id: str) -> None:
        progress = (StreamProgress if request.stream else ThreadProgress)(
            client, target, self.usage_line, self.save_place, self.crane.store.save_shown
        )
        self._show(client, request, progress, run_id)

    def _show(
        self, client: WebClient, request: SlackRequest | None, progress: Any, run_id: str
    ) -> None:
        broken: list[SlackApiError] = []

        def show(event: Any) -> None:
            if broken:
                return
            try:
                progress(event)
            except SlackApiError as error:
                broken.append(error)
            if event.type == "run.finished" and request is not None and request.intake_id:
                # the answer is out: a process dying from here on must not post it again
                self.crane.store.mark_answered(run_id)

        self.crane.execute(run_id, on_event=show)
        if broken:
            error = broken[0].response.get("error")
            log.error("could not show run in Slack: %s", error, extra={"run_id": run_id})
            if request is not None:
                self._reply(client, request, f"Sorry — something went wrong (ref {run_id}).")

    def client_for(self, scope: Scope, token: str | None = None) -> WebClient | None:
        """The Web API client for a workspace: `token` (a click's), else — OAuth mode — its
        installed bot's (None once uninstalled), else the one token."""
        if token:
            return with_token(self.client, token)
        if self.installed is None:
            return self.client
        found = bot_token(self.crane.store.installations, scope)
        return with_token(self.client, found) if found else None

    def resume(self, client: WebClient, run: Run, place: dict[str, Any]) -> None:
        """An approved run goes on where its prompt is: the same thread and header (messages,
        not a stream — a stream ended at the prompt). Works after a restart too: the place
        was stored with the question."""
        target = Target(place["channel"], place.get("thread_ts"), run.scope.user_id,
                        run.scope.team_id, place.get("text") or run.text,
                        place.get("header_ts"))  # fmt: skip
        progress = ThreadProgress(client, target, self.usage_line, self.save_place,
                                  self.crane.store.save_shown)  # fmt: skip
        progress.resume(run.id, [step_record(step) for step in run.steps])
        self._show(client, None, progress, run.id)

    def show_finished(self, client: WebClient, run: Run, place: dict[str, Any]) -> None:
        """A run that ended without its executor (cancelled or expired while waiting): the
        answer in its thread and the header's final status."""
        target = Target(place["channel"], place.get("thread_ts"), run.scope.user_id,
                        run.scope.team_id, place.get("text") or run.text,
                        place.get("header_ts"))  # fmt: skip
        progress = ThreadProgress(client, target, self.usage_line)
        steps = [step_record(step) for step in run.steps]
        progress.run_id, progress.steps, progress.header_ts = run.id, steps, target.header_ts
        try:
            progress(RunEvent(run_id=run.id, seq=0, type="run.finished",
                              data=finished_record(run),
                              created_at=run.finished_at or run.created_at))  # fmt: skip
        except SlackApiError as error:
            log.warning("could not show the cancelled run: %s", error.response.get("error"))

    def _reply(
        self, client: WebClient, request: SlackRequest, text: str, private: bool = False
    ) -> None:
        """A short answer outside a run view; never raises (this is the last word). `private`
        (it quotes the requester's todos): where others can read, only the requester sees it."""
        try:
            if request.from_command or (private and buttons.is_shared(request.channel)):
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
