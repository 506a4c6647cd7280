"""slack_sdk's async installation and OAuth state stores, on Crane's own database.

Every replica reads the same rows, so an install, a refreshed token or an uninstall is seen by
all of them. Store calls are blocking SQLite work: they run in a thread, never on the loop.
Each bot token is kept once, in the bot row (an installation row holds the installer's part),
so revoking it leaves no copy behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.pacing import PacedWebClient
from core.plan import Scope
from core.store.installations import Installations

log = logging.getLogger("crane.slack")
BOT_FIELDS = ("bot_token", "bot_id", "bot_user_id", "bot_scopes", "bot_refresh_token",
              "bot_token_expires_at")  # fmt: skip


def _key(
    enterprise_id: str | None, team_id: str | None, enterprise_wide: bool | None
) -> tuple[str, str]:
    # an org-wide install is one row per enterprise, whichever workspace of it asks
    return enterprise_id or "", "" if enterprise_wide or team_id is None else team_id


def _text(values: dict[str, Any]) -> str:
    return json.dumps(values, default=lambda moment: moment.isoformat())


def with_token(client: WebClient, token: str) -> WebClient:
    """`client` (its base URL, timeout, retries) with another workspace's token."""
    if token == client.token:
        return client
    if isinstance(client, PacedWebClient):  # the same budgets, under the other workspace's key
        return PacedWebClient(token=token, base_url=client.base_url, timeout=client.timeout,
                              retry_handlers=client.retry_handlers, pacer=client.pacer)  # fmt: skip
    return WebClient(token=token, base_url=client.base_url, timeout=client.timeout,
                     retry_handlers=client.retry_handlers)  # fmt: skip


def bot_token(installations: Installations, scope: Scope) -> str | None:
    """The bot token serving this workspace — its own install's or its org's — from a worker
    thread; None once uninstalled."""
    for team in (scope.team_id, ""):
        found = installations.find_bot(scope.enterprise_id, team)
        if found:
            token = json.loads(found).get("bot_token")
            return str(token) if token else None
    return None


class Clients:
    """The Web API client for a workspace: a click's own token, else — OAuth mode — the
    workspace's installed bot's (None once uninstalled), else the one token."""

    def __init__(self, client: WebClient, installations: Installations | None = None) -> None:
        self.client = client
        self.installations = installations  # OAuth mode: each workspace's own token

    def for_scope(self, scope: Scope, token: str | None = None) -> WebClient | None:
        if token:
            return with_token(self.client, token)
        if self.installations is None:
            return self.client
        found = bot_token(self.installations, scope)
        return with_token(self.client, found) if found else None

    def installed(self, scope: Scope) -> bool:
        """OAuth mode: is the workspace still installed? (A request queued before its
        workspace uninstalled Crane must not bring its rows back.)"""
        if self.installations is None:
            return True
        return self.installations.installed(scope.enterprise_id, scope.team_id)


class CraneInstallationStore(AsyncInstallationStore):
    def __init__(self, installations: Installations) -> None:
        self.rows = installations

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        values = installation.to_dict_for_copying()
        for field in BOT_FIELDS:
            values.pop(field, None)
        enterprise, team = _key(installation.enterprise_id, installation.team_id,
                                installation.is_enterprise_install)  # fmt: skip
        await asyncio.to_thread(self.rows.save_installation, enterprise, team,
                                installation.user_id, installation.is_enterprise_install,
                                _text(values))  # fmt: skip
        if installation.bot_token:
            await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        enterprise, team = _key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await asyncio.to_thread(self.rows.save_bot, enterprise, team, bot.is_enterprise_install,
                                _text(bot.to_dict_for_copying()))  # fmt: skip

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key = _key(enterprise_id, team_id, is_enterprise_install)
        found = await asyncio.to_thread(self.rows.find_bot, *key)
        return Bot(**json.loads(found)) if found else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = _key(enterprise_id, team_id, is_enterprise_install)
        found = await asyncio.to_thread(self.rows.find_installation, *key, user_id)
        if found is None:
            return None
        values = json.loads(found)
        bot = await asyncio.to_thread(self.rows.find_bot, *key)
        if bot:
            values.update({k: v for k, v in json.loads(bot).items() if k in BOT_FIELDS})
        return Installation(**values)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.rows.delete_bot, *_key(enterprise_id, team_id, None))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        key = _key(enterprise_id, team_id, None)
        await asyncio.to_thread(self.rows.delete_installation, *key, user_id)


class CraneStateStore(AsyncOAuthStateStore):
    """OAuth states: issued with the install page, good once, for a few minutes."""

    def __init__(self, installations: Installations, expiration_seconds: int) -> None:
        self.rows = installations
        self.lifetime = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await asyncio.to_thread(self.rows.issue_state, state, self.lifetime)
        return state

    async def async_consume(self, state: str) -> bool:
        if not state:
            return False
        return await asyncio.to_thread(self.rows.consume_state, state)
