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
from bot.handling import Handler
from core.approval import Decision, Outcome
from core.errors import NotFound
from core.plan import Plan, PlannedStep, Run, Scope

log = logging.getLogger("crane.slack")

VERBS = {buttons.APPROVE: "approve", buttons.CANCEL: "cancel", buttons.STOP: "stop"}
ANSWERED = {"approved": "approved", "cancelled": "cancelled", "expired": "expired"}


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
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.crane = handler.crane

    def __call__(self, click: Click) -> None:
        client = self.handler.client_for(click.scope, click.token)
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
        run_id, _, index = click.value.partition(":")
        run = self._requesters_run(client, click, run_id, VERBS[click.action_id])
        if run is None:
            return
        step = int(index) if index.isdigit() else None
        user = click.scope.user_id
        if click.action_id == buttons.APPROVE:
            decision = self.crane.approve(run.id, user, step)
        else:  # Cancel answers one question; Stop (no step) ends the run whatever it is doing
            decision = self.crane.cancel(run.id, user, step)
        outcome = decision.outcome
        if outcome is Outcome.stopping:
            _note(client, click, "Stopping after the step that is running now.")
            return
        if decision.earlier is not None or outcome is Outcome.stale:
            stopped = click.action_id == buttons.STOP and decision.run.status.value != (
                "awaiting_approval")  # fmt: skip
            _note(client, click, "This request has already finished." if stopped
                  else _stale_note(decision))  # fmt: skip
            return
        place = self._place(decision, click)
        _update_prompt(client, place, outcome.value, user)
        if outcome is Outcome.expired:
            _note(client, click, "This question expired — nothing was done.")
        if outcome is Outcome.approved:
            if "channel" in place:
                self.handler.resume(client, decision.run, place)
            else:  # a prompt only the requester saw (Crane could not post in the channel)
                done = self.crane.execute(run.id)
                _hook(place, done.answer or "", replace=False)
        elif "channel" in place:
            self.handler.show_finished(client, self.crane.store.get_run(run.id), place)

    def _requesters_run(
        self, client: WebClient, click: Click, run_id: str, verb: str
    ) -> Run | None:
        try:
            run = self.crane.store.get_run(run_id)
        except NotFound:
            _note(client, click, "That request no longer exists.")
            return None
        if run.scope != click.scope:
            _note(client, click, f"Only <@{run.scope.user_id}> can {verb} this.")
            return None
        return run

    def _place(self, decision: Decision, click: Click) -> dict[str, Any]:
        """Where the prompt is: as stored with the question, else the clicked message."""
        if decision.place:
            found: dict[str, Any] = json.loads(decision.place)
            return found
        return {"channel": click.channel, "ts": click.message_ts, "thread_ts": click.thread_ts,
                "question": "this step"}  # fmt: skip

    def expire(self) -> None:
        """Cancel every question past its time; its prompt says it expired (the sweeper)."""
        for decision in self.crane.expire_questions():
            client = self.handler.client_for(decision.run.scope)
            if not decision.place or client is None:
                continue
            place = json.loads(decision.place)
            _update_prompt(client, place, Outcome.expired.value, "")
            if "channel" in place:
                self.handler.show_finished(client, decision.run, place)

    # --- feedback and Done --------------------------------------------------------------------

    def _feedback(self, client: WebClient, click: Click) -> None:
        value, _, run_id = click.value.partition(":")
        try:
            run = self.crane.store.get_run(run_id)
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
        run = self.crane.start(click.scope, f"complete todo {number}", plan, approval=True)
        self.crane.execute(run.id)


def _stale_note(decision: Decision) -> str:
    if decision.earlier == "expired" or decision.outcome is Outcome.expired:
        return "This question expired — nothing was done."
    if decision.earlier in ANSWERED and decision.run.status.value != "awaiting_approval":
        by = f" by <@{decision.earlier_by}>" if decision.earlier_by else ""
        return f"This was already {ANSWERED[decision.earlier]}{by}."
    return "This request is no longer waiting for an answer."


def _update_prompt(client: WebClient, place: dict[str, Any], outcome: str, by: str) -> None:
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
