"""Shows one run in Slack as it happens, fed by the orchestrator's events (in the worker thread).

`ThreadProgress`: a header with the plan, a threaded reply per step updated in place
(⏳ → ✅/❌), then the answer; past five steps, one grouped progress message updated at most
once a second, so a long plan keeps to Slack's ~1 message/second/channel pace.
`StreamProgress`: the same run streamed with chat_stream plan/task chunks (DMs, Assistant),
falling back to `ThreadProgress` when streaming fails.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import render
from bot.installations import with_token
from core.plan import RunEvent

log = logging.getLogger("crane.slack")


@dataclass
class Target:
    """Where a run is shown, and for whom."""

    channel: str
    thread_ts: str | None  # None: the header goes top-level and the thread hangs off it
    user_id: str
    team_id: str
    text: str
    header_ts: str | None = None  # already posted (a slash command's header)


def post(client: WebClient, **kwargs: Any) -> dict[str, Any]:
    """chat.postMessage; on msg_too_long retry once with the text cut hard."""
    try:
        return dict(client.chat_postMessage(**kwargs).data)  # type: ignore[arg-type]
    except SlackApiError as error:
        if error.response.get("error") != "msg_too_long":
            raise
        kwargs["text"] = render.plain(kwargs.get("text", ""))[:1000]
        kwargs.pop("blocks", None)
        return dict(client.chat_postMessage(**kwargs).data)  # type: ignore[arg-type]


@dataclass
class ThreadProgress:
    client: WebClient
    target: Target
    usage_line: Callable[[dict[str, Any]], str | None] = lambda data: None
    clock: Callable[[], float] = time.monotonic
    header_ts: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    step_ts: dict[int, str] = field(default_factory=dict)
    group_ts: str | None = None
    last_group_update: float = float("-inf")

    @property
    def thread_ts(self) -> str | None:
        return self.target.thread_ts

    @property
    def grouped(self) -> bool:
        return len(self.steps) > render.GROUP_STEPS_ABOVE

    def __call__(self, event: RunEvent) -> None:
        handler = {
            "run.started": self._started,
            "step.started": self._step,
            "step.finished": self._step,
            "run.finished": self._finished,
        }.get(event.type)
        if handler:
            handler(event.data)

    def _header(self, status: str) -> dict[str, Any]:
        t = self.target
        return {
            "channel": t.channel,
            "text": render.header_text(t.user_id, t.text, status),
            "blocks": render.header_blocks(t.user_id, t.text, self.steps, status),
        }

    def _started(self, data: dict[str, Any]) -> None:
        self.steps = [dict(step) for step in data["run"]["steps"]]
        self.header_ts = self.target.header_ts
        if self.header_ts:
            self.client.chat_update(ts=self.header_ts, **self._header("running"))
        else:
            reply = post(self.client, thread_ts=self.target.thread_ts, **self._header("running"))
            self.header_ts = reply["ts"]
        if self.grouped:
            self.group_ts = post(self.client, **self._group_message())["ts"]
            self.last_group_update = self.clock()

    def _group_message(self) -> dict[str, Any]:
        return {
            "channel": self.target.channel,
            "thread_ts": self.thread_ts,
            "text": "Progress",
            "blocks": render.progress_blocks(self.steps),
        }

    def _step(self, data: dict[str, Any]) -> None:
        step = data["step"]
        if 1 <= step["index"] <= len(self.steps):
            self.steps[step["index"] - 1] = dict(step)
        if self.grouped:
            if self.clock() - self.last_group_update >= 1.0:
                self._update_group()
            return
        line = render.step_line(step)
        blocks = [render.section(line)]
        ts = self.step_ts.get(step["index"])
        if ts is None:
            reply = post(self.client, channel=self.target.channel, thread_ts=self.thread_ts,
                         text=render.truncate(line, 3000), blocks=blocks)  # fmt: skip
            self.step_ts[step["index"]] = reply["ts"]
        else:
            self.client.chat_update(channel=self.target.channel, ts=ts,
                                    text=render.truncate(line, 3000), blocks=blocks)  # fmt: skip

    def _update_group(self) -> None:
        if self.group_ts:
            message = self._group_message()
            del message["thread_ts"]
            self.client.chat_update(ts=self.group_ts, **message)
            self.last_group_update = self.clock()

    def _finished(self, data: dict[str, Any]) -> None:
        for step in data.get("steps", []):
            if 1 <= step["index"] <= len(self.steps):
                self.steps[step["index"] - 1] = dict(step)
        if self.grouped:
            self._update_group()
        status = data["status"]
        post(
            self.client,
            channel=self.target.channel,
            thread_ts=self.thread_ts,
            text=render.plain(data["answer"] or ""),
            blocks=render.answer_blocks(data["answer"] or "", status, self.usage_line(data)),
        )
        if self.header_ts:
            self.client.chat_update(ts=self.header_ts, **self._header(status))


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
                self.fallback = ThreadProgress(self.client, self.target, self.usage_line)
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
        elif event.type == "run.finished":
            usage = self.usage_line(data)
            answer = render.escape(data["answer"] or "") + (f"\n_{usage}_" if usage else "")
            self.stream.stop(markdown_text=render.truncate(answer, 11000))


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
                        *render.answer_blocks(answer, run.status.value)],
            )  # fmt: skip
        except SlackApiError as error:
            log.warning("could not report a resumed run: %s", error.response.get("error"),
                        extra={"run_id": run.id})  # fmt: skip
