"""Wiring: build the runtime from settings. Front ends call `build()` and nothing lower."""

from __future__ import annotations

from datetime import timedelta

from core import tracing
from core.errors import InvalidInput
from core.mcp.clients import Servers
from core.mcp.config import load as load_mcp
from core.orchestrator import Orchestrator
from core.runtime import Crane, Planner
from core.settings import Settings
from core.store import Store, is_url
from core.toolbox import Toolbox
from core.tools import REGISTRY


def choose_planner(settings: Settings) -> Planner:
    """CRANE_PLANNER: `pattern`, `llm`, or `auto` — the LLM when OPENAI_API_KEY or
    OPENAI_BASE_URL is set, else the offline pattern planner. Each module loads only if used."""
    configured = bool(settings.openai_api_key or settings.openai_base_url)
    if settings.planner == "llm" or (settings.planner == "auto" and configured):
        if not configured:
            raise InvalidInput("CRANE_PLANNER=llm needs OPENAI_API_KEY or OPENAI_BASE_URL")
        from core.planners.llm import LLMPlanner

        return LLMPlanner(settings)
    from core.planners import pattern

    return pattern.plan


def toolbox(settings: Settings, start_mcp: bool) -> Toolbox:
    """The built-ins and the MCP servers of CRANE_MCP_CONFIG (ConfigError if it is bad). With
    `start_mcp` (a server) every server starts now; otherwise each starts on first use."""
    configs = load_mcp(settings.mcp_config) if settings.mcp_config else {}
    servers = Servers(configs, settings.mcp_tools_ttl_s)
    if start_mcp:
        servers.start()
    return Toolbox(REGISTRY, servers)


def build(
    settings: Settings | None = None,
    db: str | None = None,
    recover: bool = True,
    start_mcp: bool = False,
) -> Crane:
    """The runtime. With `recover`, runs orphaned by a dead process are resumed first (on
    SQLite only: on a shared PostgreSQL database the servers take over orphans, and a `crane
    ask` runs its own run and takes over nothing); a front end that wants to tell their users
    resumes them itself (`orchestrator.recover`)."""
    settings = settings or Settings()
    planner = choose_planner(settings)  # a configuration error stops us before the database
    tracing.configure(settings)  # an exporter Crane does not ship: InvalidInput, as above
    tools = toolbox(settings, start_mcp)
    store = Store(db or settings.db, pool_size=settings.db_pool_size)
    orchestrator = Orchestrator(
        store,
        tools,
        retry_attempts=settings.retry_attempts,
        retry_base_s=settings.retry_base_s,
        approval_ttl_s=settings.approval_ttl_s,
        lease=timedelta(seconds=settings.lease_s),
    )
    if recover and not is_url(store.path):
        orchestrator.recover()
    return Crane(store, planner, orchestrator, limits=settings.limits)
