"""Live run events for SSE: the orchestrator announces in worker threads; SSE readers wait on
the event loop. The store is the source of truth — a wake-up only says "read again"."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

from core.plan import RunEvent


class EventHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )

    def publish(self, event: RunEvent) -> None:
        """Orchestrator listener (any thread): wake every reader of this run."""
        with self._lock:
            waiters = list(self._waiters.get(event.run_id, ()))
        for loop, flag in waiters:
            loop.call_soon_threadsafe(flag.set)

    def watch(self, run_id: str) -> asyncio.Event:
        flag = asyncio.Event()
        with self._lock:
            self._waiters[run_id].add((asyncio.get_running_loop(), flag))
        return flag

    def unwatch(self, run_id: str, flag: asyncio.Event) -> None:
        with self._lock:
            waiters = self._waiters.get(run_id)
            if waiters is not None:
                waiters.discard((asyncio.get_running_loop(), flag))
                if not waiters:
                    del self._waiters[run_id]
