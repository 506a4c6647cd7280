"""A real local OpenAI-compatible server for tests: POST /v1/chat/completions, scripted answers.

    with FakeOpenAI() as server:                    # 127.0.0.1, a free port, a daemon thread
        server.script(error(500), plan([calc("2+3")]))   # answered in order, then `default`
        OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        server.requests                            # every request body received, in order

A reply is a `Reply` or a function of the request body returning one (`rejects_json_schema`).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "gpt-4o-mini-2024-07-18"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering: a slow server, i.e. a client timeout


Responder = Callable[[dict[str, Any]], Reply]


def completion(
    content: str | None = None,
    *,
    refusal: str | None = None,
    model: str = MODEL,
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    cached_tokens: int = 0,
) -> Reply:
    """A 200 chat completion with one choice."""
    message = {"role": "assistant", "content": content, "refusal": refusal}
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens},
    }
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [choice],
        "usage": usage,
    }
    return Reply(body=body)


def step(tool: str, **args: Any) -> dict[str, Any]:
    return {"tool": tool, "args": args}


def plan(steps: list[dict[str, Any]], answer: str | None = None, **usage: Any) -> Reply:
    """A completion whose content is a plan in Crane's response schema."""
    return completion(json.dumps({"steps": steps, "answer": answer}), **usage)


def refusal(text: str, **usage: Any) -> Reply:
    return completion(None, refusal=text, **usage)


def error(status: int, message: str, *, headers: dict[str, str] | None = None) -> Reply:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return Reply(status=status, body=body, headers=headers or {})


def rate_limited(retry_after: str = "1") -> Reply:
    return error(429, "Rate limit reached for requests", headers={"retry-after": retry_after})


def slow(seconds: float, then: Reply) -> Reply:
    return replace(then, delay_s=seconds)


def rejects_json_schema(then: Reply | Responder, *, json_mode: bool = True) -> Responder:
    """A server without strict structured outputs (and, if not `json_mode`, no JSON mode)."""

    def respond(body: dict[str, Any]) -> Reply:
        kind = (body.get("response_format") or {}).get("type")
        if kind == "json_schema" or (kind == "json_object" and not json_mode):
            return error(400, f"response_format type {kind!r} is not supported by this server")
        return then(body) if callable(then) else then

    return respond


class FakeOpenAI:
    def __init__(self, default: Reply | Responder | None = None) -> None:
        self.default: Reply | Responder = default or error(500, "no scripted answer left")
        self.requests: list[dict[str, Any]] = []
        self._script: deque[Reply | Responder] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *replies: Reply | Responder) -> None:
        """Answer the next requests with these, in order; afterwards with `default`."""
        with self._lock:
            self._script.extend(replies)

    def messages(self, index: int = -1) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.requests[index]["messages"]
        return messages

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            chosen = self._script.popleft() if self._script else self.default
        return chosen(body) if callable(chosen) else chosen

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pool expects

            def setup(self) -> None:
                super().setup()  # no Nagle: small replies must not wait for a delayed ACK
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(error(404, f"no route {self.path}"))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"invalid_json": raw.decode(errors="replace")}
                reply = fake._next(body)
                if reply.delay_s and fake._closing.wait(reply.delay_s):
                    return None
                return self._send(reply)

            def _send(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def counting(then: list[dict[str, Any]]) -> Responder:
    """A plan of `then` whose usage says prompt tokens ≈ the request's messages and response
    format in characters / 4 (an estimate: the stand-in has no tokenizer)."""

    def respond(body: dict[str, Any]) -> Reply:
        sent = json.dumps([body.get("messages"), body.get("response_format")])
        return plan(then, prompt_tokens=len(sent) // 4)

    return respond


def main() -> None:
    """`python -m tests.fakes.openai_server`: a stand-in answering one valid plan to everything
    (the LLM benchmarks run it in their own process); prints its base URL, serves until killed.
    With `--count-tokens`, its usage estimates the prompt tokens of each request."""
    steps = [step("calculator", expression="12 * 7"), step("add_todo", title="call mom")]
    server = FakeOpenAI(counting(steps) if "--count-tokens" in sys.argv else plan(steps))
    server.start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
