"""Usage limits (all off unless set). Run limits refuse a new run: the count is taken by the
store in the transaction that stores the run (`core.store.usage`), so replicas share it and a
replay of a stored run counts nothing; `check_runs` is what that transaction asks. Spending
limits never refuse: once one is reached the LLM is not called (`spent`), the pattern planner
plans, and the run's `fallback_reason` names the limit. Windows are UTC minutes and days."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.errors import LimitReached

RUNS_PER_MINUTE = "CRANE_LIMIT_RUNS_PER_MINUTE"
RUNS_PER_DAY = "CRANE_LIMIT_RUNS_PER_DAY"
TOKENS_PER_DAY = "CRANE_LIMIT_TOKENS_PER_DAY"
COST_PER_DAY = "CRANE_LIMIT_COST_PER_DAY_USD"


def day_of(now: datetime) -> str:
    """The UTC day a moment counts in: `2026-12-07`."""
    return now.astimezone(UTC).date().isoformat()


def minute_of(now: datetime) -> str:
    """The UTC minute a moment counts in: `2026-12-07T22:45` (sorts as stored times do)."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def _seconds_until(now: datetime, end: datetime) -> int:
    return max(1, math.ceil((end - now).total_seconds()))


def until_next_minute(now: datetime) -> int:
    start = now.astimezone(UTC).replace(second=0, microsecond=0)
    return _seconds_until(now, start + timedelta(minutes=1))


def until_midnight(now: datetime) -> int:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return _seconds_until(now, start + timedelta(days=1))


@dataclass(frozen=True)
class Counted:
    """A user's runs in the current UTC minute and day (a new one included, when counting it)."""

    minute: int
    day: int


@dataclass(frozen=True)
class Spent:
    """Today's LLM tokens of a user and USD of their workspace (unpriced models count $0)."""

    tokens: int
    cost_usd: float


@dataclass(frozen=True)
class Limits:
    runs_per_minute: int | None = None
    runs_per_day: int | None = None
    tokens_per_day: int | None = None
    cost_per_day_usd: float | None = None

    @property
    def counts_minutes(self) -> bool:
        """Per-minute rows are written only while a per-minute limit is set."""
        return self.runs_per_minute is not None

    def check_runs(self, counted: Counted, now: datetime) -> None:
        """LimitReached when `counted` (the new run included) goes over a run limit."""
        if self.runs_per_day is not None and counted.day > self.runs_per_day:
            raise LimitReached(RUNS_PER_DAY, self.runs_per_day, until_midnight(now))
        if self.runs_per_minute is not None and counted.minute > self.runs_per_minute:
            raise LimitReached(RUNS_PER_MINUTE, self.runs_per_minute, until_next_minute(now))

    def spent(self, spent: Spent) -> str | None:
        """Which spending limit is reached (the run's fallback reason), or None."""
        if self.tokens_per_day is not None and spent.tokens >= self.tokens_per_day:
            return (f"LLM skipped: {TOKENS_PER_DAY} reached ({spent.tokens} of "
                    f"{self.tokens_per_day} tokens today)")  # fmt: skip
        if self.cost_per_day_usd is not None and spent.cost_usd >= self.cost_per_day_usd:
            return (f"LLM skipped: {COST_PER_DAY} reached (${spent.cost_usd:.4f} of "
                    f"${self.cost_per_day_usd:g} today in this workspace)")  # fmt: skip
        return None

    @property
    def spending(self) -> bool:
        return self.tokens_per_day is not None or self.cost_per_day_usd is not None

    def describe(self) -> dict[str, float | int | None]:
        """The limits by the names users see (the App Home, `crane usage --json`)."""
        return {
            "runs_per_minute": self.runs_per_minute,
            "runs_per_day": self.runs_per_day,
            "tokens_per_day": self.tokens_per_day,
            "cost_per_day_usd": self.cost_per_day_usd,
        }
