"""The front guard on POST /slack/events, over real HTTP: hostile or broken requests are
answered 4xx before Bolt parses anything, and nothing is stored or posted for them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.bot.conftest import SECRET, LiveServer, mention_event
from tests.fakes.signing import event_body, signed_headers

MIB = 1024 * 1024
BODY = event_body(mention_event("add a todo to buy milk"))

Send = Callable[[LiveServer], httpx.Response]


def post(
    body: bytes,
    headers: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
    age: int | None = None,
) -> Send:
    """A POST of `body`, signed properly unless told otherwise; `age`: signed that many
    seconds before it is sent (negative: ahead), timed when sent, not when the case was made."""

    def send(server: LiveServer) -> httpx.Response:
        timestamp = None if age is None else int(time.time()) - age
        sent = signed_headers(body, SECRET, timestamp) | (headers or {})
        for name in drop:
            del sent[name]
        return server.http.post("/slack/events", content=body, headers=sent)

    return send


def chunked(total: int) -> Send:
    """A streamed (Transfer-Encoding: chunked) body with no Content-Length."""

    def send(server: LiveServer) -> httpx.Response:
        body = b"{" + b" " * (total - 2) + b"}"

        def pieces() -> Iterator[bytes]:
            for start in range(0, total, 64 * 1024):
                yield body[start : start + 64 * 1024]

        response = server.http.post(
            "/slack/events", content=pieces(), headers=signed_headers(body, SECRET)
        )
        assert "content-length" not in response.request.headers
        return response

    return send


def method(name: str) -> Send:
    return lambda server: server.http.request(name, "/slack/events")


BAD_SIGNATURE = "v0=" + "0" * 64

CASES: dict[str, tuple[Send, int]] = {
    "GET": (method("GET"), 405),
    "PUT": (method("PUT"), 405),
    "body over 1 MiB (Content-Length)": (post(b"{" + b" " * MIB + b"}"), 413),
    "body over 1 MiB (chunked)": (chunked(MIB + 64 * 1024), 413),
    "no timestamp": (post(BODY, drop=("X-Slack-Request-Timestamp",)), 401),
    "malformed timestamp": (post(BODY, {"X-Slack-Request-Timestamp": "yesterday"}), 401),
    "no signature": (post(BODY, drop=("X-Slack-Signature",)), 401),
    "malformed signature": (post(BODY, {"X-Slack-Signature": "v0=abc"}), 401),
    "timestamp 6 minutes old": (post(BODY, age=360), 401),
    "timestamp 6 minutes ahead": (post(BODY, age=-360), 401),
    "bad signature": (post(BODY, {"X-Slack-Signature": BAD_SIGNATURE}), 401),
    "invalid UTF-8": (post(b'{"type": "event_callback", "x": "\xff\xfe"}'), 400),
    "invalid JSON": (post(b'{"type": "event_callback",'), 400),
    "JSON that is not an object": (post(b"[1, 2, 3]", {"Content-Type": "application/json"}), 400),
    "wrong content type": (post(BODY, {"Content-Type": "text/plain"}), 400),
    "empty body": (post(b"", {"Content-Type": "application/json"}), 400),
    "form with invalid payload JSON": (post(b"payload=%7Bnot-json"), 400),
    "JSON nested too deep": (post(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), 400),
    "event_callback whose event is not an object": (
        post(b'{"type": "event_callback", "team_id": "T111", "event": "message"}'),
        400,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rejected_requests_store_and_post_nothing(server: LiveServer, case: str) -> None:
    send, status = CASES[case]
    response = send(server)
    assert response.status_code == status, response.text
    assert response.json()["ok"] is False and response.json()["error"]
    server.settle()
    assert server.fake.calls() == []
    assert server.runs() == []


def test_a_rejected_request_leaves_the_server_serving(server: LiveServer) -> None:
    assert post(BODY, {"X-Slack-Signature": BAD_SIGNATURE})(server).status_code == 401
    assert post(BODY)(server).status_code == 200
    server.settle()
    assert server.fake.messages() and len(server.runs()) == 1


def test_a_properly_signed_request_within_five_minutes_is_accepted(server: LiveServer) -> None:
    response = post(BODY, age=240)(server)
    assert response.status_code == 200
    server.settle()
    assert len(server.runs()) == 1


def _errors(response: httpx.Response) -> Any:
    return json.loads(response.text)["error"]


def test_401_and_413_say_what_is_wrong(server: LiveServer) -> None:
    assert "stale" in _errors(post(BODY, age=360)(server))
    assert "too large" in _errors(post(b"{" + b" " * MIB + b"}")(server))
