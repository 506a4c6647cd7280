"""The usage limits where a run is accepted (`core.runtime`): a request over a run limit is
refused before it is planned (no LLM spend for it) and again, atomically, when its run is
stored (`core.store.usage`: the count that holds across replicas); past a spending limit the
pattern planner plans instead of the LLM. Every refusal is told to `refusals` (metrics)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import LimitReached
from core.limits import Counted, Limits
from core.plan import History, Plan, Scope
from core.planners.fallback import fallback
from core.store import Store
from core.tool import Catalog


class Gate:
    def __init__(self, store: Store, limits: Limits) -> None:
        self.store, self.limits = store, limits
        self.refusals: list[Callable[[LimitReached], None]] = []  # hear each (metrics)

    def refusing(self, call: Callable[..., Any], *args: Any) -> Any:
        """`call(*args)`, telling `refusals` of a LimitReached it raises."""
        try:
            return call(*args)
        except LimitReached as refused:
            for listener in self.refusals:
                listener(refused)
            raise

    def admit(self, scope: Scope) -> None:
        """LimitReached if one more run of this user would go over a run limit now."""
        if self.limits.runs_per_minute or self.limits.runs_per_day:
            so_far, now = self.store.runs_counted(scope), self.store.clock()
            self.refusing(self.limits.check_runs, Counted(so_far.minute + 1, so_far.day + 1), now)

    def plan(
        self,
        planner: Callable[..., Plan],
        scope: Scope,
        text: str,
        history: History,
        catalog: Callable[[], Catalog] | None = None,
    ) -> Plan:
        """The planner's plan, or past a spending limit (for a planner that `spends`) the
        pattern planner's, its fallback_reason naming the limit. A planner that `sees_tools`
        gets the requester's `catalog()` too (made only then: it may start MCP servers)."""
        if self.limits.spending and getattr(planner, "spends", False):
            reached = self.limits.spent(self.store.spent_today(scope))
            if reached:
                return fallback(text, history, reached)
        if catalog is not None and getattr(planner, "sees_tools", False):
            return planner(text, history, catalog())
        return planner(text, history)
