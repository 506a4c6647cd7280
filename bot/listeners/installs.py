"""Uninstalls and revoked tokens. An uninstalled workspace (or org) leaves nothing behind: its
installation and every row of its data go in one transaction before the ack, and its runs still
executing stop at their next write (core.store.journal). Bolt skips authorize for these events,
so they arrive although the tokens are already dead."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.listeners import Deps

log = logging.getLogger("crane.slack")


def _team(context: AsyncBoltContext) -> str | None:
    """The workspace uninstalling, or None for an org-wide install (the whole enterprise)."""
    return None if context.is_enterprise_install or not context.team_id else context.team_id


def register(app: AsyncApp, deps: Deps, installations: AsyncInstallationStore | None) -> None:
    @app.event("app_uninstalled")
    async def uninstalled(context: AsyncBoltContext) -> None:
        enterprise, team = context.enterprise_id or "", _team(context)
        if team is None and not enterprise:
            log.warning("app_uninstalled without a workspace or org id: ignored")
            return
        gone = await asyncio.to_thread(deps.crane.forget_workspace, enterprise, team)
        log.info("uninstalled: %d rows deleted", sum(gone.values()),
                 extra={"tenant": f"{enterprise}/{team or '*'}"})  # fmt: skip

    @app.event("tokens_revoked")
    async def revoked(event: dict[str, object], context: AsyncBoltContext) -> None:
        if installations is None:  # one-token mode: the token lives in the environment
            return
        tokens = event.get("tokens")
        tokens = tokens if isinstance(tokens, dict) else {}
        where = {"enterprise_id": context.enterprise_id, "team_id": _team(context)}
        for user_id in tokens.get("oauth") or []:
            await installations.async_delete_installation(**where, user_id=str(user_id))
        if tokens.get("bot"):
            await installations.async_delete_bot(**where)
