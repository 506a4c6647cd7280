"""Streaming a run (DMs, the Assistant pane) with chat_stream plan/task chunks, falling back to
`ThreadProgress` when streaming fails. A 1:1 DM is private: outputs are shown whole."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import buttons, render
from bot.progress import Record, SavePlace, Target, ThreadProgress, ask
from core.plan import RunEvent

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
    record: Record = lambda run_id, shown: None
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
                                               self.save_place, self.record)  # fmt: skip
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
