"""GET /api/v1/runs/{id}/events: Server-Sent Events — past events replayed, then live ones,
each once and in seq order, until run.finished.

A run created through this server is replayed from the hub's memory of it
(`EventHub.track`), any other (the CLI, Slack, another process) from the store. Starlette's
StreamingResponse lets go of the stream when the client disconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from api.auth import Caller
from api.events import Channel, EventHub, Frame, frame
from core.plan import FINAL
from core.reads import Reads

MAX_LAST_EVENT_ID = 20
MAX_SEQ = 2**63 - 1  # the largest SQLite INTEGER
KEEPALIVE_S = 15.0
KEEPALIVE = b": keep-alive\n\n"
FINISHED = FINAL  # completed, failed, cancelled
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def resume_after(last_event_id: str | None) -> int:
    """The seq to resume after: Last-Event-ID when it is a plain number an event can have."""
    if last_event_id and last_event_id.isascii() and last_event_id.isdigit():
        after = int(last_event_id)
        return after if after <= MAX_SEQ else 0  # no event has such an id
    return 0


def stored_frames(reads: Reads, run_id: str, after: int) -> list[Frame]:
    """The run's events after seq `after`, from the store."""
    # Resuming a finished run (EventSource reconnects after the stream closes): its
    # run.finished is committed with the status, so if it is not after `after`, nothing
    # more will ever come. (Status first, then events: the other order could miss it.)
    finished = after and reads.run(run_id).status in FINISHED
    past = [frame(event) for event in reads.events_after(run_id, after)]
    return [Frame(after, True, b"")] if finished and not past else past


def _follows(frames: list[Frame], after: int) -> bool:
    """True if these frames continue the stream after seq `after` without a gap."""
    for item in frames:
        if item.seq > after + 1:
            return False
        after = max(after, item.seq)
    return True


async def sse(
    reads: Reads, hub: EventHub, run_id: str, after: int, channel: Channel, past: list[Frame]
) -> AsyncIterator[bytes]:
    """The stream's bytes: the frames that arrived together go out in one write."""
    try:
        while True:
            out: list[bytes] = []
            for item in past:
                if item.seq > after:
                    after = item.seq
                    out.append(item.data)
                # else: already sent (the store and the hub can both have it)
                if item.last:  # the end, even if the client had it already
                    yield b"".join(out)
                    return
            if out:
                yield b"".join(out)
            live = await channel.take(KEEPALIVE_S)
            if not live:
                yield KEEPALIVE
                past = []
            else:  # the next events in order come from the hub; after a gap, read the store
                gap = not _follows(live, after)
                past = await asyncio.to_thread(stored_frames, reads, run_id, after) if gap else live
    finally:
        hub.unwatch(run_id, channel)


def events_router(reads: Reads, hub: EventHub) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["runs"])

    @router.get("/runs/{run_id}/events", response_class=StreamingResponse)
    async def run_events(
        run_id: str,
        caller: Caller,
        last_event_id: Annotated[str | None, Header(max_length=MAX_LAST_EVENT_ID)] = None,
    ) -> StreamingResponse:
        """Server-Sent Events: past events replayed, then live ones, until run.finished."""
        if hub.owner(run_id) != caller:  # known to be the caller's: no need to look
            await asyncio.to_thread(reads.run, run_id, caller)  # 404 for others' ids too
        after = resume_after(last_event_id)
        # watch before reading the store: nothing published meanwhile is lost
        channel, past = hub.watch(run_id)
        try:
            if past is None:
                past = await asyncio.to_thread(stored_frames, reads, run_id, after)
        except BaseException:
            hub.unwatch(run_id, channel)
            raise
        return StreamingResponse(
            sse(reads, hub, run_id, after, channel, past),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    return router
