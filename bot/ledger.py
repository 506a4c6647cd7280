"""Slack's own bookkeeping, the one place `bot/` writes into the store: delivery records
(retries and twins), the durable intake of acknowledged requests, where each run is shown and
the ts of every message posted for it, where its approval prompt is, whether its answer is out,
and the workspaces' installations. Everything else goes through the lifecycle (`core.runtime`)."""

from __future__ import annotations

import asyncio
from typing import Any

from core.plan import Received, Scope
from core.runtime import Crane
from core.store.installations import Installations


class Ledger:
    def __init__(self, crane: Crane) -> None:
        self._store = crane.store
        self._owner = crane.orchestrator.owner
        self.installations: Installations = crane.store.installations

    def now(self) -> Any:
        return self._store.clock()

    def claim_delivery(self, key: str, tenant: Scope) -> bool:
        """First time this delivery (a greeting, a retried event) is seen?"""
        return self._store.claim_delivery(key, tenant)

    async def receive(self, received: Received, delivery_key: str | None) -> bool:
        """Record a request before its ack; False if its delivery was recorded before. The
        event loop does not wait on a thread of its own: the commit is shared (group commit)."""
        return await asyncio.wrap_future(
            self._store.receive_soon(received, delivery_key, self._owner)
        )

    def forget_received(self, intake_id: str) -> None:
        self._store.forget_received(intake_id)

    def mark_answered(self, run_id: str) -> None:
        self._store.mark_answered(run_id)

    def shown(self, run_id: str) -> dict[str, Any] | None:
        return self._store.shown(run_id)

    def save_shown(self, run_id: str, shown: dict[str, Any]) -> None:
        self._store.save_shown(run_id, shown)

    def save_place(self, run_id: str, index: int, place: str) -> None:
        """Where a run's approval prompt is, so its answer can update it."""
        self._store.set_approval_place(run_id, index, place)
