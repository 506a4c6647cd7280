"""Live run events for SSE: the orchestrator announces in worker threads (after each commit);
every SSE reader of that run gets the event on its own event loop's queue."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

from core.plan import RunEvent

Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Queue[RunEvent]"]


class EventHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = defaultdict(set)

    def publish(self, event: RunEvent) -> None:
        """Orchestrator listener (any thread): hand the event to every reader of its run."""
        with self._lock:
            waiters = list(self._waiters.get(event.run_id, ()))
        for loop, queue in waiters:
            loop.call_soon_threadsafe(queue.put_nowait, event)

    def watch(self, run_id: str) -> asyncio.Queue[RunEvent]:
        queue: asyncio.Queue[RunEvent] = asyncio.Queue()
        with self._lock:
            self._waiters[run_id].add((asyncio.get_running_loop(), queue))
        return queue

    def unwatch(self, run_id: str, queue: asyncio.Queue[RunEvent]) -> None:
        with self._lock:
            waiters = self._waiters.get(run_id)
            if waiters is not None:
                waiters.discard((asyncio.get_running_loop(), queue))
                if not waiters:
                    del self._waiters[run_id]
