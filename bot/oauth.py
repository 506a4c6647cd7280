"""OAuth mode: Bolt's install flow (GET /slack/install, GET /slack/oauth_redirect) on Crane's
own installation and state stores, with pages a person can act on, and the authorize step that
picks each workspace's bot token (refreshing it first when token rotation is on).

Every Web API call of it — the code exchange, auth.test, token refreshes — goes through the
app's client, so SLACK_API_URL holds for all of them.
"""

from __future__ import annotations

import html
import logging

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.installations import CraneInstallationStore, CraneStateStore
from core.settings import Settings
from core.store.installations import Installations

log = logging.getLogger("crane.slack")

# What Crane asks a workspace for; manifest.yml says the same (a test keeps them equal).
BOT_SCOPES = ("app_mentions:read", "assistant:write", "channels:history", "chat:write",
              "commands", "groups:history", "im:history")  # fmt: skip
STATE_SECONDS = 600
# Bolt refreshes a rotating token when it has less than this left (Slack's last 12 h).
REFRESH_MINUTES = 120

AGAIN = '<a href="/slack/install">Start the install again</a>.'
FAILURES: dict[str, tuple[int, str, str]] = {
    "access_denied": (200, "Crane was not installed",
                      "The install was cancelled on Slack's page. Nothing was installed."),
    "invalid_browser": (400, "This install link has expired",
                        "It was opened in another browser, has expired or was already used. "
                        "Nothing was installed."),
    "invalid_state": (400, "This install link has expired",
                      "It has expired or was already used. Nothing was installed."),
    "missing_code": (400, "Slack did not finish the install",
                     "Slack's answer had no code. Nothing was installed."),
    "invalid_code": (400, "Slack refused the install",
                     "Slack would not exchange the install code (it may have been used "
                     "already). Nothing was installed."),
    "storage_error": (503, "Crane could not save the install",
                      "Its database did not answer. Nothing was installed."),
}  # fmt: skip


def page_html(title: str, text: str) -> str:
    """A small page; `text` is HTML (callers escape what came from outside)."""
    style = "font-family:sans-serif;max-width:40em;margin:4em auto"
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
            f'</title></head><body style="{style}"><h1>{html.escape(title)}</h1><p>{text}</p>'
            "</body></html>")  # fmt: skip


TROUBLE = page_html(
    "Crane could not finish the install",
    f"Its database or Slack did not answer. Nothing was installed. {AGAIN}",
)


def page(
    status: int, title: str, text: str, extra: dict[str, str | list[str]] | None = None
) -> BoltResponse:
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8"}
    body = page_html(title, text)
    return BoltResponse(status=status, body=body, headers={**headers, **(extra or {})})


async def installed(args: AsyncSuccessArgs) -> BoltResponse:
    found = args.installation
    where = (found.enterprise_name or "your organisation") if found.is_enterprise_install else (
        found.team_name or "your workspace")  # fmt: skip
    log.info("installed", extra={"tenant": f"{found.enterprise_id or ''}/{found.team_id or ''}"})
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return page(200, "Crane is installed",
                f"Crane is installed in {html.escape(where)}. Mention <b>@Crane</b> in a channel, "
                "send it a direct message, or type <code>/crane help</code>.",
                {"Set-Cookie": [cookie]})  # fmt: skip


async def failed(args: AsyncFailureArgs) -> BoltResponse:
    status, title, text = FAILURES.get(args.reason, (400, "Crane was not installed",
                                       "Slack ended the install with an error. Nothing was "
                                       "installed."))  # fmt: skip
    log.warning("install failed: %s", args.reason)
    return page(status, title, f"{html.escape(text)} {AGAIN}")


def oauth_parts(
    settings: Settings, stored: Installations, client: AsyncWebClient
) -> tuple[AsyncOAuthFlow, AsyncInstallationStoreAuthorize, CraneInstallationStore]:
    """The install flow, the per-workspace authorize and the installation store for AsyncApp."""
    assert settings.slack_client_id and settings.slack_client_secret
    installations = CraneInstallationStore(stored)
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=CraneStateStore(stored, STATE_SECONDS),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=REFRESH_MINUTES,
        callback_options=AsyncCallbackOptions(success=installed, failure=failed),
        logger=log,
    )
    flow = AsyncOAuthFlow(client=client, logger=log, settings=oauth)
    authorize = AsyncInstallationStoreAuthorize(
        logger=log,
        installation_store=installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=REFRESH_MINUTES,
        bot_only=True,  # Crane asks for bot scopes only: one token per workspace
        cache_enabled=True,  # auth.test once per token, not on every event
        client=client,  # token refreshes honour SLACK_API_URL too
    )
    return flow, authorize, installations
