"""A server whose runs wait inside a step until the test opens the gate: for what happens
while a run is running (Stop, a stream Slack ends, another replica's click)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from core.orchestrator import Orchestrator
from core.plan import History, Plan, PlannedStep, ToolResult
from core.runtime import Crane
from core.settings import Settings
from core.store import Store
from core.tool import Tool, ToolContext
from core.tools import REGISTRY
from tests.bot.conftest import LiveServer


class Nothing(BaseModel):
    pass


@dataclass
class Gated:
    server: LiveServer | None = None
    entered: threading.Event = field(default_factory=threading.Event)  # the step is waiting
    opened: threading.Event = field(default_factory=threading.Event)  # …and may go on


def gated_server(
    start_server: Callable[..., LiveServer], settings: Settings, steps: list[PlannedStep]
) -> Gated:
    """Every request is planned as `steps`; a step of the tool "wait" waits for the gate."""
    gate = Gated()

    def wait(args: Nothing, ctx: ToolContext) -> ToolResult:
        gate.entered.set()
        gate.opened.wait(10)
        return ToolResult(text="waited")

    def planner(text: str, history: History) -> Plan:
        return Plan(steps=[step.model_copy(deep=True) for step in steps])

    store = Store(settings.db)
    tools = {**REGISTRY, "wait": Tool("wait", Nothing, wait, "waits for the test")}
    crane = Crane(store, planner, Orchestrator(store, tools=tools, retry_base_s=0))
    gate.server = start_server(settings=settings, crane=crane)
    return gate
