"""Installing into many workspaces (OAuth mode), end to end and offline: the browser's trip
through /slack/install and /slack/oauth_redirect, the code exchange and every later Web API call
against the fake Slack, events signed like Slack's, and what is left in the database after an
uninstall (nothing)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.plan import Scope
from core.store import Store
from core.store.tenants import TENANT_TABLES
from tests.bot.conftest import LiveServer, mention_event, settings_for
from tests.fakes.signing import load_payload, new_event_id
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_oauth import CLIENT_ID, CLIENT_SECRET

ORG = "E111"  # the org of app_uninstalled.json / tokens_revoked.json


@pytest.fixture
def oauth(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(
        slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET
    )


def begin(server: LiveServer) -> tuple[str, dict[str, str]]:
    """Open the install page as a browser would: the state in its link, and its cookie."""
    page = server.http.get("/slack/install")
    assert page.status_code == 200, page.text
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize[^"]+)"', page.text)
    assert link is not None
    state = re.search(r"state=([\w-]+)", link.group(1))
    assert state is not None
    cookie = page.headers["set-cookie"].split(";")[0]
    return state.group(1), {"Cookie": cookie}


def come_back(
    server: LiveServer, state: str, cookie: dict[str, str], **query: str
) -> httpx.Response:
    return server.http.get(
        "/slack/oauth_redirect", params={"state": state, **query}, headers=cookie
    )


def install(server: LiveServer, code: str, **grant: Any) -> httpx.Response:
    """Slack grants `code` (a workspace's token), then the installer's whole round trip."""
    server.fake.installs.grant(code, **grant)
    state, cookie = begin(server)
    return come_back(server, state, cookie, code=code)


def authorization(team: str | None, enterprise: str | None, org_wide: bool) -> list[dict[str, Any]]:
    return [{"enterprise_id": enterprise, "team_id": None if org_wide else team,
             "user_id": "UBOT", "is_bot": True, "is_enterprise_install": org_wide}]  # fmt: skip


def mention(server: LiveServer, text: str, team: str, enterprise: str | None = None,
            org_wide: bool = False, channel: str | None = None) -> str:  # fmt: skip
    """@Crane <text> from a workspace; returns the thread it is answered in."""
    event = mention_event(text, channel=channel or f"C{team[1:]}")
    event["team"] = team
    server.event(event, team_id=team, enterprise_id=enterprise,
                 authorizations=authorization(team, enterprise, org_wide))  # fmt: skip
    server.settle()
    return str(event["ts"])


def answers(fake: FakeSlack, channel: str, thread: str) -> list[str]:
    return [m.text for m in fake.messages(channel) if m.thread_ts == thread]


def whispered(fake: FakeSlack, channel: str) -> str:
    """The last text shown to one person only (a listing in a channel is private)."""
    return str(fake.ephemerals(channel)[-1]["text"])


def tokens_used(fake: FakeSlack, channel: str) -> set[str | None]:
    return {c.token for c in fake.calls("chat.postMessage") if c.params.get("channel") == channel}


def rows(store: Store, column: str, value: str) -> dict[str, int]:
    with store.write() as conn:  # either backend
        found = {t: conn.execute(f"SELECT COUNT(*) FROM {t} WHERE {column} = ?",
                                 (value,)).fetchone()[0] for t in TENANT_TABLES}  # fmt: skip
    return {table: count for table, count in found.items() if count}


def todos(server: LiveServer, team: str, enterprise: str = "") -> list[str]:
    who = Scope(enterprise_id=enterprise, team_id=team, user_id="W111")
    return [t.title for t in server.store.list_todos(who, include_done=True)]


# ------------------------------------------------------------------------------- install


def test_install_then_a_mention_is_answered_with_that_workspaces_own_token(
    oauth: LiveServer,
) -> None:
    page = install(oauth, "code-222", token="xoxb-t222", team_id="T222", team_name="Acme")
    assert page.status_code == 200 and "Crane is installed in Acme" in page.text
    (exchange,) = oauth.fake.calls("oauth.v2.access")  # through SLACK_API_URL, to the fake
    assert exchange.params["code"] == "code-222"

    thread = mention(oauth, "add a todo to buy milk", "T222")
    assert answers(oauth.fake, "C222", thread)[-1] == "Added todo #1: buy milk"
    assert tokens_used(oauth.fake, "C222") == {"xoxb-t222"}
    assert todos(oauth, "T222") == ["buy milk"]


def test_a_second_workspace_has_its_own_token_and_its_own_todos(oauth: LiveServer) -> None:
    install(oauth, "code-222", token="xoxb-t222", team_id="T222")
    install(oauth, "code-333", token="xoxb-t333", team_id="T333")
    mention(oauth, "add a todo to buy milk", "T222")
    mention(oauth, "add a todo to fix the roof", "T333")

    thread = mention(oauth, "list my todos", "T333")
    assert "shown only to you" in answers(oauth.fake, "C333", thread)[-1]  # a channel
    listing = [e["text"] for e in oauth.fake.ephemerals("C333")][-1]  # to the requester alone
    assert "fix the roof" in listing and "milk" not in listing
    whispered = {c.token for c in oauth.fake.calls("chat.postEphemeral")}
    assert whispered == {"xoxb-t333"}
    assert tokens_used(oauth.fake, "C222") == {"xoxb-t222"}
    assert tokens_used(oauth.fake, "C333") == {"xoxb-t333"}
    assert todos(oauth, "T222") == ["buy milk"] and todos(oauth, "T333") == ["fix the roof"]


def test_an_org_wide_install_serves_every_workspace_of_the_org(oauth: LiveServer) -> None:
    page = install(oauth, "code-org", token="xoxb-org", team_id=None, enterprise_id=ORG,
                   enterprise_wide=True)  # fmt: skip
    assert page.status_code == 200 and "Crane is installed in Org" in page.text
    mention(oauth, "add a todo to buy milk", "T501", ORG, org_wide=True)
    mention(oauth, "list my todos", "T502", ORG, org_wide=True)

    assert whispered(oauth.fake, "C502") == "You have no open todos."
    assert tokens_used(oauth.fake, "C501") == tokens_used(oauth.fake, "C502") == {"xoxb-org"}
    assert todos(oauth, "T501", ORG) == ["buy milk"] and todos(oauth, "T502", ORG) == []


def test_a_workspace_never_installed_gets_no_answer(oauth: LiveServer) -> None:
    install(oauth, "code-222", token="xoxb-t222", team_id="T222")
    mention(oauth, "calculate 2+3", "T999")
    assert oauth.fake.messages("C999") == [] and rows(oauth.store, "team_id", "T999") == {}


def test_a_token_about_to_expire_is_refreshed_and_the_new_one_used(oauth: LiveServer) -> None:
    # token rotation on: Bolt refreshes with less than two hours left, through SLACK_API_URL
    install(oauth, "code-222", token="xoxb-t222", team_id="T222", refresh_token="xoxe-1",
            expires_in=60)  # fmt: skip
    thread = mention(oauth, "calculate 2+3", "T222")
    refresh = [c for c in oauth.fake.calls("oauth.v2.access") if "refresh_token" in c.params]
    assert [c.params["refresh_token"] for c in refresh] == ["xoxe-1"]
    assert answers(oauth.fake, "C222", thread)[-1] == "2+3 = 5"
    assert tokens_used(oauth.fake, "C222") == {"xoxb-t222-r1"}
    stored = oauth.store.installations.find_bot("", "T222") or ""
    assert "xoxb-t222-r1" in stored and "xoxe-r1" in stored  # every replica reads the new one


# ----------------------------------------------------------------------------- uninstall


def uninstall(server: LiveServer, team: str | None, enterprise: str | None = None) -> None:
    body = load_payload("app_uninstalled")
    body.update(event_id=new_event_id(), enterprise_id=enterprise)
    if team:
        body["team_id"] = team
    server.post_signed(body).raise_for_status()
    server.settle()


def test_an_uninstalled_workspace_leaves_no_rows_and_gets_no_answer(oauth: LiveServer) -> None:
    install(oauth, "code-222", token="xoxb-t222", team_id="T222")
    install(oauth, "code-333", token="xoxb-t333", team_id="T333")
    for team in ("T222", "T333"):
        mention(oauth, "add a todo to buy milk", team)
        mention(oauth, "calculate 2+3", team)
    kept = rows(oauth.store, "team_id", "T333")
    oauth.fake.installs.revoke("xoxb-t222")  # Slack revokes the token on uninstall

    uninstall(oauth, "T222")

    assert rows(oauth.store, "team_id", "T222") == {}
    assert rows(oauth.store, "team_id", "T333") == kept
    oauth.fake.reset()
    mention(oauth, "list my todos", "T222")
    assert oauth.fake.messages("C222") == [] and rows(oauth.store, "team_id", "T222") == {}
    mention(oauth, "list my todos", "T333")
    assert "buy milk" in whispered(oauth.fake, "C333")


def test_a_request_still_queued_when_its_workspace_uninstalls_is_dropped(
    start_server: Callable[..., LiveServer],
) -> None:
    oauth = start_server(slack_bot_token=None, slack_client_id=CLIENT_ID,
                         slack_client_secret=CLIENT_SECRET, workers=1)  # fmt: skip
    install(oauth, "code-222", token="xoxb-t222", team_id="T222")
    gate = threading.Event()
    assert oauth.server.jobs.try_submit(gate.wait, 5)  # the only worker is busy
    try:
        event = mention_event("add a todo to buy milk", channel="C222")
        oauth.event(event, team_id="T222", enterprise_id=None,
                    authorizations=authorization("T222", None, False))  # fmt: skip
        body = load_payload("app_uninstalled")
        body.update(event_id=new_event_id(), enterprise_id=None, team_id="T222")
        oauth.post_signed(body).raise_for_status()
    finally:
        gate.set()
    oauth.settle()
    assert rows(oauth.store, "team_id", "T222") == {}
    assert oauth.fake.messages("C222") == []


def test_a_workspace_installing_again_starts_empty(oauth: LiveServer) -> None:
    install(oauth, "code-1", token="xoxb-old", team_id="T222")
    mention(oauth, "add a todo to buy milk", "T222")
    uninstall(oauth, "T222")
    install(oauth, "code-2", token="xoxb-new", team_id="T222")
    mention(oauth, "list my todos", "T222")
    assert whispered(oauth.fake, "C222") == "You have no open todos."
    assert {c.token for c in oauth.fake.calls("chat.postMessage")} >= {"xoxb-new"}


def test_uninstalling_an_org_wide_install_forgets_every_workspace_of_the_org(
    oauth: LiveServer,
) -> None:
    install(oauth, "code-org", token="xoxb-org", team_id=None, enterprise_id=ORG,
            enterprise_wide=True)  # fmt: skip
    install(oauth, "code-9", token="xoxb-t9", team_id="T9")
    for team in ("T501", "T502"):
        mention(oauth, "add a todo to buy milk", team, ORG, org_wide=True)
    mention(oauth, "add a todo to buy milk", "T9")

    uninstall(oauth, None, ORG)  # app_uninstalled.json as Slack sends it for an org

    assert rows(oauth.store, "enterprise_id", ORG) == {}
    assert todos(oauth, "T9") == ["buy milk"]
    oauth.fake.reset()
    mention(oauth, "list my todos", "T501", ORG, org_wide=True)
    assert oauth.fake.messages("C501") == []


def test_revoked_bot_token_is_deleted_and_the_org_no_longer_answered(oauth: LiveServer) -> None:
    install(oauth, "code-org", token="xoxb-org", team_id=None, enterprise_id=ORG,
            enterprise_wide=True)  # fmt: skip
    body = load_payload("tokens_revoked")
    body["event_id"] = new_event_id()
    oauth.post_signed(body).raise_for_status()
    oauth.settle()
    assert oauth.store.installations.find_bot(ORG, "") is None
    mention(oauth, "calculate 2+3", "T501", ORG, org_wide=True)
    assert oauth.fake.messages("C501") == []


# --------------------------------------------------------------- installs that go wrong


def nothing_installed(server: LiveServer) -> bool:
    with server.store.write() as conn:  # either backend
        return not any(
            conn.execute(f"SELECT 1 FROM {table}").fetchone()
            for table in ("slack_installations", "slack_bots")
        )


def test_a_denied_install_says_so_and_stores_nothing(oauth: LiveServer) -> None:
    state, cookie = begin(oauth)
    page = come_back(oauth, state, cookie, error="access_denied")
    assert page.status_code == 200 and "cancelled" in page.text
    assert "/slack/install" in page.text and nothing_installed(oauth)


@pytest.mark.parametrize("how", ["forged state", "no cookie", "unknown code"])
def test_a_bad_state_or_code_gets_a_clear_page_and_stores_nothing(
    oauth: LiveServer, how: str
) -> None:
    oauth.fake.installs.grant("code-222", token="xoxb-t222", team_id="T222")
    state, cookie = begin(oauth)
    if how == "forged state":
        state, cookie = "forged", {"Cookie": "slack-app-oauth-state=forged"}
    elif how == "no cookie":
        cookie = {}
    code = "never-granted" if how == "unknown code" else "code-222"
    page = come_back(oauth, state, cookie, code=code)
    assert page.status_code == 400 and "Nothing was installed" in page.text
    assert "expired" in page.text or "refused" in page.text
    assert nothing_installed(oauth)


def test_a_replayed_install_link_is_refused(oauth: LiveServer) -> None:
    oauth.fake.installs.grant("code-222", token="xoxb-t222", team_id="T222")
    state, cookie = begin(oauth)
    assert come_back(oauth, state, cookie, code="code-222").status_code == 200
    oauth.fake.installs.grant("code-again", token="xoxb-other", team_id="T222")
    replay = come_back(oauth, state, cookie, code="code-again")
    assert replay.status_code == 400 and "already used" in replay.text
    assert len(oauth.fake.calls("oauth.v2.access")) == 1
    assert "xoxb-t222" in (oauth.store.installations.find_bot("", "T222") or "")


def test_a_database_failure_during_the_install_is_a_page_not_a_500(
    oauth: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, cookie = begin(oauth)

    def broken(state: str) -> bool:
        raise RuntimeError("database is gone")

    monkeypatch.setattr(oauth.store.installations, "consume_state", broken)
    page = come_back(oauth, state, cookie, code="code-222")
    assert page.status_code == 503 and "Nothing was installed" in page.text


# ------------------------------------------------------------------------------- modes


def test_without_oauth_the_install_pages_do_not_exist(server: LiveServer) -> None:
    assert server.http.get("/slack/install").status_code == 404


def test_serve_refuses_both_modes_at_once_in_one_line(fake: FakeSlack, tmp_path: Path) -> None:
    settings = settings_for(fake, tmp_path, slack_client_id=CLIENT_ID,
                            slack_client_secret=CLIENT_SECRET)  # fmt: skip
    env = {**os.environ, "CRANE_DB": settings.db, "SLACK_BOT_TOKEN": "xoxb-1",
           "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET,
           "SLACK_SIGNING_SECRET": "s", "PORT": "0"}  # fmt: skip
    crane = str(Path(sys.executable).parent / "crane")  # the installed console script
    done = subprocess.run([crane, "serve"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("crane: SLACK_BOT_TOKEN and SLACK_CLIENT_ID")


def test_a_run_resumed_after_a_crash_reports_with_its_workspaces_token(
    start_server: Callable[..., LiveServer], fake: FakeSlack, tmp_path: Path
) -> None:
    from core.orchestrator import Orchestrator
    from core.plan import Plan, PlannedStep
    from core.runtime import Crane
    from tests.bot.test_slack_e2e import _gone_pid

    settings = settings_for(fake, tmp_path, slack_bot_token=None, slack_client_id=CLIENT_ID,
                            slack_client_secret=CLIENT_SECRET)  # fmt: skip
    store = Store(settings.db)
    bot = {"bot_token": "xoxb-t222", "bot_id": "BBOT", "bot_user_id": "UBOT", "team_id": "T222",
           "installed_at": 1_700_000_000.0}  # fmt: skip
    store.installations.save_bot("", "T222", False, json.dumps(bot))
    dead = (socket.gethostname(), _gone_pid(), "gone")  # a process of this host that is gone
    crane = Crane(store, lambda text, history: Plan(), Orchestrator(store, owner=dead))
    plan = Plan(steps=[PlannedStep(tool="calculator", args={"expression": "6*7"})])
    crane.start(Scope(team_id="T222", user_id="W111"), "calculate 6*7", plan, "C222:1.0")
    store.close()

    start_server(settings=settings)
    (reply,) = fake.wait_for("chat.postMessage")
    assert reply.token == "xoxb-t222" and reply.params["thread_ts"] == "1.0"
    assert "42" in reply.params["text"]


def test_uninstall_in_single_workspace_mode_deletes_the_workspaces_rows(server: LiveServer) -> None:
    mention(server, "add a todo to buy milk", "T111", "E111", channel="C111")
    assert todos(server, "T111", "E111") == ["buy milk"]
    uninstall(server, "T111", "E111")
    assert rows(server.store, "team_id", "T111") == {}
