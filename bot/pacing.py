"""Slack's Web API at Slack's pace: every call of this process waits for its slot in the
budget of its (workspace, method) (`core.ratelimit`: in this process, or in PostgreSQL for
every replica), and a 429 stops that workspace and method alone for its Retry-After and
shrinks their budget. `chat.update` goes through `bot.coalescing` instead: a caller never
waits for it, and only the latest state of each message is sent.

It is all slack_sdk's machinery: a `WebClient` whose `api_call` asks the budget first, and a
`RateLimitErrorRetryHandler` that tells the budget about each 429 before the retry."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.slack_response import SlackResponse

from bot.coalescing import LatestWins
from core.errors import TransientError
from core.ratelimit import Budget, limits
from core.settings import Settings
from core.store import rate_budget

log = logging.getLogger("crane.slack")
RETRIES_AFTER_429 = 5  # each waits out its Retry-After and a slot of the shrunk budget
PER_CHANNEL = {"chat.postMessage"}  # Slack rates these per channel, not per workspace


def workspace_of(token: str | None) -> str:
    """The budget's key for a token: one token is one app in one workspace, which is what Slack
    rates; a digest, so no token is written to the database or the metrics."""
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]


def budget_key(token: str | None, method: str, body: dict[str, Any]) -> str:
    """Whose budget a call spends: its workspace's, or for a method Slack rates per channel
    (chat.postMessage: about one a second each) its channel's, so one busy channel does not
    hold back the rest of the workspace."""
    workspace = workspace_of(token)
    channel = body.get("channel")
    if method in PER_CHANNEL and isinstance(channel, str) and channel:
        return f"{workspace}/{channel}"
    return workspace


class SlackCalls:
    """Web API calls sent, step updates coalesced and 429s, by method (for /metrics)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {
            "calls": Counter(), "coalesced": Counter(), "rate_limited": Counter()}  # fmt: skip

    def add(self, kind: str, method: str) -> None:
        with self._lock:
            self._counts[kind][method] += 1

    def totals(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {kind: dict(counts) for kind, counts in self._counts.items()}


class Pacer:
    """One process's way to the budget, shared by all its clients (every workspace's)."""

    def __init__(self, budget: Budget, sleep: Callable[[float], None] = time.sleep) -> None:
        self.budget = budget
        self.sleep = sleep
        self.counts = SlackCalls()
        self.updates = LatestWins(self)

    def reserve(self, workspace: str, method: str) -> float:
        try:
            return self.budget.reserve(workspace, method)
        except TransientError as error:  # no database: Slack's own 429s still pace us
            log.warning("Slack rate budget unavailable (%s); calling without it", error)
            return 0.0

    def wait_out(self, workspace: str, method: str, wait: float) -> None:
        """Sleep until the reserved slot, past any 429 that came meanwhile; then it is sent."""
        while wait > 0:
            self.sleep(wait)
            try:
                wait = self.budget.blocked_for(workspace, method)
            except TransientError:
                wait = 0.0
            if wait > 0:  # another call was answered 429 while this one waited: queue again
                wait = self.reserve(workspace, method)
        self.counts.add("calls", method)

    def turn(self, workspace: str, method: str) -> None:
        self.wait_out(workspace, method, self.reserve(workspace, method))

    def rate_limited(self, workspace: str, method: str, retry_after: float) -> None:
        self.counts.add("rate_limited", method)
        log.warning("Slack answered 429 to %s: waiting %.0f s", method, retry_after)
        try:
            self.budget.rate_limited(workspace, method, retry_after)
        except TransientError as error:
            log.warning("Slack rate budget unavailable (%s)", error)


class PacedRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 retry, with the wait taken from the shared budget: the 429 blocks its
    workspace and method for Retry-After in every process, and the retry takes a slot."""

    def __init__(self, pacer: Pacer, max_retry_count: int = RETRIES_AFTER_429) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        found = {key.lower(): value for key, value in response.headers.items()}
        retry_after = _first(found.get("retry-after")) or "1"
        token = (_first(request.headers.get("Authorization")) or "").removeprefix("Bearer ")
        method = request.url.rsplit("/", 1)[-1]
        workspace = budget_key(token, method, _body(request))
        self.pacer.rate_limited(workspace, method, float(retry_after))
        self.pacer.turn(workspace, method)
        state.next_attempt_requested = True
        state.increment_current_attempt()


def _body(request: HttpRequest) -> dict[str, Any]:
    """The sent arguments: slack_sdk posts JSON or a form."""
    if request.body_params:
        return request.body_params
    try:
        found = json.loads(request.data or b"{}")
    except ValueError:
        found = {key: values[0] for key, values in parse_qs((request.data or b"").decode()).items()}
    return found if isinstance(found, dict) else {}


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None else str(value)


class PacedWebClient(WebClient):
    """A `WebClient` that keeps to the budget: every call takes its slot first; `chat.update`
    is coalesced per message (`bot.coalescing`) and answers at once when it is deferred."""

    def __init__(self, *args: Any, pacer: Pacer, **kwargs: Any) -> None:
        kwargs.setdefault("retry_handlers", [PacedRetryHandler(pacer)])
        super().__init__(*args, **kwargs)
        self.pacer = pacer

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        body = kwargs.get("json") or kwargs.get("params") or kwargs.get("data") or {}
        where = _latest_wins(api_method, body)
        if where is not None:
            key = (workspace_of(self.token), api_method, *where)

            def send() -> SlackResponse:
                return super(PacedWebClient, self).api_call(api_method, **kwargs)

            deferred = lambda: self._deferred(api_method, body)  # noqa: E731
            return self.pacer.updates.submit(key, send, deferred)
        self.pacer.turn(budget_key(self.token, api_method, body), api_method)
        return super().api_call(api_method, **kwargs)

    def _deferred(self, api_method: str, body: dict[str, Any]) -> SlackResponse:
        """What a deferred edit answers: the message (or session) it will edit (Crane's
        callers read nothing else from one)."""
        fields: tuple[str, ...] = ("channel", "ts", "channel_id", "thread_ts")
        where: dict[str, Any] = {k: body[k] for k in fields if k in body}
        data: dict[str, Any] = {"ok": True, **where, "deferred": True}
        return SlackResponse(client=self, http_verb="POST", api_url=self.base_url + api_method,
                             req_args={}, data=data, headers={}, status_code=200)  # fmt: skip


def _latest_wins(api_method: str, body: dict[str, Any]) -> tuple[str, str] | None:
    """Where an edit whose latest state wins lands: a message (chat.update) or an agent
    session's status (a thread): a run never waits for its budget."""
    if api_method == "chat.update" and body.get("channel") and body.get("ts"):
        return str(body["channel"]), str(body["ts"])
    if api_method == "agents.sessions.setStatus" and body.get("channel_id"):
        return str(body["channel_id"]), str(body.get("thread_ts") or "")
    return None


_pacers: dict[tuple[str, str | None], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(settings: Settings) -> Pacer:
    """The process's pacer for its database: the worker threads' client, the expiry sweeper
    and every workspace's client share it; on PostgreSQL its budget is every replica's."""
    key = (settings.db, settings.slack_rate_limits)
    with _pacers_lock:
        if key not in _pacers:
            budget = rate_budget(settings.db, limits(settings.slack_rate_limits))
            _pacers[key] = Pacer(budget)
        return _pacers[key]
