"""Structured JSON logs with a request id (X-Request-ID honoured and echoed); no secrets."""

from __future__ import annotations

import atexit
import copy
import json
import logging
import logging.handlers
import queue
import random
import re
import time
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import tracing

request_id: ContextVar[str] = ContextVar("request_id", default="")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
log = logging.getLogger("crane.http")
_encode = json.JSONEncoder(default=str).encode


class JsonFormatter(logging.Formatter):
    _second, _time = -1, ""  # the last formatted second: one line per request, many a second

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._time = second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        entry: dict[str, Any] = {
            "time": self._time,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if "run_id" in entry and "trace_id" not in entry and (trace_id := tracing.log_trace_id()):
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _encode(entry)


class _Handoff(logging.handlers.QueueHandler):
    """Hands each record to the logging thread, with what only the thread that logged it
    knows: its message, and its request and trace ids (context variables)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        record.msg, record.args = record.getMessage(), None
        rid = request_id.get()
        if rid and "request_id" not in record.__dict__:
            record.request_id = rid
        if "run_id" in record.__dict__ and "trace_id" not in record.__dict__:
            trace_id = tracing.log_trace_id()
            if trace_id:
                record.trace_id = trace_id
        return record


_listener: logging.handlers.QueueListener | None = None


def configure() -> None:
    """JSON lines on stderr, formatted and written by a thread of their own: a request's line
    costs the event loop a queue put, not a JSON encoding and a write to a pipe."""
    global _listener
    if _listener is None:
        atexit.register(_stop)  # every line queued is written before the process ends
    _stop()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = logging.handlers.QueueListener(lines, handler)
    _listener.start()
    logging.basicConfig(level=logging.INFO, handlers=[_Handoff(lines)], force=True)
    logging.getLogger("uvicorn.access").disabled = True  # ours carries the request id


def _stop() -> None:
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


def _fresh_id() -> str:
    """A request id nobody sent: 16 hex digits (an id to find log lines by, not a secret)."""
    return f"{random.getrandbits(64):016x}"


def _log_request(method: str, path: str, status: int, started: float) -> None:
    """The request's log line, without logging's search for the calling source line."""
    if log.isEnabledFor(logging.INFO):
        duration = round((time.perf_counter() - started) * 1000, 3)
        extra = {"method": method, "path": path, "status": status, "duration_ms": duration}
        record = log.makeRecord(
            log.name, logging.INFO, __file__, 0, "request", (), None, extra=extra
        )
        log.handle(record)


class RequestIds:
    """ASGI middleware: one id per request, in every log line and in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = ""
        for name, value in scope["headers"]:
            if len(name) == 12 and name.lower() == b"x-request-id":
                given = value.decode("latin-1")
                rid = given if _SAFE_ID.match(given) else ""
                break
        rid = rid or _fresh_id()
        echoed = (b"x-request-id", rid.encode())
        token = request_id.set(rid)
        started, status = time.perf_counter(), 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), echoed]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _log_request(scope["method"], scope["path"], status, started)
            request_id.reset(token)
