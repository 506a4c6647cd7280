"""PostgreSQL LISTEN: one connection per server, woken by `NOTIFY crane_events '<run_id>'`
(sent at the COMMIT of every transaction that wrote a run's events: migrations/030).

A notification is only a wake-up: the events table stays the source of truth, and a listener
that was disconnected calls `on_run(None)` ("read everything you follow again") once it is back,
because notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import psycopg

from core.store.pg_migrate import CONNECT_TIMEOUT_S

log = logging.getLogger("crane.listen")

CHANNEL = "crane_events"
IDLE_CHECK_S = 10.0  # an idle connection is probed this often, so a dead one is noticed
BACKOFF_MAX_S = 30.0


async def listen_forever(
    url: str, on_run: Callable[[str | None], Awaitable[None]], connected: asyncio.Event
) -> None:
    """Call `on_run(run_id)` for each notification until cancelled; reconnect with backoff."""
    backoff = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                connected.set()
                backoff = 0.5
                await on_run(None)
                while True:
                    async for notice in conn.notifies(timeout=IDLE_CHECK_S):
                        await on_run(notice.payload)
                    await conn.execute("SELECT 1")
        except asyncio.CancelledError:
            raise
        except psycopg.Error as error:
            connected.clear()
            log.warning("event listener lost: %s; retrying in %.1f s", error, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX_S)
