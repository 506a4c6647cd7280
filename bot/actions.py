"""Button clicks, in a worker thread after the ack: approve, cancel, stop, feedback, Done.

Who clicked comes from the verified payload; only a run's requester may answer its question or
stop it (anyone else gets an ephemeral "only <@U…> can …"). Every decision is one
compare-and-set in the store (core.approval): of a double click, one counts and the other gets
a note; so do a stale prompt and an expired one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot import buttons
from bot.installations import Clients
from bot.ledger import Ledger
from core.approval import Decision, Outcome
from core.errors import NotFound
from core.plan import Plan, PlannedStep, Scope
from core.runtime import Crane, NotYours, Verb

log = logging.getLogger("crane.slack")

VERBS: dict[str, Verb] = {buttons.APPROVE: "approve", buttons.CANCEL: "cancel",
                          buttons.STOP: "stop", buttons.SKIP: "skip"}  # fmt: skip
ANSWERED = {"approved": "approved", "cancelled": "cancelled", "skipped": "skipped",
            "expired": "expired"}  # fmt: skip


@dataclass(frozen=True)
class Click:
    """One button click, as the verified block_actions payload says."""

    scope: Scope  # who clicked
    action_id: str
    value: str
    channel: str | None  # None: the App Home
    message_ts: str | None
    thread_ts: str | None
    response_url: str | None
    token: str | None = None  # the workspace's bot token (OAuth mode), from Bolt's context


class Actions:
    def __init__(self, crane: Crane, clients: Clients, ledger: Ledger) -> None:
        self.crane, self.clients, self.ledger = crane, clients, ledger

    def __call__(self, click: Click) -> None:
        client = self.clients.for_scope(click.scope, click.token)
        if client is None:
            return  # the workspace uninstalled Crane meanwhile
        try:
            if click.action_id == buttons.FEEDBACK:
                self._feedback(client, click)
            elif click.action_id == buttons.TODO_DONE:
                self._done(click)
            else:
                self._decide(client, click)
        except Exception:
            log.exception("button click failed")
            _note(client, click, "Sorry — something went wrong with that button.")

    # --- approve, cancel, stop ----------------------------------------------------------------

    def _decide(self, client: WebClient, click: Click) -> None:
        """The requester's answer (core decides); the thread is updated by the run's view
        (bot.views) wherever the run goes on — here, or on the cluster's worker."""
        run_id, _, index = click.value.partition(":")
        step = int(index) if index.isdigit() else None
        verb = VERBS[click.action_id]
        try:
            decision = self.crane.decide(run_id, click.scope, verb, step)
        except NotFound:
            return _note(client, click, "That request no longer exists.")
        except NotYours as error:
            return _note(client, click, f"Only <@{error.requester.user_id}> can {verb} this.")
        outcome = decision.outcome
        if outcome is Outcome.stopping:
            return _note(client, click, "Stopping after the step that is running now.")
        if decision.earlier is not None or outcome is Outcome.stale:
            stopped = click.action_id == buttons.STOP and decision.run.status.value != (
                "awaiting_approval")  # fmt: skip
            return _note(client, click, "This request has already finished." if stopped
                         else _stale_note(decision))  # fmt: skip
        _update_prompt(client, self._place(decision, click), outcome.value, click.scope.user_id)
        if outcome is Outcome.expired:
            _note(client, click, "This question expired — nothing was done.")
        if outcome in (Outcome.approved, Outcome.skipped):
            shown = self.ledger.shown(run_id)
            if shown is not None and "hook" in shown and click.response_url:
                # a response_url works five times in 30 minutes: the click's is fresh
                self.ledger.save_shown(run_id, {**shown, "hook": click.response_url})
            self.crane.proceed(run_id)

    def _place(self, decision: Decision, click: Click) -> dict[str, Any]:
        """Where the prompt is: as stored with the question, else the clicked message. A
        prompt sent by response_url is replaced through the click's own (fresh) one."""
        if decision.place:
            found: dict[str, Any] = json.loads(decision.place)
            if "response_url" in found and click.response_url:
                found["response_url"] = click.response_url
            return found
        return {"channel": click.channel, "ts": click.message_ts, "thread_ts": click.thread_ts,
                "question": "this step"}  # fmt: skip

    def expire(self) -> None:
        """Cancel every question past its time; its prompt says it expired (the sweeper).
        The runs' threads are updated by their views, which hear them finish."""
        for decision in self.crane.expire_questions():
            client = self.clients.for_scope(decision.run.scope)
            if decision.place and client is not None:
                _update_prompt(client, json.loads(decision.place), Outcome.expired.value, "")

    # --- feedback and Done --------------------------------------------------------------------

    def _feedback(self, client: WebClient, click: Click) -> None:
        value, _, run_id = click.value.partition(":")
        try:
            run = self.crane.reads.run(run_id)
        except NotFound:
            return _note(client, click, "That request no longer exists.")
        same_place = (run.scope.enterprise_id, run.scope.team_id) == (
            click.scope.enterprise_id, click.scope.team_id)  # fmt: skip
        if not same_place or value not in ("up", "down"):
            return _note(client, click, "That feedback button is not for this workspace.")
        self.crane.vote(run.id, click.scope, value)
        _note(client, click, "Thanks for the feedback!")

    def _done(self, click: Click) -> None:
        """The App Home's Done: a one-step run through the normal runtime, in history."""
        if not click.value.isdigit():
            return
        number = int(click.value)
        plan = Plan(steps=[PlannedStep(tool="complete_todo", args={"number": number})],
                    planner="app_home")  # fmt: skip
        # a click: never counted against the clicker's limits
        run = self.crane.start(click.scope, f"complete todo {number}", plan, approval=True,
                               counted=False)  # fmt: skip
        self.crane.proceed(run.id)


def _stale_note(decision: Decision) -> str:
    if decision.earlier == "expired" or decision.outcome is Outcome.expired:
        return "This question expired — nothing was done."
    if decision.earlier in ANSWERED and decision.run.status.value != "awaiting_approval":
        by = f" by <@{decision.earlier_by}>" if decision.earlier_by else ""
        return f"This was already {ANSWERED[decision.earlier]}{by}."
    return "This request is no longer waiting for an answer."


def _update_prompt(client: WebClient, place: dict[str, Any], outcome: str, by: str) -> None:
    """The prompt says how it was answered (and by whom)."""
    question = place.get("question") or "this step"
    text = buttons.decided_text(question, outcome, by)
    if "response_url" in place:
        _hook(place, text, replace=True)
        return
    blocks = buttons.decided_blocks(question, outcome, by)
    try:
        client.chat_update(channel=place["channel"], ts=place["ts"], text=text, blocks=blocks)
    except SlackApiError as error:
        log.warning("could not update the prompt: %s", error.response.get("error"))


def _hook(place: dict[str, Any], text: str, *, replace: bool) -> None:
    try:
        WebhookClient(place["response_url"]).send(
            text=text, response_type="ephemeral", replace_original=replace
        )
    except Exception as error:
        log.warning("could not answer through response_url: %r", error)


def _note(client: WebClient, click: Click, text: str) -> None:
    """An ephemeral note to whoever clicked, where they clicked (never raises)."""
    if not click.channel:
        return
    try:
        client.chat_postEphemeral(channel=click.channel, user=click.scope.user_id,
                                  thread_ts=click.thread_ts, text=text)  # fmt: skip
    except SlackApiError as error:
        log.warning("could not post a note: %s", error.response.get("error"))
