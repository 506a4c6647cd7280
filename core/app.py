"""Wiring: build the runtime from settings. Front ends call `build()` and nothing lower."""

from __future__ import annotations

from core.orchestrator import Orchestrator
from core.runtime import Crane, Planner
from core.settings import Settings
from core.store import Store


def choose_planner(settings: Settings) -> Planner:
    from core.planners import pattern

    return pattern.plan


def build(settings: Settings | None = None, db: str | None = None) -> Crane:
    settings = settings or Settings()
    store = Store(db or settings.db)
    orchestrator = Orchestrator(
        store, retry_attempts=settings.retry_attempts, retry_base_s=settings.retry_base_s
    )
    orchestrator.recover()
    return Crane(store, choose_planner(settings), orchestrator)
