"""/api/v1: runs (api.runs), their live events (api.stream), answers to their questions
(api.decisions) and todos."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import Caller
from api.decisions import decisions_router
from api.events import EventHub
from api.runs import Runs, runs_router
from api.stream import events_router
from api.usage import usage_router
from core.jobs import Jobs
from core.runtime import Crane


def build_router(crane: Crane, jobs: Jobs, hub: EventHub) -> APIRouter:
    router = APIRouter()
    router.include_router(runs_router(Runs(crane, jobs, hub.track)))
    router.include_router(events_router(crane.reads, hub))
    router.include_router(decisions_router(crane, jobs))
    router.include_router(usage_router(crane.reads, crane.limits.describe()))

    @router.get("/api/v1/tools", tags=["tools"])
    def list_tools(caller: Caller) -> dict[str, Any]:
        """The tools this caller may use: built-ins and their MCP servers' (`NAME.tool`)."""
        tools = crane.tools.visible(caller)
        return {"items": [tool.listing() for tool in tools.values()]}

    @router.get("/api/v1/todos", tags=["todos"])
    def list_todos(caller: Caller) -> dict[str, Any]:  # in FastAPI's thread pool
        todos = crane.reads.todos(caller, include_done=True)
        return {"items": [todo.record() for todo in todos]}

    return router
