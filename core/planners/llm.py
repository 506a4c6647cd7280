"""The LLM planner: a free-form request → a Plan, via OpenAI structured outputs, never unsafely.

One planning attempt, within CRANE_LLM_BUDGET seconds: ask the model (llm_client: retries,
format step-downs), parse and validate its answer against the registry (llm_schema), re-ask
once with the errors if it is invalid, and otherwise hand over to the pattern planner with the
reason on the plan (fallback). A refusal is a plan with no steps whose answer is the refusal.
The planner never sees who is asking: scope comes from the verified caller, not from here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core.plan import History, Plan
from core.planners.fallback import MEMORY, CircuitBreaker, ServerMemory, fallback, shared_breaker
from core.planners.llm_client import Attempt, LLMUnavailable, ModelClient
from core.planners.llm_prompt import reask, system_prompt, user_message
from core.planners.llm_schema import InvalidPlan, parse_plan, strict_schema
from core.planners.llm_usage import Spend
from core.settings import Settings
from core.tool import Tool
from core.tools import REGISTRY

log = logging.getLogger("crane.planners.llm")


class LLMPlanner:
    """A `Planner`: (text, history) → Plan, backed by an OpenAI-compatible server.

    `sleep` and `clock` (monotonic seconds) are injectable so tests never wait; the breaker and
    the server memory default to this process's shared ones.
    """

    spends = True  # spending limits (core.limits) apply: the runtime may plan without it

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
        self.budget_s = settings.llm_budget
        self.clock = clock
        self.tools = tools if tools is not None else REGISTRY
        self.schema = strict_schema(tuple(self.tools.values()))
        listed = list(self.tools.values())
        system = {mode: system_prompt(listed, self.schema, mode) for mode in ServerMemory.MODES}
        self.client = ModelClient(settings, self.schema, system, memory or MEMORY, sleep)
        self.breaker = breaker or shared_breaker(
            self.client.server,
            settings.model,
            settings.llm_breaker_failures,
            settings.llm_breaker_cooldown_s,
        )

    def __call__(self, text: str, history: History) -> Plan:
        if not self.breaker.allow():
            return fallback(text, history, self.breaker.reason())
        attempt = Attempt(self.clock() + self.budget_s, self.clock, Spend(self.client.model))
        try:
            plan = self._plan(attempt, text, history)
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
            return plan.model_copy(update={"usage": attempt.spend.usage(attempt.started)})
        log.warning("LLM planner fell back to the pattern planner: %s", reason)
        return fallback(text, history, reason[:1000], attempt.spend.usage(attempt.started))

    def _plan(self, attempt: Attempt, text: str, history: History) -> Plan:
        turns = [{"role": "user", "content": user_message(text, history)}]
        content, refusal = self.client.complete(attempt, turns)
        if refusal:  # a completed run with no steps: the refusal is the answer
            return Plan(answer=refusal.strip(), planner="llm")
        try:
            return parse_plan(content, self.tools)
        except InvalidPlan as error:
            turns.append({"role": "assistant", "content": content[:4000]})
            turns.append({"role": "user", "content": reask(error.errors)})
        content, refusal = self.client.complete(attempt, turns)
        if refusal:
            return Plan(answer=refusal.strip(), planner="llm")
        return parse_plan(content, self.tools)
