"""Prometheus metrics, fed by the orchestrator's events and the Slack front guard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from core.errors import LimitReached
from core.plan import Feedback, RunEvent


class Votes(Collector):
    """Feedback votes as stored now (one per person per run, the latest wins), read when
    /metrics is scraped — so votes from Slack, the API and other processes all count."""

    def __init__(self, totals: Callable[[], Feedback]) -> None:
        self.totals = totals

    def collect(self) -> Iterator[GaugeMetricFamily]:
        found = self.totals()
        family = GaugeMetricFamily("crane_feedback_votes", "Feedback votes by value",
                                   labels=["value"])  # fmt: skip
        family.add_metric(["up"], found.up)
        family.add_metric(["down"], found.down)
        yield family


# (kind → method → count), as bot.pacing.SlackCalls.totals gives them
SlackTotals = Callable[[], dict[str, dict[str, int]]]
SLACK_FAMILIES = {
    "calls": ("crane_slack_calls", "Slack Web API calls sent, by method"),
    "coalesced": ("crane_slack_coalesced_updates", "Message edits superseded before sending"),
    "rate_limited": ("crane_slack_rate_limited", "Slack answers 429, by method"),
}


class SlackCalls(Collector):
    """Slack Web API calls of this process, read when /metrics is scraped."""

    def __init__(self, totals: SlackTotals) -> None:
        self.totals = totals

    def collect(self) -> Iterator[CounterMetricFamily]:
        found = self.totals()
        for kind, (name, text) in SLACK_FAMILIES.items():
            family = CounterMetricFamily(name, text, labels=["method"])
            for method, count in sorted(found.get(kind, {}).items()):
                family.add_metric([method], count)
            yield family


class Metrics:
    """One registry per server instance (tests build several servers in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs = Counter("crane_runs_total", "Finished runs by status", ["status"], registry=r)
        self.step_seconds = Histogram(
            "crane_step_duration_seconds", "Step duration by tool", ["tool"], registry=r,
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10),
        )  # fmt: skip
        self.tool_errors = Counter("crane_tool_errors_total", "Failed steps", ["tool"], registry=r)
        self.retries = Counter("crane_step_retries_total", "Extra attempts", ["tool"], registry=r)
        self.fallbacks = Counter(
            "crane_planner_fallbacks_total", "LLM plans that fell back to the pattern planner",
            registry=r,
        )  # fmt: skip
        self.slack_ack = Histogram(
            "crane_slack_ack_seconds", "Time to answer a Slack request", registry=r,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3),
        )  # fmt: skip
        self.llm_tokens = Counter("crane_llm_tokens_total", "LLM tokens", ["kind"], registry=r)
        self.llm_cost = Counter("crane_llm_cost_usd_total", "LLM cost in USD", registry=r)
        self.refused = Counter(
            "crane_limit_refusals_total", "Requests refused by a run limit", ["limit"], registry=r
        )

    def count_refusal(self, refused: LimitReached) -> None:
        """Runtime listener (`Crane.refusals`): Slack, REST and any other front end."""
        self.refused.labels(refused.name).inc()

    def count_votes(self, totals: Callable[[], Feedback]) -> None:
        self.registry.register(Votes(totals))

    def count_slack_calls(self, totals: SlackTotals) -> None:
        self.registry.register(SlackCalls(totals))

    def observe(self, event: RunEvent) -> None:
        """Orchestrator listener."""
        data: dict[str, Any] = event.data
        if event.type == "step.finished":
            step = data["step"]
            if step.get("duration_ms") is not None:
                self.step_seconds.labels(step["tool"]).observe(step["duration_ms"] / 1000)
            if step["status"] == "failed":
                self.tool_errors.labels(step["tool"]).inc()
            if step.get("attempts", 0) > 1:
                self.retries.labels(step["tool"]).inc(step["attempts"] - 1)
        elif event.type == "run.finished":
            self.runs.labels(data["status"]).inc()
            if data.get("fallback_reason"):
                self.fallbacks.inc()
            usage = data.get("usage") or {}
            for kind in ("prompt_tokens", "completion_tokens", "cached_tokens"):
                if usage.get(kind):
                    self.llm_tokens.labels(kind.removesuffix("_tokens")).inc(usage[kind])
            if usage.get("cost_usd"):
                self.llm_cost.inc(usage["cost_usd"])
