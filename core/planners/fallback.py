"""When the LLM cannot plan: the pattern planner answers, and the run records why.

The circuit breaker keeps an outage from costing every request a timeout: after
CRANE_LLM_BREAKER_FAILURES consecutive failures it opens, and for CRANE_LLM_BREAKER_COOLDOWN_S
requests go straight to the pattern planner. After the cool-down one request tries the model
again (half-open): success closes the circuit, failure opens it for another cool-down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.plan import History, Plan, Usage


def fallback(text: str, history: History, reason: str, usage: Usage | None = None) -> Plan:
    """The pattern planner's plan, marked as a fallback with its reason (and any LLM spend)."""
    from core.planners import pattern  # the LLM path never needs it unless it falls back

    plan = pattern.plan(text, history)
    return plan.model_copy(update={"planner": "pattern", "fallback_reason": reason, "usage": usage})


class CircuitBreaker:
    """Per process and thread-safe; `clock` is injectable so tests need not wait."""

    def __init__(
        self,
        failures: int = 3,
        cooldown_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = max(1, failures)
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.consecutive = 0
        self.opened_at: float | None = None
        self._trial = False  # a half-open request is in flight
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """May this request use the LLM? Claims the one half-open trial when it is due."""
        with self._lock:
            if self.opened_at is None:
                return True
            if not self._trial and self.clock() - self.opened_at >= self.cooldown_s:
                self._trial = True
                return True
            return False

    def success(self) -> None:
        with self._lock:
            self.consecutive, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self.consecutive += 1
            if self._trial or self.consecutive >= self.failures:
                self.opened_at = self.clock()
            self._trial = False

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def reason(self) -> str:
        return (
            f"LLM skipped: it failed {self.consecutive} times in a row, so it rests for "
            f"{self.cooldown_s:g} s (circuit open)"
        )


_SHARED: dict[tuple[str, str, int, float], CircuitBreaker] = {}
_SHARED_LOCK = threading.Lock()


def shared_breaker(server: str, model: str, failures: int, cooldown_s: float) -> CircuitBreaker:
    """The process's breaker for one server and model, so every planner built here shares it."""
    with _SHARED_LOCK:
        key = (server, model, failures, cooldown_s)
        if key not in _SHARED:
            _SHARED[key] = CircuitBreaker(failures, cooldown_s)
        return _SHARED[key]


class ServerMemory:
    """What this process learnt about model servers, so each refusal costs one request once:
    the response format each base URL takes (strict json_schema → JSON mode with the schema in
    the prompt → a plain prompt), and the models that reject `temperature`."""

    MODES = ("json_schema", "json_object", "plain")

    def __init__(self) -> None:
        self._modes: dict[str, int] = {}
        self._no_temperature: set[str] = set()
        self._lock = threading.Lock()

    def mode(self, server: str) -> str:
        return self.MODES[self._modes.get(server, 0)]

    def step_down(self, server: str, failed: str) -> None:
        """One step down from `failed` (a no-op if another thread already stepped down)."""
        with self._lock:
            level = self._modes.get(server, 0)
            if self.MODES[level] == failed and level + 1 < len(self.MODES):
                self._modes[server] = level + 1

    def takes_temperature(self, model: str) -> bool:
        return model not in self._no_temperature

    def drop_temperature(self, model: str) -> None:
        with self._lock:
            self._no_temperature.add(model)


MEMORY = ServerMemory()  # per process, like the breakers
