"""Edits whose latest state wins — a message's (`chat.update`) or an agent session's status
(`agents.sessions.setStatus`): while one waits for its workspace's budget, a newer edit of the
same message replaces it, so a busy workspace sends each message's latest state rather than
every state it went through. Nothing is skipped that was not superseded — a step's ✅/❌, the
header's final state and an answered prompt are the last edits of their messages, so they are
always sent.

The caller never waits: an edit with a free slot and nothing queued for its message is sent
at once (its answer returned); any other is queued and sent from a thread of its own, in
order for its message. Those threads are not daemons, so a process that exits still sends
the edits it owes first."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk.web.slack_response import SlackResponse

if TYPE_CHECKING:
    from bot.pacing import Pacer

log = logging.getLogger("crane.slack")
Key = tuple[str, str, str, str]  # workspace, method, channel, ts of the message (or thread)
Send = Callable[[], SlackResponse]


class _Slot:
    """A message with an edit queued or on its way; `latest`: the newest edit not yet sent."""

    __slots__ = ("latest",)

    def __init__(self) -> None:
        self.latest: Send | None = None


class LatestWins:
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self._lock = threading.Lock()
        self._slots: dict[Key, _Slot] = {}

    def submit(self, key: Key, send: Send, deferred: Callable[[], SlackResponse]) -> SlackResponse:
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:  # an earlier edit of this message is queued or on its way
                self._replace(slot, send, key[1])
                return deferred()
            slot = self._slots[key] = _Slot()
        wait = self.pacer.reserve(key[0], key[1])
        if wait <= 0:
            self.pacer.wait_out(key[0], key[1], 0)
            try:
                return send()
            finally:
                self._after_send(key, slot)
        with self._lock:
            self._replace(slot, send, key[1])
        self._start(key, slot, wait)
        return deferred()

    def _replace(self, slot: _Slot, send: Send, method: str) -> None:
        if slot.latest is not None:
            self.pacer.counts.add("coalesced", method)
        slot.latest = send

    def _after_send(self, key: Key, slot: _Slot) -> None:
        with self._lock:
            if slot.latest is None:
                del self._slots[key]
                return
        self._start(key, slot, None)  # a newer edit came while this one was on its way

    def _start(self, key: Key, slot: _Slot, wait: float | None) -> None:
        threading.Thread(target=self._drain, args=(key, slot, wait),
                         name="crane-slack-edit").start()  # fmt: skip

    def _drain(self, key: Key, slot: _Slot, wait: float | None) -> None:
        """Send the message's latest edit when its slot comes, until none is left."""
        while True:
            try:
                if wait is None:
                    wait = self.pacer.reserve(key[0], key[1])
                self.pacer.wait_out(key[0], key[1], wait)
            except Exception as error:  # the budget's database is gone (a shutdown): send anyway
                log.warning("no %s budget for a deferred edit: %r", key[1], error)
            with self._lock:
                send, slot.latest = slot.latest, None
            if send is not None:
                try:
                    send()
                except Exception as error:  # its caller is long gone: the log is all there is
                    log.warning("a deferred %s failed: %r", key[1], error)
            with self._lock:
                if slot.latest is None:
                    del self._slots[key]
                    return
            wait = None
