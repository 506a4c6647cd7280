"""Live run events for SSE: the orchestrator announces in worker threads (after each commit);
every SSE reader of that run gets the event on its own event loop, already encoded as an SSE
frame (encoded once per event, however many readers there are)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict, defaultdict
from typing import NamedTuple

from core.plan import RunEvent, Scope


class Frame(NamedTuple):
    """One event as the SSE stream sends it."""

    seq: int
    last: bool  # run.finished: the stream ends with it
    data: bytes


def frame(event: RunEvent) -> Frame:
    text = f"id: {event.seq}\nevent: {event.type}\ndata: {json.dumps(event.data)}\n\n"
    return Frame(event.seq, event.type == "run.finished", text.encode())


class Channel:
    """One reader's inbox: frames pushed on its loop (by the hub, from any thread), taken in
    batches, so frames that arrive together go out in one write."""

    __slots__ = ("frames", "loop", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.frames: list[Frame] = []
        self.waiter: asyncio.Future[None] | None = None

    def push(self, item: Frame) -> None:
        self.frames.append(item)
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self, timeout: float) -> list[Frame]:
        """The frames pushed since the last take, waiting up to `timeout` s for one (or for
        `wake`); [] when none came."""
        if not self.frames:
            waiter = self.waiter = self.loop.create_future()
            timer = self.loop.call_later(timeout, self.wake)
            try:
                await waiter
            finally:
                timer.cancel()
                self.waiter = None
        frames, self.frames = self.frames, []
        return frames


class Tracked:
    """A run created through this server: who owns it, and every frame of it so far (its
    executor is this process, so the hub hears all its events, from the first) — or None once
    they outgrew the hub's bound for one run: then its readers replay it from the store."""

    __slots__ = ("frames", "owner", "size")

    def __init__(self, owner: Scope) -> None:
        self.owner = owner
        self.frames: list[Frame] | None = []
        self.size = 0  # bytes of its frames kept here


FRAME_OVERHEAD = 120  # bytes a kept frame costs beyond its data (the tuple, the bytes object)
KEEP_RUNS = 512
KEEP_BYTES = 8 * 1024 * 1024  # frames kept for all tracked runs together…
KEEP_RUN_BYTES = 512 * 1024  # … and for one run: a large output is replayed from the store


class EventHub:
    """Hands each event of a run to the readers of that run. Runs created here are also
    tracked (the latest `keep` of them, their frames within `keep_bytes` in all and
    `keep_run_bytes` each): a reader that comes for one — usually right after creating it —
    is authorised and replayed from memory instead of the store. Memory stays bounded
    whatever the runs' outputs: past a bound, frames are dropped, never events — the store
    has every committed one, and a reader without frames here reads them there."""

    def __init__(
        self, keep: int = KEEP_RUNS, keep_bytes: int = KEEP_BYTES,
        keep_run_bytes: int = KEEP_RUN_BYTES,
    ) -> None:  # fmt: skip
        self._lock = threading.Lock()
        self._readers: dict[str, set[Channel]] = defaultdict(set)
        self._tracked: OrderedDict[str, Tracked] = OrderedDict()
        self.keep = keep
        self.keep_bytes = keep_bytes
        self.keep_run_bytes = min(keep_run_bytes, keep_bytes)
        self.kept_bytes = 0  # of frames, all tracked runs together
        self._last: dict[str, int] = {}  # the last seq handed to the readers of a run

    def track(self, run_id: str, owner: Scope) -> None:
        """Before the run executes: from now on the hub keeps its frames."""
        with self._lock:
            self._tracked[run_id] = Tracked(owner)
            if len(self._tracked) > self.keep:
                self._forget_oldest()

    def _forget_oldest(self) -> None:
        _, oldest = self._tracked.popitem(last=False)
        self.kept_bytes -= oldest.size

    def _keep_frame(self, tracked: Tracked, item: Frame) -> None:
        if tracked.frames is None:
            return
        size = len(item.data) + FRAME_OVERHEAD
        if tracked.size + size > self.keep_run_bytes:  # its readers go to the store
            self.kept_bytes -= tracked.size
            tracked.frames, tracked.size = None, 0
            return
        tracked.frames.append(item)
        tracked.size += size
        self.kept_bytes += size
        while self.kept_bytes > self.keep_bytes:  # never this run: it fits its own bound
            self._forget_oldest()

    def owner(self, run_id: str) -> Scope | None:
        """Who created the run, if it was created here and is still tracked."""
        tracked = self._tracked.get(run_id)
        return tracked.owner if tracked is not None else None

    def publish(self, event: RunEvent) -> None:
        """Orchestrator listener (any thread): hand the event to every reader of its run."""
        run_id = event.run_id
        if run_id not in self._tracked and run_id not in self._readers:
            return  # nobody to tell (a reader that comes later reads the store first)
        item = frame(event)
        with self._lock:
            if run_id in self._readers:
                self._last[run_id] = max(self._last.get(run_id, 0), event.seq)
            tracked = self._tracked.get(run_id)
            if tracked is not None:
                self._keep_frame(tracked, item)
            readers = list(self._readers.get(run_id, ()))
        for reader in readers:
            reader.loop.call_soon_threadsafe(reader.push, item)

    def watch(self, run_id: str) -> tuple[Channel, list[Frame] | None]:
        """A channel for the run's events from now on, and, for a tracked run, its frames
        until now (None: read them from the store)."""
        channel = Channel(asyncio.get_running_loop())
        with self._lock:
            self._readers[run_id].add(channel)
            tracked = self._tracked.get(run_id)
            kept = tracked.frames if tracked is not None else None
            frames = list(kept) if kept is not None else None
        return channel, frames

    def followed(self) -> dict[str, int]:
        """The runs some stream follows now → the last seq handed to their readers (events
        another replica executes are read from the store after it, see `server.live`)."""
        with self._lock:
            return {run_id: self._last.get(run_id, 0) for run_id in self._readers}

    def readers(self, run_id: str) -> int:
        """How many streams follow the run now."""
        with self._lock:
            return len(self._readers.get(run_id, ()))

    def unwatch(self, run_id: str, channel: Channel) -> None:
        with self._lock:
            readers = self._readers.get(run_id)
            if readers is not None:
                readers.discard(channel)
                if not readers:
                    del self._readers[run_id]
                    self._last.pop(run_id, None)
