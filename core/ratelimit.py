"""Rate budgets for an outside API: one per (workspace, method), shared by every caller.

Slack rates its Web API per method, app and workspace (docs.slack.dev/apis/web-api/rate-limits):
Tier 2 about 20 calls a minute, Tier 3 about 50, Tier 4 about 100, chat.postMessage about one a
second. A budget spaces calls out as a token bucket (GCRA: one "next free moment" per key, so
a reservation is one read and one write), lets a short burst through at once, and after a 429
both stops the key until its Retry-After has passed and slows it down until a whole period
goes by without another 429. Nothing here knows Slack or HTTP: `bot.pacing` asks and tells.

`LocalBudget` keeps the state in this process (SQLite: one process serves Slack);
`core.store.ratebudget.PgBudget` keeps it in PostgreSQL, so every replica spends one budget;
`core.store.rate_budget` picks between them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from core.errors import InvalidInput

PERIODS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}
# Slack's published tiers (the rate-limit page and each method's reference): the four,
# and the other methods Crane calls
DEFAULT_LIMITS = "chat.update=50/min,chat.postMessage=60/min,chat.startStream=20/min,"\
                 "chat.appendStream=100/min,chat.stopStream=20/min,chat.postEphemeral=100/min,"\
                 "chat.delete=50/min,views.publish=100/min,reactions.add=50/min,"\
                 "agents.sessions.setStatus=50/min,conversations.replies=50/min"  # fmt: skip
BURST_SHARE = 6  # a burst of a sixth of a period's calls goes out at once (Slack allows bursts)
SLOWEST = 8.0  # 429s after 429s slow a key down to an eighth of its budget, no further
KEPT_KEYS = 4096  # past this many keys in one process, those at rest are forgotten
_ITEM = re.compile(r"^([a-zA-Z][\w.]*)=(\d+)/(\d+(?:\.\d+)?)?(s|sec|min|h|hour)$")


@dataclass(frozen=True)
class Limit:
    count: int
    period: float  # seconds

    @property
    def interval(self) -> float:
        return self.period / self.count

    @property
    def burst(self) -> int:
        return max(1, self.count // BURST_SHARE)


def parse_limits(text: str) -> dict[str, Limit]:
    """`chat.update=50/min,chat.postMessage=60/min` → {method: Limit}; InvalidInput, naming
    the bad item, for anything else."""
    found: dict[str, Limit] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        matched = _ITEM.match(item)
        units = float(matched[3] or 1) if matched else 0
        if matched is None or int(matched[2]) < 1 or units <= 0:
            raise InvalidInput(
                f"CRANE_SLACK_RATE_LIMITS: {item!r} is not METHOD=COUNT/PERIOD "
                "(COUNT ≥ 1; PERIOD s, min or hour, or a number of them: 10s), "
                "e.g. chat.update=50/min"
            )
        found[matched[1]] = Limit(int(matched[2]), units * PERIODS[matched[4]])
    return found


def limits(override: str | None) -> dict[str, Limit]:
    """Slack's defaults, with CRANE_SLACK_RATE_LIMITS's methods replaced or added."""
    return parse_limits(DEFAULT_LIMITS) | parse_limits(override or "")


@dataclass(frozen=True)
class Pace:
    """One key's state: when its next call may go, what a 429 said."""

    next_at: float = 0.0  # the bucket's "theoretical arrival time" (GCRA)
    blocked_until: float = 0.0  # the last 429's Retry-After ends here
    slowdown: float = 1.0  # intervals are this many times longer after 429s…
    slowed_at: float = float("-inf")  # … until a whole period passes after the last one


def reserve(pace: Pace, now: float, limit: Limit) -> tuple[Pace, float]:
    """Take the next slot: the new state and how long the caller waits before sending."""
    slow = pace.slowdown if now - pace.slowed_at < limit.period else 1.0
    interval = limit.interval * slow
    due = max(pace.next_at, now)
    send_at = max(due - (limit.burst - 1) * interval, now, pace.blocked_until)
    return replace(pace, next_at=max(due, send_at) + interval), send_at - now


def rate_limited(pace: Pace, now: float, retry_after: float, limit: Limit) -> Pace:
    """Slack answered 429: nothing goes before Retry-After, and the budget shrinks (halving
    again on each 429 within a period of the last) until Slack stops answering 429."""
    recent = now - pace.slowed_at < limit.period
    slowdown = min(SLOWEST, pace.slowdown * 2 if recent else 2.0)
    blocked = max(pace.blocked_until, now + retry_after)
    return Pace(max(pace.next_at, blocked), blocked, slowdown, now)


def at_rest(pace: Pace, now: float, longest_period: float) -> bool:
    """Whether a key's state says nothing a fresh one would not (no slot taken ahead, no 429
    in force or remembered): forgetting it changes no caller's wait."""
    quiet_since = max(pace.next_at, pace.blocked_until, pace.slowed_at + longest_period)
    return quiet_since <= now


def longest_period(limits: dict[str, Limit]) -> float:
    """How long a 429 is remembered at most (a method without a budget: a minute)."""
    return max([60.0, *(limit.period for limit in limits.values())])


class Budget(Protocol):
    def reserve(self, workspace: str, method: str) -> float:
        """Take `method`'s next slot in `workspace`: seconds to wait before sending."""
        ...

    def blocked_for(self, workspace: str, method: str) -> float:
        """Seconds until a 429's Retry-After for this key has run out (0: not blocked)."""
        ...

    def rate_limited(self, workspace: str, method: str, retry_after: float) -> None: ...


class LocalBudget:
    """The budget kept in this process, for every thread of it."""

    def __init__(self, limits: dict[str, Limit], clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.clock = clock
        self._paces: dict[tuple[str, str], Pace] = {}
        self._lock = threading.Lock()

    def reserve(self, workspace: str, method: str) -> float:
        limit = self.limits.get(method)
        if limit is None:
            return self.blocked_for(workspace, method)
        with self._lock:
            key, now = (workspace, method), self.clock()
            if key not in self._paces and len(self._paces) >= KEPT_KEYS:
                self._forget_rested(now)
            self._paces[key], wait = reserve(self._paces.get(key, Pace()), now, limit)
            return wait

    def _forget_rested(self, now: float) -> None:
        """Keys are per workspace and channel: a long-lived process meets many."""
        longest = longest_period(self.limits)
        for key in [k for k, pace in self._paces.items() if at_rest(pace, now, longest)]:
            del self._paces[key]

    def blocked_for(self, workspace: str, method: str) -> float:
        with self._lock:
            pace = self._paces.get((workspace, method), Pace())
            return max(0.0, pace.blocked_until - self.clock())

    def rate_limited(self, workspace: str, method: str, retry_after: float) -> None:
        # a method without a budget still honours Retry-After (a one-a-minute "limit" shrinks)
        limit = self.limits.get(method, Limit(1, 60.0))
        with self._lock:
            key = (workspace, method)
            pace = self._paces.get(key, Pace())
            self._paces[key] = rate_limited(pace, self.clock(), retry_after, limit)
