"""One HTTP/1.1 POST on a connection of its own (`Connection: close`), on asyncio streams.

The load bench and the soak keep hundreds of requests in flight from one process. httpx's
connection pool looks at every queued request for every connection on each request, so at
that count the client spent whole seconds of CPU per burst in its own pool and the acks it
timed were its own queue; this costs what one request costs."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


async def post(
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    timeout: float = 15.0,
) -> tuple[int, str]:
    """(status, body text); raises OSError or TimeoutError when no answer comes."""
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    body = body or b""
    parts = urlsplit(url)
    head = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}",
            "Connection: close", f"Content-Length: {len(body)}"]  # fmt: skip
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            writer.write(request)
            answer = await reader.read()  # the server closes after its answer
        finally:
            writer.close()
    header, _, payload = answer.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        raise OSError(f"not an HTTP answer: {lines[0]!r}")
    if any(line.lower() == "transfer-encoding: chunked" for line in lines[1:]):
        payload = _unchunk(payload)
    return int(lines[0].split()[1]), payload.decode("utf-8", "replace")


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)
