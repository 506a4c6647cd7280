"""Live events across replicas (PostgreSQL): a run executed on replica B reaches the SSE
readers connected to replica A. B's commit notifies (`core.store.listen`); A reads the run's
new events from the store — the source of truth, so ids stay the run's own 1, 2, 3… — and hands
them to its `EventHub` like events of its own runs. Readers skip what they already have."""

from __future__ import annotations

import asyncio
import logging

from api.events import EventHub
from core.reads import Reads
from core.store.listen import listen_forever

log = logging.getLogger("crane.live")


def follow_replicas(reads: Reads, hub: EventHub) -> tuple[asyncio.Task[None], asyncio.Event]:
    """Start listening (on the running loop); the task, and an event set while connected."""
    connected = asyncio.Event()

    async def on_run(run_id: str | None) -> None:
        followed = hub.followed()  # None: reconnected, notifications may be lost: all of them
        runs = (
            followed if run_id is None else {run_id: followed[run_id]} if run_id in followed else {}
        )
        for followed_id, after in runs.items():
            try:
                events = await asyncio.to_thread(reads.events_after, followed_id, after)
            except Exception:  # the database gone for a moment: the next wake-up reads again
                log.warning("reading events of run %s failed", followed_id, exc_info=True)
                continue
            for event in events:
                hub.publish(event)

    task = asyncio.create_task(listen_forever(reads.database, on_run, connected), name="crane-live")
    return task, connected
