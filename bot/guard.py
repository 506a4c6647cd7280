"""Front guard for POST /slack/events, before Bolt reads a byte.

Order: method (405) → credentials configured (503) → declared size (413) → signature headers
present and fresh (401) → body read with a cap (413) → signature valid (401) → content type,
UTF-8 and JSON/form shape (400). A rejected request stores and posts nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_CLOCK_SKEW_S = 300


async def _answer(send: Send, status: int, message: str, extra: list[Any] | None = None) -> None:
    body = json.dumps({"ok": False, "error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class SlackGuard:
    def __init__(
        self,
        app: ASGIApp | None,
        signing_secret: str | None,
        max_body_bytes: int,
        missing: list[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.secret = (signing_secret or "").encode()
        self.max_body = max_body_bytes
        self.missing = missing
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            return await _answer(send, 405, "method not allowed", [(b"allow", b"POST")])
        if self.missing or self.app is None:
            return await _answer(
                send, 503, "Slack is not configured: set " + ", ".join(self.missing)
            )
        headers = _headers(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return await _answer(send, 413, "request body too large")
        stamp, signature = (
            headers.get("x-slack-request-timestamp", ""),
            headers.get("x-slack-signature", ""),
        )
        if not stamp.isdigit() or not signature.startswith("v0=") or len(signature) != 67:
            return await _answer(send, 401, "missing or malformed Slack signature headers")
        if abs(self.clock() - int(stamp)) > MAX_CLOCK_SKEW_S:
            return await _answer(send, 401, "stale request timestamp")
        body = await self._read(receive)
        if body is None:
            return await _answer(send, 413, "request body too large")
        expected = (
            "v0="
            + hmac.new(
                self.secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(expected, signature):
            return await _answer(send, 401, "invalid Slack signature")
        problem = _shape_problem(headers.get("content-type", ""), body)
        if problem:
            return await _answer(send, 400, problem)
        await self.app(scope, _replay(body), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)


def _shape_problem(content_type: str, body: bytes) -> str | None:
    if not body:
        return "empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not valid UTF-8"
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return "body is not valid JSON"
        if not isinstance(parsed, dict):
            return "JSON body must be an object"
        if parsed.get("type") == "event_callback" and not isinstance(parsed.get("event"), dict):
            return "event_callback without an event object"
        return None
    if kind == "application/x-www-form-urlencoded":
        form = parse_qs(text, keep_blank_values=True)
        if "payload" in form:
            try:
                parsed = json.loads(form["payload"][0])
            except (ValueError, RecursionError):
                return "payload is not valid JSON"
            return None if isinstance(parsed, dict) else "payload must be a JSON object"
        return None if form else "empty form body"
    return f"unsupported content type {kind or '(none)'!r}"


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
