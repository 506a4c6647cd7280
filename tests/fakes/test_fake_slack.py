"""Self-test of the fake Slack API and the signing helpers, driven by the real slack_sdk."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from tests.fakes.signing import event_body, load_payload, signed_headers, slash_command_body
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


def test_post_then_update_is_what_the_user_sees(fake: FakeSlack) -> None:
    client = fake.web_client()
    assert fake.url.endswith("/api/")
    assert client.auth_test()["user_id"] == "UBOT"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "working…"}}]
    posted = client.chat_postMessage(
        channel="C111", thread_ts="1610261659.001400", text="working", blocks=blocks
    )
    assert posted["message"]["thread_ts"] == "1610261659.001400"
    client.chat_update(channel="C111", ts=posted["ts"], text="done", blocks=[])
    second = client.chat_postMessage(channel="C111", text="more")
    assert float(second["ts"]) > float(posted["ts"])

    first = fake.messages("C111")[0]
    assert (first.ts, first.text, first.blocks, first.edited) == (posted["ts"], "done", [], True)
    post = fake.wait_for("chat.postMessage", count=2)[0]
    assert post.params["blocks"] == blocks and post.token == "xoxb-test"
    with pytest.raises(SlackApiError) as e:
        client.chat_update(channel="C111", ts="1.000000", text="x")
    assert e.value.response["error"] == "message_not_found"


def test_form_encoded_params_are_decoded(fake: FakeSlack) -> None:
    fake.web_client().api_call(
        "chat.scheduleMessage",
        params={"channel": "C1", "blocks": json.dumps([{"type": "divider"}])},
    )
    (call,) = fake.calls("chat.scheduleMessage")
    assert call.params == {"channel": "C1", "blocks": [{"type": "divider"}]}


def test_ratelimited_is_retried(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", "ratelimited", retry_after=0)
    client = fake.web_client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert client.chat_postMessage(channel="C111", text="hi")["ok"]
    first, second = fake.calls("chat.postMessage")
    assert (first.failed, first.status, second.failed) == (True, 429, False)
    assert len(fake.messages()) == 1


def test_not_in_channel_surfaces(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackApiError) as e:
        fake.web_client().chat_postMessage(channel="C222", text="hi")
    assert e.value.response["error"] == "not_in_channel"
    assert fake.messages() == []


def test_chat_stream_helper(fake: FakeSlack) -> None:
    stream = fake.web_client().chat_stream(
        channel="C111",
        thread_ts="1610261659.001400",
        recipient_team_id="T111",
        recipient_user_id="W111",
        buffer_size=5,
    )
    stream.append(markdown_text="Hello")
    stream.append(markdown_text=", wor")
    stream.append(markdown_text="ld")
    stream.stop(blocks=[{"type": "divider"}])
    assert [c.method for c in fake.calls()] == [
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
    ]
    (msg,) = fake.messages("C111")
    assert (msg.ts, msg.text, msg.streaming) == (stream.ts, "Hello, world", False)
    assert msg.blocks == [{"type": "divider"}]


def test_async_client(fake: FakeSlack) -> None:
    async def run() -> None:
        client = fake.async_web_client()
        info = await client.users_info(user="W111")  # GET with query params
        assert info["user"]["id"] == "W111"
        await client.reactions_add(channel="C111", timestamp="1.000100", name="eyes")

    asyncio.run(run())
    assert fake.reactions("C111", "1.000100") == ["eyes"]


def test_response_url_records_json(fake: FakeSlack) -> None:
    req = urllib.request.Request(
        fake.response_url("r1"),
        data=json.dumps({"text": "hi", "response_type": "ephemeral"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert (resp.status, resp.read()) == (200, b"ok")
    (call,) = fake.wait_for("response_url")
    assert call.params == {"text": "hi", "response_type": "ephemeral"}
    assert call.path == "/response/r1"


def test_wait_for_timeout_lists_calls(fake: FakeSlack) -> None:
    fake.web_client().auth_test()
    with pytest.raises(AssertionError, match=r"auth\.test"):
        fake.wait_for("chat.postMessage", timeout=0.05)


def test_signed_bodies_verify() -> None:
    verifier = SignatureVerifier("s3cret")
    body = slash_command_body(text="add milk")
    headers = signed_headers(body, "s3cret")
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"x", headers)
    assert not verifier.is_valid_request(
        body, signed_headers(body, "s3cret", int(time.time()) - 600)
    )
    form = parse_qs(body.decode())
    assert (form["command"], form["text"]) == (["/crane"], ["add milk"])

    event = load_payload("app_mention")
    one, two = json.loads(event_body(event)), json.loads(event_body(event))
    assert one["event"] == event and one["team_id"] == "T111"
    assert one["event_id"] != two["event_id"]
    raw = event_body(event, event_id="Ev1")
    assert json.loads(raw)["event_id"] == "Ev1"
    assert verifier.is_valid_request(raw, signed_headers(raw, "s3cret"))


def test_limit_answers_429_with_retry_after_per_token_and_method(fake: FakeSlack) -> None:
    fake.limit("chat.update", 8, minute_s=60.0)  # a bucket of two calls, refilled slowly
    client, other = fake.web_client(), fake.web_client(token="xoxb-other")
    ts = client.chat_postMessage(channel="C111", text="hi")["ts"]
    client.chat_update(channel="C111", ts=ts, text="1")
    client.chat_update(channel="C111", ts=ts, text="2")
    with pytest.raises(SlackApiError) as refused:
        client.chat_update(channel="C111", ts=ts, text="3")
    assert refused.value.response.status_code == 429
    assert int(refused.value.response.headers["Retry-After"]) >= 1
    other.chat_update(channel="C111", ts=ts, text="4")  # another workspace: its own limit
    client.chat_postMessage(channel="C111", text="still")  # another method: not limited
    last = fake.calls("chat.update")[2]
    assert last.status == 429 and last.failed and last.retry_after is not None
    assert fake.message("C111", ts).text == "4"  # type: ignore[union-attr]
