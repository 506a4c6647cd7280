"""Shows one run in Slack as it happens, fed by the orchestrator's events (in the worker thread).

`ThreadProgress`: a header with the plan (and a Stop button while the run is active), a threaded
reply per step updated in place (⏳ → ✅/❌), then the answer with feedback buttons; past five
steps, one grouped progress message updated at most once a second, so a long plan keeps to
Slack's ~1 message/second/channel pace. Before a destructive step, the approval prompt.
Where others can read (a channel, a group DM), a private step's output (todo titles) goes to the
requester alone (chat.postEphemeral) and the public text says "shown only to you".
Streaming (DMs, Assistant) is `bot.stream`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import buttons, render
from core.plan import RunEvent

log = logging.getLogger("crane.slack")

# (run id, step index, where the prompt is: JSON) → stored, so a click can update it later
SavePlace = Callable[[str, int, str], None]
# (run id, where it is shown and the ts of each message posted for it) → stored right after
# each post, so whichever process executes the run next edits those messages (`bot.views`)
Record = Callable[[str, dict[str, Any]], None]


@dataclass
class Target:
    """Where a run is shown, and for whom."""

    channel: str
    thread_ts: str | None  # None: the header goes top-level and the thread hangs off it
    user_id: str
    team_id: str
    text: str
    header_ts: str | None = None  # already posted (a slash command's header)

    @property
    def shared(self) -> bool:
        return buttons.is_shared(self.channel)

    def shown(self, stream: bool = False) -> dict[str, Any]:
        return {"channel": self.channel, "thread_ts": self.thread_ts, "user_id": self.user_id,
                "team_id": self.team_id, "text": self.text, "header_ts": self.header_ts,
                "stream": stream}  # fmt: skip

    @classmethod
    def from_shown(cls, shown: dict[str, Any]) -> Target:
        return cls(shown["channel"], shown.get("thread_ts"), shown["user_id"],
                   shown["team_id"], shown["text"], shown.get("header_ts"))  # fmt: skip


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


def whisper(client: WebClient, target: Target, text: str) -> None:
    """An ephemeral note to the requester in the run's thread."""
    client.chat_postEphemeral(channel=target.channel, user=target.user_id,
                              thread_ts=target.thread_ts, text=render.plain(text))  # fmt: skip


def ask(client: WebClient, target: Target, run_id: str, data: dict[str, Any]) -> str:
    """Post the approval prompt for a `run.awaiting_approval` event; returns where it is
    (JSON: channel, prompt ts, thread, header) for the answer to update later."""
    question, detail, index = data["question"], data.get("detail") or "", data["step"]["index"]
    shown = "" if target.shared else detail
    blocks = buttons.prompt_blocks(target.user_id, run_id, index, question, shown,
                                   skip=data.get("reason") == "outcome_unknown")  # fmt: skip
    prompt = post(client, channel=target.channel, thread_ts=target.thread_ts,
                  text=buttons.prompt_text(target.user_id, question), blocks=blocks)  # fmt: skip
    if detail and target.shared:
        whisper(client, target, f"{question} {detail} ({buttons.ONLY_YOU})")
    return json.dumps({"channel": target.channel, "ts": prompt["ts"], "thread_ts":
                       target.thread_ts, "header_ts": target.header_ts, "text": target.text,
                       "question": question})  # fmt: skip


@dataclass
class ThreadProgress:
    client: WebClient
    target: Target
    usage_line: Callable[[dict[str, Any]], str | None] = lambda data: None
    save_place: SavePlace = lambda run_id, index, place: None
    record: Record = lambda run_id, shown: None
    clock: Callable[[], float] = time.monotonic
    header_ts: str | None = None
    run_id: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    step_ts: dict[int, str] = field(default_factory=dict)
    group_ts: str | None = None
    answer_ts: str | None = None
    last_group_update: float = float("-inf")

    @property
    def thread_ts(self) -> str | None:
        return self.target.thread_ts

    @property
    def grouped(self) -> bool:
        return len(self.steps) > render.GROUP_STEPS_ABOVE

    def resume(
        self, run_id: str, steps: list[dict[str, Any]], shown: dict[str, Any], going_on: bool
    ) -> None:
        """Show a run that was waiting for approval: its messages where they are (all up to
        date when its prompt was posted), the header back at "running" if it is `going_on`
        (approved; cancelled or expired, it only finishes)."""
        self._load(run_id, steps, shown)
        self.header_ts = self.target.header_ts
        if self.header_ts and going_on:
            self.client.chat_update(ts=self.header_ts, **self._header("running"))

    def restore(self, run_id: str, steps: list[dict[str, Any]], shown: dict[str, Any]) -> None:
        """Go on showing a run another process was showing (taken over, or its answer still
        owed), from what it recorded: its messages are edited, and only those it died
        before recording are posted again."""
        self._load(run_id, steps, shown)
        self._open()
        # the steps that moved on while nobody was showing them (their process died between
        # committing a step and editing its message): each shown as it stands now
        if self.grouped:
            self._update_group()
        else:
            for step in steps:
                if step["status"] != "pending":
                    self._show_step(step)

    def _load(self, run_id: str, steps: list[dict[str, Any]], shown: dict[str, Any]) -> None:
        self.run_id, self.steps = run_id, steps
        self.step_ts = {int(index): ts for index, ts in (shown.get("step_ts") or {}).items()}
        self.group_ts, self.answer_ts = shown.get("group_ts"), shown.get("answer_ts")

    def shown(self) -> dict[str, Any]:
        return self.target.shown() | {
            "header_ts": self.header_ts, "group_ts": self.group_ts, "answer_ts": self.answer_ts,
            "step_ts": {str(index): ts for index, ts in self.step_ts.items()},
        }  # fmt: skip

    def _recorded(self) -> None:
        if self.run_id is not None:
            self.record(self.run_id, self.shown())

    def _post_header(self) -> None:
        reply = post(self.client, thread_ts=self.target.thread_ts, **self._header("running"))
        self.header_ts = self.target.header_ts = reply["ts"]
        self._recorded()

    def __call__(self, event: RunEvent) -> None:
        self.run_id = event.run_id
        handler = {
            "run.started": self._started,
            "step.started": self._step,
            "step.finished": self._step,
            "run.awaiting_approval": self._asking,
            "run.finished": self._finished,
        }.get(event.type)
        if handler:
            handler(event.data)

    def _header(self, status: str) -> dict[str, Any]:
        t = self.target
        return {
            "channel": t.channel,
            "text": render.header_text(t.user_id, t.text, status),
            "blocks": render.header_blocks(t.user_id, t.text, self.steps, status, self.run_id),
        }

    def _started(self, data: dict[str, Any]) -> None:
        self.steps = [dict(step) for step in data["run"]["steps"]]
        self._open()

    def _open(self) -> None:
        """The header at "running" (posted unless it is there already) and, past five steps,
        the progress message (unless it is there already)."""
        self.header_ts = self.target.header_ts
        if self.header_ts:
            self.client.chat_update(ts=self.header_ts, **self._header("running"))
        else:
            self._post_header()
        if self.grouped and not self.group_ts:
            self.group_ts = post(self.client, **self._group_message())["ts"]
            self._recorded()
            self.last_group_update = self.clock()

    def _group_message(self) -> dict[str, Any]:
        return {
            "channel": self.target.channel,
            "thread_ts": self.thread_ts,
            "text": "Progress",
            "blocks": render.progress_blocks(self.steps, self.target.shared),
        }

    def _step(self, data: dict[str, Any]) -> None:
        step = data["step"]
        if 1 <= step["index"] <= len(self.steps):
            self.steps[step["index"] - 1] = dict(step)
        private = step.get("private") and step["status"] == "completed" and step.get("output")
        if private and self.target.shared:
            whisper(self.client, self.target, step["output"])
        if self.grouped:
            if self.clock() - self.last_group_update >= 1.0:
                self._update_group()
            return
        self._show_step(step)

    def _show_step(self, step: dict[str, Any]) -> None:
        """Its message as the step is now: edited if it was posted, else posted."""
        line = render.step_line(step, self.target.shared)
        blocks = [render.section(line)]
        ts = self.step_ts.get(step["index"])
        if ts is None:
            reply = post(self.client, channel=self.target.channel, thread_ts=self.thread_ts,
                         text=render.truncate(line, 3000), blocks=blocks)  # fmt: skip
            self.step_ts[step["index"]] = reply["ts"]
            self._recorded()
        else:
            self.client.chat_update(channel=self.target.channel, ts=ts,
                                    text=render.truncate(line, 3000), blocks=blocks)  # fmt: skip

    def _update_group(self) -> None:
        if self.group_ts:
            message = self._group_message()
            del message["thread_ts"]
            self.client.chat_update(ts=self.group_ts, **message)
            self.last_group_update = self.clock()

    def _asking(self, data: dict[str, Any]) -> None:
        step = data["step"]
        if 1 <= step["index"] <= len(self.steps):
            self.steps[step["index"] - 1] = dict(step)  # its arguments, now resolved
        if self.grouped:
            self._update_group()
        if self.header_ts:
            self.client.chat_update(ts=self.header_ts, **self._header("awaiting_approval"))
        assert self.run_id
        place = ask(self.client, self.target, self.run_id, data)
        self.save_place(self.run_id, step["index"], place)

    def _finished(self, data: dict[str, Any]) -> None:
        for step in data.get("steps", []):
            if 1 <= step["index"] <= len(self.steps):
                self.steps[step["index"] - 1] = dict(step)
        if self.grouped:
            self._update_group()
        status = data["status"]
        answer = data["answer"] or ""
        if self.target.shared:
            answer = render.public_answer(data.get("steps", []), answer)
        if self.answer_ts is None:  # else posted by a process that died before marking it so
            self.answer_ts = post(
                self.client,
                channel=self.target.channel,
                thread_ts=self.thread_ts,
                text=render.plain(answer),
                blocks=render.answer_blocks(answer, status, self.usage_line(data), self.run_id),
            )["ts"]
            self._recorded()
        if self.header_ts:
            self.client.chat_update(ts=self.header_ts, **self._header(status))
