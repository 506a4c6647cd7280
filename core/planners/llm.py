"""The LLM planner: a free-form request → a Plan, via OpenAI structured outputs, never unsafely.

One planning attempt, within CRANE_LLM_BUDGET seconds: ask the model (llm_client: retries,
format step-downs), parse and validate its answer against the registry (llm_schema), re-ask
once with the errors if it is invalid, and otherwise hand over to the pattern planner with the
reason on the plan (fallback). A refusal is a plan with no steps whose answer is the refusal.
The planner never sees who is asking: scope comes from the verified caller, not from here; the
runtime hands it the requester's `Catalog` — the MCP tools they may call go to the model (within
the budget of llm_mcp), and a plan naming a tool of a server hidden from them is refused whole.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from core.plan import History, Plan
from core.planners.fallback import MEMORY, CircuitBreaker, ServerMemory, fallback, shared_breaker
from core.planners.llm_client import Attempt, LLMUnavailable, ModelClient
from core.planners.llm_mcp import choose
from core.planners.llm_prompt import reask, system_prompt, user_message
from core.planners.llm_schema import InvalidPlan, Refused, parse_plan, strict_schema, with_mcp
from core.planners.llm_usage import Spend
from core.settings import Settings
from core.tool import Catalog, Tool
from core.tools import REGISTRY

log = logging.getLogger("crane.planners.llm")
REFUSED = (
    "I can't plan that: it needs a {server} tool, and those are not available to you. "
    "Nothing was run."
)  # the server's name only: the rest of the step's name is the model's
Prompt = tuple[dict[str, Any], dict[str, str]]  # (response schema, system prompt by format)


class LLMPlanner:
    """A `Planner`: (text, history) → Plan, backed by an OpenAI-compatible server.

    `sleep` and `clock` (monotonic seconds) are injectable so tests never wait; the breaker and
    the server memory default to this process's shared ones.
    """

    spends = True  # spending limits (core.limits) apply: the runtime may plan without it
    sees_tools = True  # the runtime passes the requester's Catalog (their MCP tools)

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
        self.mcp_budget = (settings.llm_mcp_tools, settings.llm_mcp_schema_bytes)
        self._last: tuple[tuple[int, ...], Prompt | None, list[Any]] = ((), None, [])
        self.clock = clock
        self.tools = tools if tools is not None else REGISTRY
        self.schema = strict_schema(tuple(self.tools.values()))
        listed = list(self.tools.values())
        self.listed = listed
        system = {mode: system_prompt(listed, self.schema, mode) for mode in ServerMemory.MODES}
        self.client = ModelClient(settings, self.schema, system, memory or MEMORY, sleep)
        self.breaker = breaker or shared_breaker(
            self.client.server,
            settings.model,
            settings.llm_breaker_failures,
            settings.llm_breaker_cooldown_s,
        )

    def __call__(self, text: str, history: History, catalog: Catalog | None = None) -> Plan:
        if not self.breaker.allow():
            return fallback(text, history, self.breaker.reason())
        attempt = Attempt(self.clock() + self.budget_s, self.clock, Spend(self.client.model))
        try:
            plan = self._plan(attempt, text, history, catalog)
        except Refused as refused:  # a tool not theirs: no re-ask, no fallback, nothing runs
            self.breaker.success()
            log.warning("LLM plan refused: it names hidden %r", refused.tool[:200])
            answer = REFUSED.format(server=refused.tool.partition(".")[0].lower())
            return Plan(answer=answer, planner="llm", usage=attempt.spend.usage(attempt.started))
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

    def prompt(
        self, text: str, catalog: Catalog | None
    ) -> tuple[Prompt | None, Mapping[str, Tool]]:
        """This request's schema and instructions with the requester's MCP tools that fit the
        budget (None: the built-ins' alone), and every tool a step of theirs may name."""
        mcp = [t for t in (catalog.tools.values() if catalog else ()) if t.source != "built-in"]
        if not mcp:
            return None, self.tools
        offered = choose(mcp, text, *self.mcp_budget)
        tools = {**self.tools, **{tool.name: tool for tool in mcp}}
        if not offered:
            return None, tools
        key = tuple(id(o) for o in offered)  # Offered objects are memoised: same tools, same ids
        last = self._last  # read once: other threads plan with this planner too
        if last[0] != key:  # one entry: consecutive requests mostly offer the same tools
            schema = with_mcp(self.schema, [o.shape for o in offered])
            listed = [*self.listed, *(o.tool for o in offered)]
            system = {mode: system_prompt(listed, schema, mode) for mode in ServerMemory.MODES}
            last = self._last = (key, (schema, system), offered)  # alive: their ids stay unique
        return last[1], tools

    def _plan(self, attempt: Attempt, text: str, history: History, catalog: Catalog | None) -> Plan:
        prompt, tools = self.prompt(text, catalog)
        hidden = catalog.hidden if catalog else frozenset()
        turns = [{"role": "user", "content": user_message(text, history)}]
        content, refusal = self.client.complete(attempt, turns, prompt)
        if refusal:  # a completed run with no steps: the refusal is the answer
            return Plan(answer=refusal.strip(), planner="llm")
        try:
            return parse_plan(content, tools, hidden)
        except InvalidPlan as error:
            turns.append({"role": "assistant", "content": content[:4000]})
            turns.append({"role": "user", "content": reask(error.errors)})
        content, refusal = self.client.complete(attempt, turns, prompt)
        if refusal:
            return Plan(answer=refusal.strip(), planner="llm")
        return parse_plan(content, tools, hidden)
