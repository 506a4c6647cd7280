"""Asking an OpenAI-compatible Chat Completions server for one answer, under Crane's policy.

The SDK's own retries are off. Retried here (tenacity, injectable sleep): timeouts, connection
errors, 429 after its Retry-After, 5xx — never another 4xx — up to MAX_ATTEMPTS, and never
past the planning attempt's deadline. A 400 that refuses the response format steps down to
the next format, and one that refuses `temperature` drops it; both are remembered
(fallback.ServerMemory) and cost no retry. The `openai` SDK is imported on first use.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import RetryCallState, Retrying, retry_if_exception

from core import spans
from core.planners.fallback import ServerMemory
from core.planners.llm_schema import SCHEMA_NAME
from core.planners.llm_usage import Spend
from core.settings import Settings

if TYPE_CHECKING:
    from openai import OpenAI

OPENAI_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"  # keyless local servers: the SDK refuses to start without a key
MAX_ATTEMPTS = 3  # per answer: the first request and two retries
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "response format", "structured")

Turns = list[dict[str, str]]


class LLMUnavailable(Exception):
    """No answer from the model server; the message is the run's fallback reason."""


@dataclass
class Attempt:
    """One planning attempt: its deadline (on the injected clock), requests and spend."""

    deadline: float
    clock: Callable[[], float]
    spend: Spend
    requests: int = 0
    over_budget: bool = False
    started: float = field(default_factory=time.perf_counter)

    def remaining(self) -> float:
        return self.deadline - self.clock()


def retry_after(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms / Retry-After), if it said."""
    headers = getattr(getattr(error, "response", None), "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if not value:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if name == "retry-after" else None
            return max(0.0, when.timestamp() - time.time()) if when else None
    return None


def transient(error: BaseException) -> bool:
    import openai

    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return isinstance(error, openai.APIStatusError) and (
        error.status_code == 429 or error.status_code >= 500
    )


def describe(error: BaseException) -> str:
    import openai

    if isinstance(error, openai.APITimeoutError):
        return "the model server timed out"
    if isinstance(error, openai.APIConnectionError):
        return "could not reach the model server"
    if isinstance(error, openai.APIStatusError):
        if error.status_code in (401, 403):  # its message may echo part of the key
            return f"the model server refused the credentials ({error.status_code})"
        body = error.body
        detail = body.get("message") if isinstance(body, dict) else None
        return (
            f"the model server answered {error.status_code}: {str(detail or error.message)[:200]}"
        )
    return f"{type(error).__name__}: {str(error)[:200]}"


class ModelClient:
    """One server and model; `system` holds the instructions for each response format."""

    def __init__(
        self,
        settings: Settings,
        schema: dict[str, Any],
        system: dict[str, str],
        memory: ServerMemory,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings, self.schema, self.system = settings, schema, system
        self.memory, self.sleep = memory, sleep
        self.model = settings.model
        self.server = (settings.openai_base_url or OPENAI_URL).rstrip("/")
        self._sdk: OpenAI | None = None
        self._lock = threading.Lock()

    def sdk(self) -> OpenAI:
        """The SDK client, created (and the SDK imported) on first use."""
        with self._lock:
            if self._sdk is None:
                from openai import OpenAI

                key = self.settings.openai_api_key
                self._sdk = OpenAI(
                    api_key=key.get_secret_value() if key else PLACEHOLDER_KEY,
                    base_url=self.server,
                    max_retries=0,
                    timeout=self.settings.llm_timeout,
                )
            return self._sdk

    def complete(
        self, attempt: Attempt, turns: Turns, prompt: tuple[dict[str, Any], dict[str, str]] | None
        = None,
    ) -> tuple[str, str | None]:  # fmt: skip
        """(content, refusal) of one answer, or LLMUnavailable with the reason. `prompt`: this
        request's (schema, system by mode) when not the built-ins' (MCP tools added)."""

        def wait(state: RetryCallState) -> float:
            after = retry_after(state.outcome.exception() if state.outcome else None)
            return after if after is not None else min(0.5 * 2 ** (state.attempt_number - 1), 4.0)

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= MAX_ATTEMPTS:
                return True
            attempt.over_budget = wait(state) >= attempt.remaining()
            return attempt.over_budget

        retrying = Retrying(
            stop=stop,
            wait=wait,
            retry=retry_if_exception(transient),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(self._request, attempt, turns, prompt or (self.schema, self.system))
        except LLMUnavailable:
            raise
        except Exception as error:
            import openai

            if not isinstance(error, openai.OpenAIError):
                raise
            budget = " (a retry would not fit the planning budget)" if attempt.over_budget else ""
            tries = f"{attempt.requests} request{'s' if attempt.requests != 1 else ''}"
            raise LLMUnavailable(f"LLM unavailable: {describe(error)}; {tries}{budget}") from error

    def _request(
        self, attempt: Attempt, turns: Turns, prompt: tuple[dict[str, Any], dict[str, str]]
    ) -> tuple[str, str | None]:
        import openai

        schema_, system = prompt

        while True:  # at most: drop temperature once, step down the format twice
            remaining = attempt.remaining()
            if remaining <= 0:
                budget = self.settings.llm_budget
                raise LLMUnavailable(
                    f"LLM unavailable: the planning budget of {budget:g} s ran out"
                )
            mode = self.memory.mode(self.server)
            kwargs: dict[str, Any] = {
                "model": self.model,
                "messages": [{"role": "system", "content": system[mode]}, *turns],
                "timeout": min(self.settings.llm_timeout, remaining),
            }
            if self.memory.takes_temperature(self.model):
                kwargs["temperature"] = 0
            if mode == "json_schema":
                schema = {"name": SCHEMA_NAME, "strict": True, "schema": schema_}
                kwargs["response_format"] = {"type": "json_schema", "json_schema": schema}
            elif mode == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
            attempt.requests += 1
            try:
                create = self.sdk().chat.completions.create
                completion = spans.model_call(self.server, create, kwargs)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
                message = str(error.message).lower()
                if "temperature" in kwargs and "temperature" in message:
                    self.memory.drop_temperature(self.model)
                    continue
                if "response_format" in kwargs and any(w in message for w in _FORMAT_WORDS):
                    self.memory.step_down(self.server, mode)
                    continue
                raise
            attempt.spend.add(completion)
            if not completion.choices:
                return "", None
            message_ = completion.choices[0].message
            return message_.content or "", getattr(message_, "refusal", None)
