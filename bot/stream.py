"""Streaming a run (DMs, the Assistant pane) with chat_stream plan/task chunks, falling back to
`ThreadProgress` when streaming fails; and telling a thread how a run a restart interrupted
ended. A 1:1 DM is private: outputs are shown whole."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import buttons, render
from bot.installations import with_token
from bot.progress import SavePlace, Target, ThreadProgress, ask, post
from core.plan import RunEvent
from core.records import step_record

log = logging.getLogger("crane.slack")


def _task(step: dict[str, Any]) -> dict[str, Any]:
    status = {"pending": "pending", "running": "in_progress", "completed": "complete"}.get(
        step["status"], "error"
    )
    task: dict[str, Any] = {
        "type": "task_update",
        "id": f"step-{step['index']}",
        "title": f"{step['index']}. {step['tool']}",
        "status": status,
        "details": render.truncate(render.args_text(step["args"]), 200),
    }
    if step["status"] == "completed" and step.get("output"):
        task["output"] = render.truncate(render.escape(step["output"]), 1000)
    if step["status"] in ("failed", "skipped"):
        task["output"] = render.truncate(render.escape(step.get("error") or step["status"]), 1000)
    return task


@dataclass
class StreamProgress:
    """Streams the plan as task chunks; any streaming failure hands over to ThreadProgress."""

    client: WebClient
    target: Target
    usage_line: Callable[[dict[str, Any]], str | None] = lambda data: None
    save_place: SavePlace = lambda run_id, index, place: None
    seen: list[RunEvent] = field(default_factory=list)
    stream: Any = None
    fallback: ThreadProgress | None = None

    def __call__(self, event: RunEvent) -> None:
        self.seen.append(event)
        if self.fallback is None:
            try:
                return self._stream(event)
            except SlackApiError as error:
                log.warning("streaming failed (%s); falling back to messages", error.response)
                self.fallback = ThreadProgress(self.client, self.target, self.usage_line,
                                               self.save_place)  # fmt: skip
                for earlier in self.seen:
                    self.fallback(earlier)
                return None
        self.fallback(event)
        return None

    def _stream(self, event: RunEvent) -> None:
        data = event.data
        if event.type == "run.started":
            t = self.target
            self.stream = self.client.chat_stream(
                channel=t.channel,
                thread_ts=t.thread_ts or "",
                recipient_team_id=t.team_id,
                recipient_user_id=t.user_id,
                task_display_mode="plan",
            )
            steps = data["run"]["steps"]
            chunks = [{"type": "plan_update", "title": render.truncate(t.text, 200)}]
            self.stream.append(chunks=chunks + [_task(step) for step in steps])
        elif event.type in ("step.started", "step.finished"):
            self.stream.append(chunks=[_task(data["step"])])
        elif event.type == "run.awaiting_approval":
            # the stream ends here; the prompt follows it, and the answer comes as messages
            self.stream.append(chunks=[_task(data["step"])])
            self.stream.stop(markdown_text="Waiting for your approval.")
            place = ask(self.client, self.target, event.run_id, data)
            self.save_place(event.run_id, data["step"]["index"], place)
        elif event.type == "run.finished":
            usage = self.usage_line(data)
            answer = render.escape(data["answer"] or "") + (f"\n_{usage}_" if usage else "")
            title = render.TITLES.get(data["status"], "Failed")
            if data["status"] != "completed":
                answer = f"*{title}.* {answer}"
            self.stream.stop(markdown_text=render.truncate(answer, 11000),
                             blocks=[buttons.feedback_block(event.run_id)])  # fmt: skip


_SLACK_PLACE = re.compile(r"^([CDG][A-Z0-9]{2,}):(\d+\.\d+|dm)$")


@dataclass
class ResumedRuns:
    """Tells a Slack thread how a run ended when a restart interrupted it: the process that was
    showing it is gone, so without this its thread would stay at ⏳ for good."""

    client: WebClient
    load: Callable[[str], Any]  # run id → Run (the store's get_run)
    # OAuth mode: the workspace's bot token for a run's scope (None: uninstalled meanwhile)
    token_for: Callable[[Any], str | None] | None = None

    def __call__(self, event: RunEvent) -> None:
        if event.type != "run.finished":
            return
        run = self.load(event.run_id)
        place = _SLACK_PLACE.match(run.conversation or "")
        if not run.scope.team_id or place is None:  # not a Slack conversation (CLI, API)
            return
        channel, thread = place.group(1), place.group(2)
        answer = run.answer or ""
        if buttons.is_shared(channel):
            answer = render.public_answer([step_record(step) for step in run.steps], answer)
        client = self.client
        if self.token_for is not None:
            token = self.token_for(run.scope)
            if token is None:
                return
            client = with_token(client, token)
        try:
            post(
                client,
                channel=channel,
                thread_ts=None if thread == "dm" else thread,
                text=render.plain("Picked up after a restart. " + answer),
                blocks=[render.context("Picked up after a restart."),
                        *render.answer_blocks(answer, run.status.value, run_id=run.id)],
            )  # fmt: skip
        except SlackApiError as error:
            log.warning("could not report a resumed run: %s", error.response.get("error"),
                        extra={"run_id": run.id})  # fmt: skip
