"""Builds the Bolt app: one token or OAuth, a Web API client that honours Retry-After (and
SLACK_API_URL), the listeners."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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
from bot.installations import Clients
from bot.intake import resume_received, resume_unanswered
from bot.ledger import Ledger
from bot.listeners import (
    Deps,
    actions,
    assistant,
    commands,
    home,
    installs,
    mentions,
    messages,
    sessions,
)
from bot.oauth import oauth_parts
from bot.pacing import PacedRetryHandler, PacedWebClient, pacer_for
from bot.sessions import Sessions
from bot.stopping import Stopper
from bot.views import RunViews
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


@dataclass
class SlackSide:
    """Everything Slack works with after an ack, on one runtime: the clients, its bookkeeping,
    the request handler, button clicks, the App Home, and the runs' views."""

    crane: Crane
    clients: Clients
    ledger: Ledger
    handler: Handler
    actions: Actions
    views: RunViews
    stopper: Stopper
    home: HomeTab | None = None
    subscriptions: list[Callable[[], None]] = field(default_factory=list)

    def expire(self) -> None:
        """Cancel questions left unanswered past CRANE_APPROVAL_TTL_S and say so on their
        prompts (their threads hear it through the views)."""
        self.actions.expire()

    def resume(self) -> None:
        """What a dead process left: answers it owed, then requests it acked but never planned
        (its unfinished runs are resumed by the lifecycle, shown by the views)."""
        resume_unanswered(self.crane, self.views)
        resume_received(self.crane, self.handler)

    def close(self) -> None:
        """Stop hearing the runtime's events (a server shut down; the runtime may live on)."""
        while self.subscriptions:
            self.subscriptions.pop()()


def slack_side(settings: Settings, crane: Crane) -> SlackSide:
    """The Slack side of a process; its views hear every run executed or decided here."""
    ledger = Ledger(crane)
    clients = Clients(web_client(settings), ledger.installations if settings.slack_oauth else None)
    agent_sessions = Sessions(crane)
    views = RunViews(crane, clients, ledger, usage_line, agent_sessions)
    handler = Handler(crane, clients, ledger)
    side = SlackSide(crane, clients, ledger, handler, Actions(crane, clients, ledger), views,
                     Stopper(crane, clients, ledger, agent_sessions))  # fmt: skip
    side.subscriptions.append(crane.subscribe(views))
    return side


def build_app(settings: Settings, crane: Crane, jobs: Jobs, side: SlackSide) -> AsyncApp:
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
        flow, authorize, installations = oauth_parts(settings, side.ledger.installations, client)
        oauth = {"oauth_flow": flow, "authorize": authorize, "installation_store": installations}
    app = AsyncApp(
        **oauth,
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # Every HTTP request reaches Bolt through the front guard (bot.guard, assembled by
        # server.app), which has checked its signature and timestamp already; checking the HMAC
        # twice cost every ack its time again. (Socket Mode has no signatures to check.)
        request_verification_enabled=False,
        # Listeners only hand work to the job pool, so running them before the answer costs
        # nothing, and Bolt then returns the ack as soon as ack() is called — instead of
        # polling for it every 10 ms.
        process_before_response=True,
    )
    side.home = HomeTab(crane, side.clients.for_scope, jobs)
    # once per run that changed someone's todos, from anywhere (a failed publish is only logged)
    side.subscriptions.append(crane.subscribe(side.home.on_event))
    deps = Deps(
        crane=crane,
        ledger=side.ledger,
        handler=side.handler,
        jobs=jobs,
        streaming=settings.slack_streaming in ("auto", "dm"),
        stream_threads=settings.slack_streaming == "auto",
        actions=side.actions,
        home=side.home,
        stopper=side.stopper,
    )
    # Bolt tries listeners in this order, each match costing a call (about 60 µs): the
    # busiest surfaces first, so a /crane or a mention is matched at once during a burst
    commands.register(app, deps)
    mentions.register(app, deps)
    messages.register(app, deps)
    actions.register(app, deps)
    home.register(app, deps)
    assistant.register(app, deps)
    sessions.register(app, deps)
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
    """Cancel questions left unanswered past CRANE_APPROVAL_TTL_S and say so on their prompts
    (the threads are updated by the views already subscribed to `crane`)."""
    ledger = Ledger(crane)
    clients = Clients(web_client(settings), ledger.installations if settings.slack_oauth else None)
    return Actions(crane, clients, ledger).expire
