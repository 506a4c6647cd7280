"""Showing in Slack the runs this process executes for another: a job of the cluster (a run
another replica accepted), a run taken over from a dead process, or a finished run whose answer
it still owed. The messages of a run are recorded as they are posted (`runs.shown_in`), so the
run's thread goes on where it was: its header and step messages are edited, and a message is
posted again only when the process before died between posting and recording it."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import buttons, render
from bot.progress import Target, ThreadProgress, post
from bot.stream import StreamProgress
from core.plan import Run, RunEvent
from core.records import finished_record, step_record

if TYPE_CHECKING:
    from bot.handling import Handler

log = logging.getLogger("crane.slack")
Show = Callable[[RunEvent], None]
# a Slack run's conversation: "<channel>:<thread ts>", or "<DM channel>:dm"
_SLACK_PLACE = re.compile(r"^([CDG][A-Z0-9]{2,}):(\d+\.\d+|dm)$")


class ShownRuns:
    """The listener for runs executed here that no request of this process is showing."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._showing: dict[str, Show | None] = {}
        self._lock = threading.Lock()

    def __call__(self, event: RunEvent) -> None:
        store = self.handler.crane.store
        with self._lock:
            known = event.run_id in self._showing
            show = self._showing.get(event.run_id)
        try:
            if not known:
                show = self._begin(event, store.get_run(event.run_id))
                with self._lock:
                    self._showing[event.run_id] = show
            if show is None:
                return
            if event.type == "run.finished" and not event.data:  # an answer owed, told late
                data = finished_record(store.get_run(event.run_id))
                event = event.model_copy(update={"data": data})
            show(event)
        except SlackApiError as error:
            log.warning("could not show a run in Slack: %s", error.response.get("error"),
                        extra={"run_id": event.run_id})  # fmt: skip
        finally:
            if event.type in ("run.finished", "run.awaiting_approval"):  # this pass ends here
                with self._lock:
                    shown = self._showing.pop(event.run_id, None)
                if shown is not None and event.type == "run.finished":  # its answer is out:
                    store.mark_answered(event.run_id)  # nobody is to post it again

    def _begin(self, event: RunEvent, run: Run) -> Show | None:
        handler, store = self.handler, self.handler.crane.store
        shown = store.shown(run.id)
        place = _SLACK_PLACE.match(run.conversation or "")
        if shown is None and place is None:
            return None  # not a Slack run (the CLI, the REST API)
        client = handler.client_for(run.scope)
        if client is None:
            return None  # its workspace uninstalled Crane meanwhile
        if shown is None:  # stored before its messages were recorded: say how it ended
            assert place is not None

            def outcome(event: RunEvent) -> None:
                if event.type == "run.finished":
                    picked_up(client, store.get_run(event.run_id), place)

            return outcome
        target = Target.from_shown(shown)
        if event.type == "run.started":  # a fresh run: shown from its start, as its acceptor would
            kind = StreamProgress if shown.get("stream") else ThreadProgress
            return kind(client, target, handler.usage_line, handler.save_place, store.save_shown)
        progress = ThreadProgress(client, target, handler.usage_line, handler.save_place,
                                  store.save_shown)  # fmt: skip
        progress.restore(run.id, [step_record(step) for step in run.steps], shown)
        return progress


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
