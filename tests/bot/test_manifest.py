"""manifest.yml says what the code does: its command and events have listeners (and every
listener is in it), and its scopes are exactly what the events and Web API calls need."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from slack_bolt.async_app import AsyncApp, AsyncAssistant

from bot.oauth import BOT_SCOPES
from server import create
from tests.bot.conftest import LiveServer, mention_event, message_event, settings_for
from tests.fakes.signing import load_payload
from tests.fakes.slack_api import FakeSlack

yaml = pytest.importorskip("yaml", reason="PyYAML reads manifest.yml")

ROOT = Path(__file__).resolve().parents[2]
MANIFEST: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
SCHEMA = ROOT.parent / "shared" / "slack_manifest_schema" / "manifest.schema.2.0.0.json"

# The scope each bot event subscription needs (docs.slack.dev/reference/events); None: none.
EVENT_SCOPES: dict[str, str | None] = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "assistant_thread_started": "assistant:write",
    "assistant_thread_context_changed": "assistant:write",
    "agent_session_stopped": "assistant:write",
    "app_home_opened": None,
    "app_uninstalled": None,
    "tokens_revoked": None,
}
# The scope each Web API method needs (docs.slack.dev/reference/methods); None: no scope.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.startStream": "chat:write",
    "chat.appendStream": "chat:write",
    "chat.stopStream": "chat:write",
    "assistant.threads.setStatus": "assistant:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "agents.sessions.setStatus": "chat:write",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "conversations.replies": "im:history",  # Bolt's Assistant thread context store, in DMs
    "views.publish": None,
}
# Bolt helpers and slack_sdk wrappers → the Web API methods they call.
HELPERS = {
    "say": ["chat.postMessage"],
    "set_status": ["assistant.threads.setStatus"],
    "set_suggested_prompts": ["assistant.threads.setSuggestedPrompts"],
    "set_title": ["assistant.threads.setTitle"],
    "chat_stream": ["chat.startStream", "chat.appendStream", "chat.stopStream"],
}
# What Bolt's Assistant middleware listens to when an app uses one.
ASSISTANT_EVENTS = {"assistant_thread_started", "assistant_thread_context_changed", "message"}


def manifest_events() -> list[str]:
    return list(MANIFEST["settings"]["event_subscriptions"]["bot_events"])


def manifest_scopes() -> set[str]:
    return set(MANIFEST["oauth_config"]["scopes"]["bot"])


def registered(
    monkeypatch: pytest.MonkeyPatch, fake: FakeSlack, tmp_path: Path
) -> tuple[set[str], set[str], set[str]]:
    """The commands, event types and action ids the app registers listeners for, as build_app
    registers them."""
    commands: set[str] = set()
    events: set[str] = set()
    actions: set[str] = set()

    def recording(name: str, record: Callable[[Any], None]) -> None:
        original = getattr(AsyncApp, name)

        def wrapper(self: AsyncApp, *args: Any, **kwargs: Any) -> Any:
            record(args[0])
            return original(self, *args, **kwargs)

        monkeypatch.setattr(AsyncApp, name, wrapper)

    def event(kind: Any) -> None:
        if isinstance(kind, str):
            events.add(kind)
        elif isinstance(kind, dict):
            events.add(kind["type"])
        # a compiled pattern is the catch-all that acknowledges everything else

    def middleware(value: Any) -> None:
        if isinstance(value, AsyncAssistant):
            events.update(ASSISTANT_EVENTS)

    recording("command", commands.add)
    recording("event", event)
    recording("use", middleware)
    recording("action", actions.add)
    server = create(settings_for(fake, tmp_path))
    assert server.bolt is not None
    return commands, events, actions


def test_every_manifest_command_and_event_has_a_listener_and_vice_versa(
    monkeypatch: pytest.MonkeyPatch, fake: FakeSlack, tmp_path: Path
) -> None:
    commands, events, actions = registered(monkeypatch, fake, tmp_path)
    # buttons need interactivity, and every button Crane shows has a listener
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert actions == {"crane_approve", "crane_cancel", "crane_skip", "crane_stop",
                       "crane_feedback", "crane_todo_done"}  # fmt: skip
    # the Home tab is published when opened
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in events
    in_manifest = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert in_manifest == commands == {"/crane"}
    subscribed = {name.split(".")[0] for name in manifest_events()}
    assert subscribed == events
    # thread follow-ups in public and private channels, and DMs
    assert {"message.channels", "message.groups", "message.im"} <= set(manifest_events())


def test_requests_go_to_the_one_events_endpoint() -> None:
    urls = [c["url"] for c in MANIFEST["features"]["slash_commands"]]
    urls.append(MANIFEST["settings"]["event_subscriptions"]["request_url"])
    urls.append(MANIFEST["settings"]["interactivity"]["request_url"])
    assert all(url.endswith("/slack/events") for url in urls)
    assert all(c.get("usage_hint") for c in MANIFEST["features"]["slash_commands"])
    assert isinstance(MANIFEST["settings"]["socket_mode_enabled"], bool)


def test_dms_and_the_assistant_pane_are_enabled() -> None:
    home = MANIFEST["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is False
    # Slack's agent surface; assistant_view is deprecated (the Assistant pane keeps working)
    assert MANIFEST["features"]["agent_view"]["agent_description"]
    assert "assistant_view" not in MANIFEST["features"]
    assert MANIFEST["features"]["bot_user"]["display_name"]


def methods_in_source() -> set[str]:
    """Web API methods the bot's code calls by name (client.chat_update(...), say(...), …)."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for helper, methods in HELPERS.items():
            if re.search(rf"\b{helper}\(", source):
                found.update(methods)
        for name in re.findall(r"\bclient\.([a-z]+(?:_[a-zA-Z]+)+)\(", source):
            if name not in HELPERS:
                found.add(name.replace("_", "."))
    return found


def methods_called(server: LiveServer) -> set[str]:
    """Web API methods a tour of every feature actually calls."""
    server.command("calculate 2+3")
    server.command("complete todo 9")
    server.event(mention_event("add a todo to buy milk"))
    server.event(message_event("list my todos", channel="D111", channel_type="im"))
    server.event(load_payload("assistant_thread_started"))
    server.event(load_payload("assistant_user_message"))
    changed = load_payload("assistant_thread_started")
    changed["type"] = "assistant_thread_context_changed"
    server.event(changed)
    server.fake.fail("chat.postMessage", "channel_not_found")
    server.command("calculate 1+1")
    server.settle()
    home = load_payload("app_home_opened") | {"tab": "home"}
    server.event(home)
    server.settle()
    return {call.method for call in server.fake.calls()} - {"response_url"}


def test_scopes_are_exactly_what_the_events_and_api_calls_need(server: LiveServer) -> None:
    methods = methods_in_source() | methods_called(server)
    unknown = methods - METHOD_SCOPES.keys()
    assert not unknown, f"add the scope these methods need to METHOD_SCOPES: {unknown}"
    needed = {METHOD_SCOPES[m] for m in methods} - {None}
    needed |= {EVENT_SCOPES[event] for event in manifest_events()} - {None}
    needed |= {"commands"} if MANIFEST["features"].get("slash_commands") else set()
    assert manifest_scopes() == needed
    assert set(BOT_SCOPES) == needed  # what an OAuth install asks each workspace for


def test_the_manifest_is_valid_for_slack() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(MANIFEST, schema)


def test_oauth_comes_back_to_the_redirect_endpoint_and_tokens_do_not_rotate() -> None:
    (url,) = MANIFEST["oauth_config"]["redirect_urls"]
    assert url.endswith("/slack/oauth_redirect")
    assert (
        url.split("/slack/")[0]
        == MANIFEST["settings"]["event_subscriptions"]["request_url"].split("/slack/")[0]
    )
    # rotation cannot be turned off again in Slack and would expire SLACK_BOT_TOKEN in 12 h
    assert MANIFEST["settings"]["token_rotation_enabled"] is False
    assert {"app_uninstalled", "tokens_revoked"} <= set(manifest_events())


def test_the_schema_check_catches_a_misspelt_setting() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(MANIFEST))
    broken["settings"]["interactivity"]["is_enabeld"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
