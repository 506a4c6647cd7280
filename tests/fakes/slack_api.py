"""A fake Slack Web API: a real HTTP server on 127.0.0.1 that the real slack_sdk clients talk to.

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        client.chat_postMessage(channel="C111", text="hi")
        fake.wait_for("chat.postMessage")
        assert fake.messages("C111")[0].text == "hi"

Every request is recorded as a `Call` (failed ones too, with `failed=True`). Answers have the
shapes Slack documents (and slack_sdk reads); state that a user would see - posted, updated,
streamed and deleted messages - is kept in `messages()`. Failures are scripted per method with
`fail()`. `response_url(name)` gives a URL to pass as a slash command's / action's response_url;
POSTs to it are recorded as method "response_url".
"""

from __future__ import annotations

import asyncio
import copy
import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import responses as _reasons
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_limits import RateLimits
from tests.fakes.slack_oauth import ApiError, Installs

TEAM_ID = "T111"
TEAM_NAME = "Test"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_USER_NAME = "crane"
APP_ID = "A111"

# Params slack_sdk sends JSON-encoded inside form bodies (or a caller may pass as a str).
_JSON_PARAMS = ("blocks", "attachments", "chunks", "metadata", "user_auth_blocks", "prompts",
                "view")  # fmt: skip
_TS_START = 1_700_000_000_000_000  # microseconds; first ts is "1700000000.000100"
_TS_STEP = 100

ResponseSpec = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One recorded request."""

    method: str  # Web API method ("chat.postMessage") or "response_url"
    params: dict[str, Any]  # query + body params; JSON strings in blocks/attachments/chunks decoded
    headers: dict[str, str]
    token: str | None  # from "Authorization: Bearer ..." or a `token` param
    failed: bool = False  # answered by a scripted failure (see FakeSlack.fail)
    path: str = ""  # request path, e.g. "/api/chat.postMessage" or "/response/r1"
    http_method: str = "POST"
    body: bytes = b""
    status: int = 200  # HTTP status answered
    response: Any = None  # the JSON answered (dict) or the text body (str)
    at: float = 0.0  # time.monotonic() when it arrived
    retry_after: int | None = None  # the Retry-After answered with a 429


@dataclass
class Message:
    """A message as the user would see it now (after updates / streaming)."""

    channel: str
    ts: str
    thread_ts: str | None = None
    text: str = ""
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    metadata: Any = None
    user: str = BOT_USER_ID
    bot_id: str = BOT_ID
    edited: bool = False  # changed by chat.update
    streaming: bool = False  # started by chat.startStream and not yet stopped
    streamed: bool = False  # created by chat.startStream
    chunks: list[Any] = field(default_factory=list)  # every streamed chunk, in order

    def to_slack(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "text": self.text,
            "user": self.user,
            "bot_id": self.bot_id,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "ts": self.ts,
        }
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.blocks is not None:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments is not None:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.metadata is not None:
            out["metadata"] = copy.deepcopy(self.metadata)
        if self.edited:
            out["edited"] = {"user": self.user, "ts": self.ts}
        return out


@dataclass
class _Failure:
    error: str
    remaining: int
    status: int
    retry_after: int | None
    http_status: int | None


class _ApiError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeSlack:
    """Fake Slack Web API server. Use as a context manager or call start()/stop()."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ts_counter = _TS_START
        self._calls: list[Call] = []
        self._messages: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._home_views: dict[str, Any] = {}  # user → the Home tab view last published
        self._reactions: dict[tuple[str, str], list[str]] = {}
        # agent sessions: (channel, thread_ts) → title and every status set, in order
        self._sessions: dict[tuple[str, str], dict[str, Any]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._responses: dict[str, ResponseSpec] = {}
        self._delays: dict[str, float] = {}
        self.installs = Installs()  # oauth.v2.access, and auth.test per workspace token
        self.rate_limits = RateLimits()  # per method and token, see limit()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"FakeSlack:{server.server_address[1]}"
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """The server's address, http://127.0.0.1:PORT (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """Web API base URL for slack_sdk clients: "http://127.0.0.1:PORT/api/"."""
        return f"{self.root_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url; JSON POSTed to it is recorded as method "response_url"."""
        return f"{self.root_url}/response/{name}"

    def web_client(self, token: str = "xoxb-test", **kwargs: Any) -> WebClient:
        return WebClient(token=token, base_url=self.url, **kwargs)

    def async_web_client(self, token: str = "xoxb-test", **kwargs: Any) -> AsyncWebClient:
        return AsyncWebClient(token=token, base_url=self.url, **kwargs)

    # ------------------------------------------------------------------ scripting

    def fail(
        self,
        method: str,
        error: str = "ratelimited",
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        http_status: int | None = None,
    ) -> None:
        """The next `times` calls to `method` fail (queued after earlier fail() calls for it).

        They answer {"ok": false, "error": error} with HTTP `status` (default 200, or 429 with a
        `Retry-After: <retry_after or 0>` header for "ratelimited"). With `http_status` the answer
        is instead a plain-text (non-JSON) response with that status, e.g. 500. For
        method="response_url" the answer is the error as text with status
        http_status/status/404.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if status is None:
            status = 429 if error == "ratelimited" else 200
        if retry_after is None and status == 429:
            retry_after = 0
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(error, times, status, retry_after, http_status)
            )

    def limit(self, method: str, per_minute: int, minute_s: float = 60.0) -> None:
        """Enforce Slack's rate limit on `method` per token: `per_minute` calls a minute, a
        minute lasting `minute_s` real seconds (tests/fakes/slack_limits.py); past it, 429
        with Retry-After (recorded as failed calls with `retry_after`)."""
        with self._lock:
            self.rate_limits.limit(method, per_minute, minute_s)

    def set_response(self, method: str, response: ResponseSpec | None) -> None:
        """Answer `method` with this dict, or with response(params) if callable (None: default).

        Scripted failures still come first. The call is recorded as usual."""
        with self._lock:
            if response is None:
                self._responses.pop(method, None)
            else:
                self._responses[method] = response

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call to `method` `seconds` late (0: at once), like a slow Slack."""
        self._delays[method] = seconds

    def reset(self) -> None:
        """Forget calls, messages, reactions, ephemerals, scripted failures and responses.

        (The ts sequence keeps increasing, so ts values stay unique across resets.)"""
        with self._lock:
            self._calls.clear()
            self._messages.clear()
            self._ephemerals.clear()
            self._home_views.clear()
            self._reactions.clear()
            self._sessions.clear()
            self._failures.clear()
            self._responses.clear()

    # ------------------------------------------------------------------ inspection

    def end_streams(self) -> None:
        """End every stream still open, as Slack does after about five minutes: appending to
        one answers `message_not_in_streaming_state`."""
        with self._lock:
            for msg in self._messages.values():
                msg.streaming = False

    def session(self, channel: str, thread_ts: str) -> dict[str, Any] | None:
        """An agent session as Slack keeps it: {"title", "status", "statuses": every one set}."""
        with self._lock:
            found = self._sessions.get((channel, thread_ts))
            return copy.deepcopy(found) if found is not None else None

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until >= count calls to `method` (matching `predicate`) exist; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, count, timeout, found))
            time.sleep(0.01)

    async def wait_for_async(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """wait_for() that yields to the event loop (for tests whose app runs in the same loop)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, count, timeout, found))
            await asyncio.sleep(0.01)

    def messages(self, channel: str | None = None) -> list[Message]:
        """Current messages (copies), oldest first; deleted ones are gone."""
        with self._lock:
            msgs = [
                copy.deepcopy(m)
                for m in self._messages.values()
                if channel is None or m.channel == channel
            ]
        return sorted(msgs, key=lambda m: (float(m.ts), m.ts))

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            m = self._messages.get((channel, ts))
            return copy.deepcopy(m) if m is not None else None

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """chat.postEphemeral messages (channel, user, message_ts, thread_ts, text, blocks)."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if channel is None or e["channel"] == channel
            ]

    def home_view(self, user: str) -> Any:
        """The view last published (views.publish) as `user`'s Home tab, or None."""
        with self._lock:
            return copy.deepcopy(self._home_views.get(user))

    def reactions(self, channel: str, ts: str) -> list[str]:
        """Reaction names the bot currently has on (channel, ts)."""
        with self._lock:
            return list(self._reactions.get((channel, ts), []))

    def _matching(self, method: str, predicate: Callable[[Call], bool] | None) -> list[Call]:
        with self._lock:
            calls = [c for c in self._calls if c.method == method]
        return [c for c in calls if predicate is None or predicate(c)]

    def _timeout_message(self, method: str, count: int, timeout: float, found: list[Call]) -> str:
        lines = [
            f"FakeSlack: wanted {count} matching {method!r} call(s) within {timeout}s, "
            f"got {len(found)}. Recorded calls:"
        ]
        for c in self.calls():
            flag = " [failed]" if c.failed else ""
            lines.append(f"  {c.method}{flag} {json.dumps(c.params, default=str)[:500]}")
        if len(lines) == 1:
            lines.append("  (none)")
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP

    def _serve(self, req: _Handler) -> None:
        split = urlsplit(req.path)
        path = split.path
        body = _read_body(req)
        headers = dict(req.headers.items())
        if path.startswith("/api/") and len(path) > len("/api/"):
            method = path[len("/api/") :]
        elif path.startswith("/response/"):
            method = "response_url"
        else:
            _send(req, 404, "text/plain", b"not_found")
            return

        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        parse_error: str | None = None
        try:
            params.update(_parse_body(body, req.headers.get("Content-Type", "")))
        except ValueError:
            parse_error = "invalid_json"
        for key in _JSON_PARAMS:
            params[key] = _maybe_json(params[key]) if key in params else None
            if params[key] is None:
                del params[key]

        token: str | None = None
        auth = req.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[len("bearer ") :].strip()
        if "token" in params and method != "response_url":
            param_token = params.pop("token")
            token = token or (str(param_token) if param_token else None)

        time.sleep(self._delays.get(method, 0.0))  # outside the lock: other calls go on
        with self._lock:
            failed = False
            extra_headers: dict[str, str] = {}
            arrived = time.monotonic()
            failure = self._take_failure(method)
            retry_after = None
            if failure is None:
                channel = str(params.get("channel") or "")
                retry_after = self.rate_limits.check(token, method, channel, arrived)
                if retry_after is not None:
                    failure = _Failure("ratelimited", 1, 429, retry_after, None)
            if failure is not None:
                failed = True
                if method == "response_url" or failure.http_status is not None:
                    status = failure.http_status or (
                        failure.status if failure.status != 200 else 404
                    )
                    payload: Any = (
                        failure.error if method == "response_url" else _reasons.get(status, "Error")
                    )
                else:
                    status = failure.status
                    payload = {"ok": False, "error": failure.error}
                if failure.retry_after is not None:
                    extra_headers["Retry-After"] = str(failure.retry_after)
            elif method == "response_url":
                status, payload = 200, "ok"
            elif parse_error is not None:
                status, payload = 200, {"ok": False, "error": parse_error}
            elif method == "oauth.v2.access":  # client id and secret, no token
                status = 200
                try:
                    payload = self.installs.exchange(params, auth)
                except ApiError as e:
                    payload = {"ok": False, "error": e.error}
            elif token is None:
                status, payload = 200, {"ok": False, "error": "not_authed"}
            else:
                status = 200
                try:
                    payload = self._answer(method, params, token)
                except (_ApiError, ApiError) as e:
                    payload = {"ok": False, "error": e.error}
            self._calls.append(
                Call(
                    method=method,
                    params=params,
                    headers=headers,
                    token=token,
                    failed=failed,
                    path=path,
                    http_method=req.command,
                    body=body,
                    status=status,
                    response=copy.deepcopy(payload),
                    at=arrived,
                    retry_after=failure.retry_after if failure is not None else None,
                )
            )

        if isinstance(payload, str):
            _send(req, status, "text/plain; charset=utf-8", payload.encode(), extra_headers)
        else:
            data = json.dumps(payload).encode()
            _send(req, status, "application/json; charset=utf-8", data, extra_headers)

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    # ------------------------------------------------------------------ Web API methods

    def _next_ts(self) -> str:
        self._ts_counter += _TS_STEP
        return f"{self._ts_counter // 1_000_000}.{self._ts_counter % 1_000_000:06d}"

    def _answer(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        override = self._responses.get(method)
        if override is not None:
            result = override(copy.deepcopy(params)) if callable(override) else override
            return copy.deepcopy(result)
        if method == "auth.test":
            granted = self.installs.auth_test(token)
            if granted is not None:
                return granted
        elif token in self.installs.revoked:
            raise _ApiError("invalid_auth")
        handler = _METHODS.get(method)
        if handler is None:
            return {"ok": True}
        return handler(self, params)

    def _find(self, params: dict[str, Any]) -> Message:
        channel = _require(params, "channel", "channel_not_found")
        ts = _require(params, "ts", "message_not_found")
        msg = self._messages.get((channel, ts))
        if msg is None:
            raise _ApiError("message_not_found")
        return msg

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_USER_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = _require(params, "channel", "channel_not_found")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            raise _ApiError("no_text")
        msg = Message(
            channel=channel,
            ts=self._next_ts(),
            thread_ts=_str_or_none(params.get("thread_ts")),
            text=str(params.get("text") or ""),
            blocks=params.get("blocks"),
            attachments=params.get("attachments"),
            metadata=params.get("metadata"),
        )
        self._messages[(channel, msg.ts)] = msg
        return {"ok": True, "channel": channel, "ts": msg.ts, "message": msg.to_slack()}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(params)
        if "text" in params:
            msg.text = str(params["text"] or "")
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                setattr(msg, key, params[key])
        msg.edited = True
        return {
            "ok": True,
            "channel": msg.channel,
            "ts": msg.ts,
            "text": msg.text,
            "message": msg.to_slack(),
        }

    def _delete(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(params)
        del self._messages[(msg.channel, msg.ts)]
        return {"ok": True, "channel": msg.channel, "ts": msg.ts}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = _require(params, "channel", "channel_not_found")
        user = _require(params, "user", "user_not_in_channel")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            raise _ApiError("no_text")
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "message_ts": ts,
                "thread_ts": _str_or_none(params.get("thread_ts")),
                "text": str(params.get("text") or ""),
                "blocks": params.get("blocks"),
            }
        )
        return {"ok": True, "message_ts": ts}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = _require(params, "user_id", "invalid_arguments")
        view = params.get("view")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise _ApiError("invalid_arguments")
        if len(view.get("blocks") or []) > 100:
            raise _ApiError("invalid_blocks")
        self._home_views[user] = view
        return {"ok": True, "view": {"id": f"V{user}", "type": "home", **view}}

    def _start_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = _require(params, "channel", "channel_not_found")
        msg = Message(
            channel=channel,
            ts=self._next_ts(),
            thread_ts=_str_or_none(params.get("thread_ts")),
            streaming=True,
            streamed=True,
        )
        _append_stream(msg, params)
        self._messages[(channel, msg.ts)] = msg
        return {"ok": True, "channel": channel, "ts": msg.ts}

    def _append_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(params)
        if not msg.streaming:
            raise _ApiError("message_not_in_streaming_state")
        _append_stream(msg, params)
        return {"ok": True, "channel": msg.channel, "ts": msg.ts}

    def _stop_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(params)
        if not msg.streaming:
            raise _ApiError("message_not_in_streaming_state")
        _append_stream(msg, params)
        if params.get("blocks") is not None:
            msg.blocks = params["blocks"]
        if params.get("metadata") is not None:
            msg.metadata = params["metadata"]
        msg.streaming = False
        return {"ok": True, "channel": msg.channel, "ts": msg.ts, "message": msg.to_slack()}

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = _require(params, "channel", "channel_not_found")
        ts = _require(params, "timestamp", "no_item_specified")
        name = _require(params, "name", "invalid_name")
        names = self._reactions.setdefault((channel, ts), [])
        if name in names:
            raise _ApiError("already_reacted")
        names.append(name)
        return {"ok": True}

    def _reactions_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = _require(params, "channel", "channel_not_found")
        ts = _require(params, "timestamp", "no_item_specified")
        name = _require(params, "name", "invalid_name")
        names = self._reactions.get((channel, ts), [])
        if name not in names:
            raise _ApiError("no_reaction")
        names.remove(name)
        return {"ok": True}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = _require(params, "channel", "channel_not_found")
        is_im = channel.startswith("D")
        info: dict[str, Any] = {
            "id": channel,
            "name": f"channel-{channel.lower()}",
            "is_channel": not is_im and not channel.startswith("G"),
            "is_group": channel.startswith("G"),
            "is_im": is_im,
            "is_mpim": False,
            "is_private": channel.startswith("G") or is_im,
            "is_archived": False,
            "is_general": False,
            "is_member": True,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": TEAM_ID,
            "created": 1_600_000_000,
            "creator": "W111",
        }
        if is_im:
            del info["name"]
            info["user"] = "W111"
        return {"ok": True, "channel": info}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = _require(params, "user", "user_not_found")
        is_bot = user == BOT_USER_ID
        name = BOT_USER_NAME if is_bot else f"user-{user.lower()}"
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": name.title(),
                "deleted": False,
                "is_bot": is_bot,
                "is_admin": False,
                "is_owner": False,
                "tz": "UTC",
                "tz_label": "Coordinated Universal Time",
                "tz_offset": 0,
                "profile": {
                    "real_name": name.title(),
                    "display_name": name,
                    "team": TEAM_ID,
                    **({"bot_id": BOT_ID} if is_bot else {}),
                },
            },
        }


def _set_session_status(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """agents.sessions.setStatus: creates the session (its title then, never after)."""
    channel = _require(params, "channel_id", "channel_not_found")
    status = _require(params, "status", "invalid_arguments")
    if status not in ("active", "processing", "suspended", "closed"):
        raise _ApiError("invalid_status")
    key = (channel, str(params.get("thread_ts") or ""))
    session = fake._sessions.setdefault(key, {"title": params.get("title"), "statuses": []})
    session["status"] = status
    session["statuses"].append(status)
    return {"ok": True, "status": status, "title": session["title"]}


def _replies(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """conversations.replies: a thread's messages, oldest first; their metadata only when
    asked for (`include_all_metadata`), as Slack does."""
    channel = _require(params, "channel", "channel_not_found")
    root = _require(params, "ts", "thread_not_found")
    thread = sorted((m for (c, _), m in fake._messages.items()
                     if c == channel and (m.ts == root or m.thread_ts == root)),
                    key=lambda m: float(m.ts))  # fmt: skip
    with_metadata = str(params.get("include_all_metadata")).lower() in ("true", "1")
    messages = []
    for msg in thread:
        shown = msg.to_slack()
        # Slack answers every message with blocks: a text-only one gets its text as rich text
        shown.setdefault(
            "blocks",
            [
                {
                    "type": "rich_text",
                    "elements": [
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "text", "text": msg.text}],
                        }
                    ],
                }
            ],
        )
        if not with_metadata:
            shown.pop("metadata", None)
        messages.append(shown)
    return {"ok": True, "messages": messages, "has_more": False}


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "agents.sessions.setStatus": _set_session_status,
    "conversations.replies": _replies,
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.delete": FakeSlack._delete,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "views.publish": FakeSlack._views_publish,
    "chat.startStream": FakeSlack._start_stream,
    "chat.appendStream": FakeSlack._append_stream,
    "chat.stopStream": FakeSlack._stop_stream,
    "reactions.add": FakeSlack._reactions_add,
    "reactions.remove": FakeSlack._reactions_remove,
    "conversations.info": FakeSlack._conversations_info,
    "users.info": FakeSlack._users_info,
}


# ---------------------------------------------------------------------- helpers


def _append_stream(msg: Message, params: dict[str, Any]) -> None:
    """Streamed text = markdown_text + every markdown_text chunk's text, in order."""
    if params.get("markdown_text"):
        msg.text += str(params["markdown_text"])
    chunks = params.get("chunks")
    if isinstance(chunks, list):
        for chunk in chunks:
            msg.chunks.append(chunk)
            if isinstance(chunk, dict) and chunk.get("type") == "markdown_text":
                msg.text += str(chunk.get("text") or "")


def _require(params: dict[str, Any], key: str, error: str) -> str:
    value = params.get(key)
    if value is None or value == "":
        raise _ApiError(error)
    return str(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _read_body(req: BaseHTTPRequestHandler) -> bytes:
    length = req.headers.get("Content-Length")
    if length is not None:
        return req.rfile.read(int(length))
    if req.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = bytearray()
        while True:
            size = int(req.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while req.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += req.rfile.read(size)
            req.rfile.readline()
    return b""


def _parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Form, JSON or multipart body -> params. Raises ValueError on a malformed JSON body."""
    if not body:
        return {}
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json":
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body is not an object")
        return data
    if ctype == "multipart/form-data":
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        out: dict[str, Any] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                payload = b""
            if part.get_filename():
                out[str(name)] = payload
            else:
                out[str(name)] = payload.decode("utf-8", "replace")
        return out
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _send(
    req: BaseHTTPRequestHandler,
    status: int,
    content_type: str,
    data: bytes,
    extra_headers: dict[str, str] | None = None,
) -> None:
    req.send_response(status)
    req.send_header("Content-Type", content_type)
    req.send_header("Content-Length", str(len(data)))
    for k, v in (extra_headers or {}).items():
        req.send_header(k, v)
    req.end_headers()
    if req.command != "HEAD":
        req.wfile.write(data)


__all__ = ["BOT_ID", "BOT_USER_ID", "TEAM_ID", "Call", "FakeSlack", "Message"]
