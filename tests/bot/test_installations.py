"""Crane's installation and state stores behave as slack_sdk's interfaces promise, on Crane's
own database: what is saved is found again (by workspace or org-wide), and revoking a token
leaves no copy of it anywhere."""

from __future__ import annotations

import asyncio

from slack_sdk.oauth.installation_store import Installation

from bot.installations import CraneInstallationStore, CraneStateStore, bot_token
from core.plan import Scope
from core.store import Store


def installation(
    team: str | None, enterprise: str | None = None, org: bool = False
) -> Installation:
    return Installation(app_id="A1", enterprise_id=enterprise, team_id=team, team_name="Acme",
                        bot_token=f"xoxb-{team or enterprise}", bot_id="B1", bot_user_id="UBOT",
                        bot_scopes="chat:write,commands", bot_refresh_token="xoxe-1",
                        bot_token_expires_in=43200, user_id="W1", user_token="xoxp-w1",
                        is_enterprise_install=org)  # fmt: skip


def everything(store: Store) -> str:
    with store.write() as conn:
        return repr([tuple(row) for t in ("slack_installations", "slack_bots")
                     for row in conn.execute(f"SELECT * FROM {t}")])  # fmt: skip


def test_a_saved_installation_is_found_whole_with_its_bot(store: Store) -> None:
    installs = CraneInstallationStore(store.installations)
    saved = installation("T1")
    asyncio.run(installs.async_save(saved))

    found = asyncio.run(installs.async_find_installation(enterprise_id=None, team_id="T1"))
    bot = asyncio.run(installs.async_find_bot(enterprise_id=None, team_id="T1"))

    assert found is not None and bot is not None
    assert (found.bot_token, found.user_token, found.team_name) == ("xoxb-T1", "xoxp-w1", "Acme")
    assert found.bot_scopes == ["chat:write", "commands"]
    assert found.bot_token_expires_at == saved.bot_token_expires_at
    assert (bot.bot_token, bot.bot_refresh_token) == ("xoxb-T1", "xoxe-1")
    assert asyncio.run(installs.async_find_bot(enterprise_id=None, team_id="T2")) is None


def test_an_org_wide_install_is_found_from_any_workspace_of_the_org(store: Store) -> None:
    installs = CraneInstallationStore(store.installations)
    asyncio.run(installs.async_save(installation(None, "E1", org=True)))
    bot = asyncio.run(
        installs.async_find_bot(enterprise_id="E1", team_id="T7", is_enterprise_install=True)
    )
    assert bot is not None and bot.bot_token == "xoxb-E1"
    assert bot_token(store.installations, Scope(enterprise_id="E1", team_id="T7")) == "xoxb-E1"
    assert bot_token(store.installations, Scope(enterprise_id="E2", team_id="T7")) is None


def test_revoked_tokens_leave_no_copy_behind(store: Store) -> None:
    installs = CraneInstallationStore(store.installations)
    asyncio.run(installs.async_save(installation("T1")))
    asyncio.run(installs.async_delete_bot(enterprise_id=None, team_id="T1"))
    asyncio.run(installs.async_delete_installation(enterprise_id=None, team_id="T1", user_id="W1"))
    assert "xoxb-T1" not in everything(store) and "xoxp-w1" not in everything(store)
    assert asyncio.run(installs.async_find_installation(enterprise_id=None, team_id="T1")) is None


def test_a_state_is_good_once(store: Store) -> None:
    states = CraneStateStore(store.installations, 600)
    state = asyncio.run(states.async_issue())
    assert asyncio.run(states.async_consume(state))
    assert not asyncio.run(states.async_consume(state))
    assert not asyncio.run(states.async_consume(""))
