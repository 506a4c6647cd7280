"""The LLM planner: OpenAI Chat Completions with structured outputs, behind Crane's own policy.

One planning attempt, within CRANE_LLM_BUDGET seconds: ask the model (retrying only transient
failures — timeouts, connection errors, 429 after its Retry-After, 5xx — never other 4xx), parse
and validate the answer against the registry, re-ask once with the errors if it is invalid, and
otherwise hand over to the pattern planner with the reason on the plan. The `openai` SDK is
imported on first use, so runs that never plan with the LLM never pay for it.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import RetryCallState, Retrying, retry_if_exception

from core.plan import History, Plan
from core.planners.fallback import CircuitBreaker, fallback, shared_breaker
from core.planners.llm_prompt import reask, system_prompt, user_message
from core.planners.llm_schema import SCHEMA_NAME, InvalidPlan, parse_plan, strict_schema
from core.planners.llm_usage import MEMORY, ServerMemory, Spend
from core.settings import Settings
from core.tools import REGISTRY, Tool

if TYPE_CHECKING:
    from openai import OpenAI

log = logging.getLogger("crane.planners.llm")

OPENAI_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"  # keyless local servers: the SDK refuses to start without a key
MAX_ATTEMPTS = 3  # per request to the model: the first try and two retries
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "response format", "structured")


class LLMUnavailable(Exception):
    """No answer from the model server; the message is the run's fallback reason."""


@dataclass
class _Call:
    """One planning attempt: its deadline, its requests, its spend."""

    deadline: float
    clock: Callable[[], float]
    spend: Spend
    requests: int = 0
    over_budget: bool = False
    started: float = field(default_factory=time.perf_counter)

    def remaining(self) -> float:
        return self.deadline - self.clock()


def _retry_after(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), if it said."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if ms := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value.strip() else None
        return max(0.0, when.timestamp() - time.time()) if when else None


def _transient(error: BaseException) -> bool:
    import openai

    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return isinstance(error, openai.APIStatusError) and (
        error.status_code == 429 or error.status_code >= 500
    )


def _describe(error: BaseException) -> str:
    import openai

    if isinstance(error, openai.APITimeoutError):
        return "the model server timed out"
    if isinstance(error, openai.APIConnectionError):
        return "could not reach the model server"
    if isinstance(error, openai.APIStatusError):
        return f"the model server answered {error.status_code}: {error.message[:200]}"
    return f"{type(error).__name__}: {str(error)[:200]}"


class LLMPlanner:
    """A `Planner` (text, history) → Plan backed by an OpenAI-compatible Chat Completions server."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        breaker: CircuitBreaker | None = None,
        memory: ServerMemory | None = None,
        tools: dict[str, Tool] | None = None,
    ) -> None:
        self.settings = settings
        self.model = settings.model
        self.server = (settings.openai_base_url or OPENAI_URL).rstrip("/")
        self.sleep, self.clock = sleep, clock
        self.breaker = breaker or shared_breaker(
            self.server, self.model, settings.llm_breaker_failures, settings.llm_breaker_cooldown_s
        )
        self.memory = memory or MEMORY
        self.tools = tools if tools is not None else REGISTRY
        self.schema = strict_schema(tuple(self.tools.values()))
        self._system = {
            mode: system_prompt(list(self.tools.values()), self.schema, mode)
            for mode in ServerMemory.MODES
        }
        self._openai: OpenAI | None = None
        self._lock = threading.Lock()

    def client(self) -> OpenAI:
        """The SDK client, created (and the SDK imported) on first use; its own retries off."""
        with self._lock:
            if self._openai is None:
                from openai import OpenAI

                key = self.settings.openai_api_key
                self._openai = OpenAI(
                    api_key=key.get_secret_value() if key else PLACEHOLDER_KEY,
                    base_url=self.server,
                    max_retries=0,
                    timeout=self.settings.llm_timeout,
                )
            return self._openai

    def __call__(self, text: str, history: History) -> Plan:
        if not self.breaker.allow():
            return fallback(text, history, self.breaker.reason())
        call = _Call(self.clock() + self.settings.llm_budget, self.clock, Spend(self.model))
        try:
            plan = self._plan(call, text, history)
        except InvalidPlan as error:
            self.breaker.success()  # the server works; this answer did not
            reason = "LLM plan invalid after one re-ask: " + "; ".join(error.errors)
        except LLMUnavailable as error:
            self.breaker.failure()
            reason = str(error)
        except Exception as error:  # a bug or an SDK surprise must not cost the user the run
            log.exception("LLM planner crashed")
            self.breaker.failure()
            reason = f"LLM planner error: {type(error).__name__}"
        else:
            self.breaker.success()
            return plan.model_copy(update={"usage": call.spend.usage(call.started)})
        log.warning("LLM planner fell back to the pattern planner: %s", reason)
        return fallback(text, history, reason[:1000], call.spend.usage(call.started))

    def _plan(self, call: _Call, text: str, history: History) -> Plan:
        turns = [{"role": "user", "content": user_message(text, history)}]
        content, refusal = self._complete(call, turns)
        if refusal:  # a completed run with no steps: the refusal is the answer
            return Plan(answer=refusal.strip(), planner="llm")
        try:
            return parse_plan(content, self.tools)
        except InvalidPlan as error:
            turns.append({"role": "assistant", "content": content[:4000]})
            turns.append({"role": "user", "content": reask(error.errors)})
        content, refusal = self._complete(call, turns)
        if refusal:
            return Plan(answer=refusal.strip(), planner="llm")
        return parse_plan(content, self.tools)

    def _complete(self, call: _Call, turns: list[dict[str, str]]) -> tuple[str, str | None]:
        """One answer from the model, with retries of transient failures inside the budget."""

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            after = _retry_after(error)
            return after if after is not None else min(0.5 * 2 ** (state.attempt_number - 1), 4.0)

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= MAX_ATTEMPTS:
                return True
            call.over_budget = wait(state) >= call.remaining()
            return call.over_budget

        retrying = Retrying(
            stop=stop, wait=wait, retry=retry_if_exception(_transient), sleep=self.sleep, reraise=True
        )
        try:
            return retrying(self._request, call, turns)
        except LLMUnavailable:
            raise
        except Exception as error:
            import openai

            if not isinstance(error, openai.OpenAIError):
                raise
            budget = " (a retry would not fit the planning budget)" if call.over_budget else ""
            tries = f"{call.requests} request{'s' if call.requests != 1 else ''}"
            raise LLMUnavailable(f"LLM unavailable: {_describe(error)}; {tries}{budget}") from error

    def _request(self, call: _Call, turns: list[dict[str, str]]) -> tuple[str, str | None]:
        """One request; steps down the response format or drops `temperature` when refused."""
        import openai

        while True:
            remaining = call.remaining()
            if remaining <= 0:
                budget = self.settings.llm_budget
                raise LLMUnavailable(f"LLM unavailable: the planning budget of {budget:g} s ran out")
            mode = self.memory.mode(self.server)
            kwargs: dict[str, Any] = {
                "model": self.model,
                "messages": [{"role": "system", "content": self._system[mode]}, *turns],
                "timeout": min(self.settings.llm_timeout, remaining),
            }
            if self.memory.takes_temperature(self.model):
                kwargs["temperature"] = 0
            if mode == "json_schema":
                schema = {"name": SCHEMA_NAME, "strict": True, "schema": self.schema}
                kwargs["response_format"] = {"type": "json_schema", "json_schema": schema}
            elif mode == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
            call.requests += 1
            try:
                completion = self.client().chat.completions.create(**kwargs)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
                message = str(error.message).lower()
                if "temperature" in kwargs and "temperature" in message:
                    self.memory.drop_temperature(self.model)
                    continue
                if "response_format" in kwargs and any(w in message for w in _FORMAT_WORDS):
                    self.memory.step_down(self.server, mode)
                    continue
                raise
            call.spend.add(completion)
            if not completion.choices:
                return "", None
            message_ = completion.choices[0].message
            return message_.content or "", getattr(message_, "refusal", None)
