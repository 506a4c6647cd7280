"""Builds the Bolt app: one token or OAuth, a Web API client that honours Retry-After (and
SLACK_API_URL), the listeners."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.actions import Actions
from bot.handling import Handler
from bot.home import HomeTab
from bot.listeners import Deps, actions, assistant, commands, home, installs, mentions, messages
from bot.oauth import oauth_parts
from bot.pacing import PacedRetryHandler, PacedWebClient, pacer_for
from core.errors import TransientError
from core.jobs import Jobs
from core.runtime import Crane
from core.settings import Settings

log = logging.getLogger("crane.slack")


def usage_line(data: dict[str, Any]) -> str | None:
    """One short context line for the final message, when the run carries LLM usage."""
    usage = data.get("usage")
    if not usage:
        return None
    cost = usage.get("cost_usd")
    price = f" · ${cost:.4f}" if cost is not None else ""
    tokens = f"{usage.get('prompt_tokens', 0)}+{usage.get('completion_tokens', 0)} tokens"
    return f"{usage.get('model')} · {tokens}{price}"


def web_client(settings: Settings) -> WebClient:
    """The worker threads' client: every call within its workspace's rate budget (bot.pacing)."""
    pacer = pacer_for(settings)
    return PacedWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        pacer=pacer,
        retry_handlers=[PacedRetryHandler(pacer), ConnectionErrorRetryHandler(max_retry_count=1)],
    )


def slack_handler(settings: Settings, crane: Crane) -> Handler:
    """What works on a Slack request after its ack (also resumes those left unplanned)."""
    installed = crane.store.installations.installed if settings.slack_oauth else None
    return Handler(crane, web_client(settings), usage_line, installed)


def build_app(
    settings: Settings, crane: Crane, jobs: Jobs, handler: Handler | None = None
) -> AsyncApp:
    """The Bolt app: one bot token (SLACK_BOT_TOKEN), or OAuth — many workspaces, each with
    its own token from Crane's database."""
    client = AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    oauth: dict[str, Any] = {}
    installations = None
    if settings.slack_oauth:
        flow, authorize, installations = oauth_parts(settings, crane.store, client)
        oauth = {"oauth_flow": flow, "authorize": authorize, "installation_store": installations}
    app = AsyncApp(
        **oauth,
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # the front guard answers bad requests first; Bolt verifies again
        request_verification_enabled=True,
        # Listeners only hand work to the job pool, so running them before the answer costs
        # nothing, and Bolt then returns the ack as soon as ack() is called — instead of
        # polling for it every 10 ms.
        process_before_response=True,
    )
    handler = handler or slack_handler(settings, crane)
    home_tab = HomeTab(crane, handler.client_for, jobs)
    # once per run that changed someone's todos, from anywhere (a failed publish is only logged)
    crane.orchestrator.subscribe(home_tab.on_event)
    deps = Deps(
        handler=handler,
        jobs=jobs,
        streaming=settings.slack_streaming == "auto",
        actions=Actions(handler),
        home=home_tab,
    )
    actions.register(app, deps)
    home.register(app, deps)
    assistant.register(app, deps)
    commands.register(app, deps)
    mentions.register(app, deps)
    messages.register(app, deps)
    installs.register(app, deps, installations)

    # Everything else Slack sends is acknowledged with 200 and ignored, so Slack never retries it.
    @app.event(re.compile(".*"))
    async def ignore_other_events() -> None:
        return None

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], response: BoltResponse) -> None:
        log.error("listener failed: %r", error, extra={"event_id": body.get("event_id")})
        if isinstance(error, TransientError) and response is not None:
            # e.g. the database is down, so the request could not be recorded: no ack, and
            # Slack delivers it again later
            response.status = 503
            response.body = "Crane cannot take requests right now; try again shortly"

    return app


def expiry_sweeper(settings: Settings, crane: Crane) -> Callable[[], None]:
    """Cancel questions left unanswered past CRANE_APPROVAL_TTL_S and say so on their prompts."""
    return Actions(Handler(crane, web_client(settings), usage_line)).expire
