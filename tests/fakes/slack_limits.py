"""Slack's per-method rate limits for the fake Web API, on a scaled clock.

Slack rates each method per app and workspace (here: per token) at so many calls a minute —
chat.postMessage per channel (PER_CHANNEL) — bursts allowed; past that it answers HTTP 429
`{"ok": false, "error": "ratelimited"}` with a `Retry-After` header.
`limit("chat.update", 50, minute_s=1.0)` is Tier 3 with a minute lasting one real second: a
bucket that refills at 50 calls per (scaled) minute and holds a quarter minute's calls (Slack
tolerates bursts but does not say how large; a quarter keeps the fake strict while letting a
client's own short burst through). Retry-After is what Slack sends — whole real seconds, at
least 1 — so clients wait as they would for Slack; and a call before it ran out is refused
again."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.fakes.slack_api import Call


PER_CHANNEL = {"chat.postMessage"}  # "1 per second per channel", Slack's reference says


@dataclass
class _Bucket:
    per_minute: int
    minute_s: float
    tokens: float
    at: float
    blocked_until: float = 0.0

    def take(self, now: float) -> float | None:
        """None: the call goes through; else the Retry-After (real seconds) to answer."""
        rate = self.per_minute / self.minute_s
        self.tokens = min(self.per_minute // 4, self.tokens + (now - self.at) * rate)
        self.at = now
        if now < self.blocked_until:  # too early: refused again, the block left as it was
            return max(1, math.ceil(self.blocked_until - now))
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        retry_after = max(1, math.ceil((1 - self.tokens) / rate))
        self.blocked_until = now + retry_after
        return retry_after


class RateLimits:
    def __init__(self) -> None:
        self.limits: dict[str, tuple[int, float]] = {}
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}

    def limit(self, method: str, per_minute: int, minute_s: float = 60.0) -> None:
        self.limits[method] = (per_minute, minute_s)

    def check(self, token: str | None, method: str, channel: str, now: float) -> int | None:
        """None: within the limit; else the call is refused with this Retry-After."""
        if method not in self.limits:
            return None
        key = (token or "", method, channel if method in PER_CHANNEL else "")
        bucket = self._buckets.get(key)
        if bucket is None:
            per_minute, minute_s = self.limits[method]
            bucket = self._buckets[key] = _Bucket(per_minute, minute_s, per_minute // 4, now)
        found = bucket.take(now)
        return None if found is None else int(found)


def early_calls(calls: list[Call]) -> list[Call]:
    """Calls sent to a method, by the same token, before a 429's Retry-After had run out."""
    early = []
    for refused in (c for c in calls if c.status == 429 and c.retry_after is not None):
        until = refused.at + refused.retry_after  # type: ignore[operator]
        early += [c for c in calls if c.token == refused.token and c.method == refused.method
                  and refused.at < c.at < until]  # fmt: skip
    return early


def busiest(calls: list[Call], window_s: float) -> int:
    """The most calls that arrived within any `window_s` seconds."""
    times = sorted(c.at for c in calls)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window_s:
            first += 1
        most = max(most, last - first + 1)
    return most
