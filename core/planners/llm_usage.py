"""What planning with the LLM cost: tokens summed over every answer (rejected ones too), and
USD from a small price table — None for a model not in it, never a guessed number."""

from __future__ import annotations

import re
import time
from typing import Any

from core.plan import Usage

# USD per 1M tokens: (input, cached input, output), OpenAI's published standard-tier prices.
# Update from https://openai.com/api/pricing; local and unlisted models cost None.
PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.075, 0.60),
    "gpt-4o": (2.50, 1.25, 10.00),
    "gpt-4.1": (2.00, 0.50, 8.00),
    "gpt-4.1-mini": (0.40, 0.10, 1.60),
    "gpt-4.1-nano": (0.10, 0.025, 0.40),
    "gpt-5": (1.25, 0.125, 10.00),
    "gpt-5-mini": (0.25, 0.025, 2.00),
    "gpt-5-nano": (0.05, 0.005, 0.40),
    "o3-mini": (1.10, 0.55, 4.40),
    "o4-mini": (1.10, 0.275, 4.40),
}
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")  # gpt-4o-mini-2024-07-18 → gpt-4o-mini


def cost_usd(model: str | None, prompt: int, completion: int, cached: int) -> float | None:
    """The list price of these tokens, or None when the model's price is not known."""
    if not model:
        return None
    price = PRICES.get(model) or PRICES.get(_SNAPSHOT.sub("", model))
    if price is None:
        return None
    per_input, per_cached, per_output = price
    cached = min(cached, prompt)
    total = (prompt - cached) * per_input + cached * per_cached + completion * per_output
    return round(total / 1_000_000, 8)


class Spend:
    """Tokens of every completion in one planning attempt."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.prompt = self.completion = self.cached = 0

    def add(self, completion: Any) -> None:
        """Count one ChatCompletion's usage; the server's model name wins (it prices snapshots)."""
        self.model = getattr(completion, "model", None) or self.model
        usage = getattr(completion, "usage", None)
        if usage is None:
            return
        self.prompt += usage.prompt_tokens or 0
        self.completion += usage.completion_tokens or 0
        details = getattr(usage, "prompt_tokens_details", None)
        self.cached += (getattr(details, "cached_tokens", None) or 0) if details else 0

    def usage(self, started: float) -> Usage:
        """The Usage for the plan; `started` is a time.perf_counter() reading."""
        return Usage(
            prompt_tokens=self.prompt,
            completion_tokens=self.completion,
            cached_tokens=self.cached,
            model=self.model,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            cost_usd=cost_usd(self.model, self.prompt, self.completion, self.cached),
        )
