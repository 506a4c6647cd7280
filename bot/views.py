"""The one place a run's Slack view is built: every event of every run this process executes
or decides — a fresh run, one going on after its approval, one taken over from a dead process,
one cancelled or expired while waiting, a finished run whose answer is still owed — comes here
(`Crane.subscribe`), and the view is rebuilt from where the run is shown (`Ledger.shown`,
written with the run and updated right after each message is posted). So whichever replica
executes a run edits the same messages, and a message is posted again only when the process
before died between posting it and recording its ts.

A run is shown in one of three ways: header + step messages in a thread (`ThreadProgress`), a
stream in a DM (`StreamProgress`), or — where Crane cannot post — ephemeral answers through the
slash command's `response_url` (`HookView`; after an approval click, that click's own).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import buttons, render
from bot.installations import Clients
from bot.ledger import Ledger
from bot.messages import Target, post
from bot.progress import ThreadProgress
from bot.sessions import Sessions, Thread
from bot.stream import StreamProgress
from core.plan import Run, RunEvent
from core.records import finished_record, step_record
from core.runtime import Crane

log = logging.getLogger("crane.slack")
Show = Callable[[RunEvent], None]
UsageLine = Callable[[dict[str, Any]], str | None]
# a Slack run's conversation: "<channel>:<thread ts>", or "<DM channel>:dm"
_SLACK_PLACE = re.compile(r"^([CDG][A-Z0-9]{2,}):(\d+\.\d+|dm)$")
ENDS_PASS = ("run.finished", "run.awaiting_approval")


def hook_shown(response_url: str, user_id: str) -> dict[str, Any]:
    """Where a run is shown when Crane cannot post in its channel."""
    return {"hook": response_url, "user_id": user_id}


@dataclass
class HookView:
    """A run answered only to its requester, through a `response_url` (five uses in 30 min:
    an invite note, a prompt, the answer)."""

    run_id: str
    shown: dict[str, Any]
    save_place: Callable[[str, int, str], None]

    def __call__(self, event: RunEvent) -> None:
        hook = WebhookClient(self.shown["hook"])
        if event.type == "run.awaiting_approval":
            data, user = event.data, self.shown["user_id"]
            question, index = data["question"], data["step"]["index"]
            unknown = data.get("reason") == "outcome_unknown"  # a crash cut an MCP call short
            blocks = buttons.prompt_blocks(user, self.run_id, index, question,
                                           data.get("detail") or "", skip=unknown)  # fmt: skip
            hook.send(text=buttons.prompt_text(user, question), response_type="ephemeral",
                      blocks=blocks)  # fmt: skip
            place = {"response_url": self.shown["hook"], "question": question}
            self.save_place(self.run_id, index, json.dumps(place))
        elif event.type == "run.finished":
            hook.send(text=render.plain(event.data.get("answer") or ""), response_type="ephemeral")


class RunViews:
    """The Slack view of every run executed or decided in this process (a subscriber)."""

    def __init__(
        self, crane: Crane, clients: Clients, ledger: Ledger, usage: UsageLine, sessions: Sessions
    ) -> None:
        self.crane, self.clients, self.ledger, self.usage = crane, clients, ledger, usage
        self.sessions = sessions
        self._showing: dict[str, Show | None] = {}
        # each shown run's session: its client, thread and the status this pass set last
        self._threads: dict[str, tuple[WebClient, Thread, str | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: RunEvent) -> None:
        with self._lock:
            known = event.run_id in self._showing
            show = self._showing.get(event.run_id)
        run = None
        try:
            if not known:
                run = self.crane.reads.run(event.run_id)
                show = self._begin(event, run)
                with self._lock:
                    self._showing[event.run_id] = show
            if show is None:
                return
            if event.type == "run.finished" and not event.data:  # an answer owed, told late
                event = event.model_copy(update={"data": finished_record(self.crane.reads.run(
                    event.run_id))})  # fmt: skip
            show(event)
            if event.type == "run.awaiting_approval":  # its view is complete at the prompt
                self.ledger.save_shown(event.run_id, {**(self.ledger.shown(event.run_id) or {}),
                                                      "waiting": True})  # fmt: skip
        except SlackApiError as error:
            self._broken(event, run, error)
        finally:
            self._follow_session(event, run, first=not known)
            if event.type in ENDS_PASS:  # this pass over the run ends here
                with self._lock:
                    shown = self._showing.pop(event.run_id, None)
                    self._threads.pop(event.run_id, None)
                if shown is not None and event.type == "run.finished":  # its answer is out:
                    self.ledger.mark_answered(event.run_id)  # nobody is to post it again

    def _begin(self, event: RunEvent, run: Run) -> Show | None:
        shown = self.ledger.shown(run.id)
        place = _SLACK_PLACE.match(run.conversation or "")
        if shown is None and place is None:
            return None  # not a Slack run (the CLI, the REST API)
        if shown is not None and shown.get("replied"):
            return None  # answered by its acceptor's reply (bot.handling)
        if shown is not None and "hook" in shown:
            return HookView(run.id, shown, self.ledger.save_place)
        client = self.clients.for_scope(run.scope)
        if client is None:
            return None  # its workspace uninstalled Crane meanwhile
        if shown is None:  # stored before its messages were recorded: say how it ended
            assert place is not None

            def outcome(event: RunEvent) -> None:
                if event.type == "run.finished":
                    picked_up(client, self.crane.reads.run(event.run_id), place)

            return outcome
        target = Target.from_shown(shown)
        thread_ts = shown.get("thread_ts") or shown.get("header_ts")
        if thread_ts and run.conversation:
            with self._lock:
                thread = Thread(run.scope, target.channel, thread_ts, run.conversation, run.id)
                self._threads[run.id] = (client, thread, None)
        if event.type == "run.started" and shown.get("stream"):  # a fresh run, streamed
            return StreamProgress(client, target, self.usage, self.ledger.save_place,
                                  self.ledger.save_shown, self._stopped_by_user)  # fmt: skip
        if event.type == "run.started":  # a fresh run: shown from its start
            return ThreadProgress(client, target, self.usage, self.ledger.save_place,
                                  self.ledger.save_shown)  # fmt: skip
        progress = ThreadProgress(client, target, self.usage, self.ledger.save_place,
                                  self.ledger.save_shown)  # fmt: skip
        steps = [step_record(step) for step in run.steps]
        if shown.get("waiting"):  # every message was up to date at its prompt: go on
            progress.resume(run.id, steps, shown, going_on=event.type != "run.finished")
        else:  # taken over, or decided while waiting: each message as the run is now
            progress.restore(run.id, steps, shown)
        return progress

    def _stopped_by_user(self, run_id: str) -> None:
        """Slack's Stop ended the stream of a run in a DM (only its requester is there); in a
        channel, `agent_session_stopped` says who clicked and decides (bot.stopping)."""
        run = self.crane.reads.run(run_id)
        if not buttons.is_shared(run.conversation or ""):
            self.crane.decide(run_id, run.scope, "stop")

    def _follow_session(self, event: RunEvent, run: Run | None, first: bool) -> None:
        """The thread's agent session, where a pass starts and ends (bot.sessions)."""
        if not (first or event.type in ENDS_PASS):
            return
        with self._lock:
            found = self._threads.get(event.run_id)
        if found is not None:
            client, thread, told = found
            title = run.text if run is not None and event.type == "run.started" else None
            status = self.sessions.follow(client, thread, title, told)
            with self._lock:
                if event.run_id in self._threads:
                    self._threads[event.run_id] = (client, thread, status)

    def _broken(self, event: RunEvent, run: Run | None, error: SlackApiError) -> None:
        """Slack refused a message of this run: log it, stop showing the run, and tell its
        requester once, in one short line."""
        reason = error.response.get("error")
        log.error("could not show run in Slack: %s", reason, extra={"run_id": event.run_id})
        with self._lock:
            self._showing[event.run_id] = None
        shown = self.ledger.shown(event.run_id) or {}
        run = run or self.crane.reads.run(event.run_id)
        client = self.clients.for_scope(run.scope)
        if client is None or "channel" not in shown:
            return
        try:
            sorry = f"Sorry — something went wrong (ref {run.id})."
            client.chat_postEphemeral(channel=shown["channel"], user=run.scope.user_id,
                                      thread_ts=shown.get("thread_ts"), text=sorry)  # fmt: skip
        except SlackApiError as again:
            log.warning("could not say so either: %s", again.response.get("error"))


def picked_up(client: WebClient, run: Run, place: re.Match[str]) -> None:
    """The outcome, in its thread, of a run whose messages were never recorded."""
    channel, thread = place.group(1), place.group(2)
    answer = run.answer or ""
    if buttons.is_shared(channel):
        answer = render.public_answer([step_record(step) for step in run.steps], answer)
    post(
        client,
        channel=channel,
        thread_ts=None if thread == "dm" else thread,
        text=render.plain("Picked up after a restart. " + answer),
        blocks=[render.context("Picked up after a restart."),
                *render.answer_blocks(answer, run.status.value, run_id=run.id)],
    )  # fmt: skip
