"""Streaming a run as a task timeline with chat_stream plan/task chunks: in DMs and the Assistant
pane, and — where the workspace allows it — in channel threads. A 1:1 DM is private: outputs are
shown whole. Where others can read (a channel thread, a group DM), a private step's output (todo
titles) says "shown only to you" in the timeline and goes to the requester alone, ephemeral.

A stream Slack ended mid-run (`message_not_in_streaming_state`: it stops streams after about
five minutes, or on someone's click) goes on in a new stream message in the same thread with
the steps not finished yet, so no step is shown twice or lost. `stopped_by_user` is the
requester's Stop (`on_stop`). Any other streaming failure hands over to `ThreadProgress`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import buttons, render
from bot.messages import Record, SavePlace, Target, ask, whisper
from bot.progress import ThreadProgress
from core.plan import RunEvent

log = logging.getLogger("crane.slack")
ENDED = frozenset({"message_not_in_streaming_state", "stopped_by_user"})


def _task(step: dict[str, Any], shared: bool = False) -> dict[str, Any]:
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
        output = buttons.public_output(step) if shared and step.get("private") else step["output"]
        task["output"] = render.truncate(render.escape(output), 1000)
    if step["status"] in ("failed", "skipped"):
        task["output"] = render.truncate(render.escape(step.get("error") or step["status"]), 1000)
    return task


@dataclass
class StreamProgress:
    """Streams the plan as task chunks; a failure other than Slack ending the stream hands over
    to ThreadProgress."""

    client: WebClient
    target: Target
    usage_line: Callable[[dict[str, Any]], str | None] = lambda data: None
    save_place: SavePlace = lambda run_id, index, place: None
    record: Record = lambda run_id, shown: None
    on_stop: Callable[[str], None] = lambda run_id: None  # the requester stopped the stream
    seen: list[RunEvent] = field(default_factory=list)
    steps: dict[int, dict[str, Any]] = field(default_factory=dict)  # each step as it is now
    stream: Any = None
    fallback: ThreadProgress | None = None

    def __call__(self, event: RunEvent) -> None:
        self.seen.append(event)
        if self.fallback is not None:
            return self.fallback(event)
        try:
            self._stream(event)
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason in ENDED and self.stream is not None and event.type != "run.started":
                if reason == "stopped_by_user":
                    self.on_stop(event.run_id)
                try:
                    return self._go_on(event)
                except SlackApiError as again:
                    error = again
            log.warning("streaming failed (%s); falling back to messages", error.response)
            self.fallback = ThreadProgress(self.client, self.target, self.usage_line,
                                           self.save_place, self.record)  # fmt: skip
            for earlier in self.seen:
                self.fallback(earlier)
        return None

    def _start(self, steps: list[dict[str, Any]]) -> None:
        t = self.target
        self.stream = self.client.chat_stream(
            channel=t.channel,
            thread_ts=t.thread_ts or t.header_ts or "",
            recipient_team_id=t.team_id,
            recipient_user_id=t.user_id,
            task_display_mode="plan",
        )
        chunks = [{"type": "plan_update", "title": render.truncate(t.text, 200)}]
        self.stream.append(chunks=chunks + [_task(step, t.shared) for step in steps])

    def _go_on(self, event: RunEvent) -> None:
        """A new stream in the same thread with the steps not finished yet, then `event`."""
        log.info("stream ended by Slack; going on in a new one", extra={"run_id": event.run_id})
        going = [step for _, step in sorted(self.steps.items())
                 if step["status"] in ("pending", "running")]  # fmt: skip
        self.stream = None
        self._start(going)
        self._stream(event)

    def _step(self, step: dict[str, Any]) -> None:
        self.steps[step["index"]] = step
        self.stream.append(chunks=[_task(step, self.target.shared)])
        private = step.get("private") and step["status"] == "completed" and step.get("output")
        if private and self.target.shared:
            whisper(self.client, self.target, step["output"])

    def _stream(self, event: RunEvent) -> None:
        data = event.data
        if event.type == "run.started":
            steps = data["run"]["steps"]
            self.steps = {step["index"]: step for step in steps}
            self._start(steps)
        elif event.type in ("step.started", "step.finished"):
            self._step(data["step"])
        elif event.type == "run.awaiting_approval":
            # the stream ends here; the prompt follows it, and the answer comes as messages
            self._step(data["step"])
            self.stream.stop(markdown_text="Waiting for your approval.")
            place = ask(self.client, self.target, event.run_id, data)
            self.save_place(event.run_id, data["step"]["index"], place)
        elif event.type == "run.finished":
            usage = self.usage_line(data)
            answer = data["answer"] or ""
            if self.target.shared:
                answer = render.public_answer(data.get("steps", []), answer)
            answer = render.escape(answer) + (f"\n_{usage}_" if usage else "")
            title = render.TITLES.get(data["status"], "Failed")
            if data["status"] != "completed":
                answer = f"*{title}.* {answer}"
            self.stream.stop(markdown_text=render.truncate(answer, 11000),
                             blocks=[buttons.feedback_block(event.run_id)])  # fmt: skip
