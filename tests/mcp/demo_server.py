"""A real MCP server written with the SDK's own server API, for the tests: over stdio
(`python tests/mcp/demo_server.py`) or streamable HTTP on loopback (`… http PORT`).

Every call appends the tool's name to $DEMO_CALLS (if set), so a test counts what the server
received — across a kill -9 of the client too."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel

READ_ONLY = ToolAnnotations(read_only_hint=True)
IDEMPOTENT = ToolAnnotations(read_only_hint=False, idempotent_hint=True, destructive_hint=True)
server = MCPServer("demo")


def _count(tool: str) -> None:
    path = os.environ.get("DEMO_CALLS")
    if path:
        with open(path, "a", encoding="utf-8") as calls:
            calls.write(tool + "\n")


@server.tool(annotations=READ_ONLY)
def echo(text: str) -> str:
    """Say the text back."""
    _count("echo")
    return text


@server.tool(annotations=READ_ONLY)
def add(a: int, b: int) -> dict[str, int]:
    """Add two integers."""
    _count("add")
    return {"sum": a + b}


@server.tool(annotations=READ_ONLY)
def show(value: Any) -> str:
    """Any JSON value, as JSON text."""
    _count("show")
    return json.dumps(value, sort_keys=True)


class Person(BaseModel):
    name: str
    email: str


@server.tool(annotations=READ_ONLY)
def file_ticket(title: str, owner: Person, labels: list[str]) -> dict[str, Any]:
    """File a ticket: nested arguments (an object and an array), returned as received."""
    _count("file_ticket")
    return {"title": title, "owner": owner.model_dump(), "labels": labels}


@server.tool(annotations=READ_ONLY)
def tag(names: set[str], note: str = "") -> str:
    """Tag with distinct names (uniqueItems: outside the strict subset)."""
    _count("tag")
    return ",".join(sorted(names)) + (f" ({note})" if note else "")


@server.tool(annotations=ToolAnnotations(destructive_hint=True))
def delete_thing(id: int) -> str:
    """Delete a thing (destructive)."""
    _count("delete_thing")
    time.sleep(float(os.environ.get("DEMO_DELETE_SLEEP", "0")))
    return f"deleted thing {id}"


@server.tool(annotations=IDEMPOTENT)
def set_flag(name: str, on: bool = True) -> str:
    """Set a flag (idempotent, not read-only)."""
    _count("set_flag")
    time.sleep(float(os.environ.get("DEMO_DELETE_SLEEP", "0")))
    return f"{name} is {'on' if on else 'off'}"


@server.tool(annotations=READ_ONLY)
def slow(seconds: float) -> str:
    """Take its time."""
    _count("slow")
    time.sleep(seconds)
    return "done"


@server.tool(annotations=READ_ONLY)
def broken() -> str:
    """Always fails (an isError result)."""
    _count("broken")
    raise ToolError("the widget store is closed")


@server.tool(annotations=READ_ONLY)
def huge(size: int) -> str:
    """A very long text."""
    _count("huge")
    return "x" * size


@server.tool(annotations=READ_ONLY)
def whoami(ctx: Context) -> dict[str, Any]:
    """The Slack ids Crane sent in the call's _meta."""
    _count("whoami")
    meta = dict(ctx.request_context.meta or {})
    return {key: value for key, value in meta.items() if key.startswith("crane/")}


@server.tool(annotations=READ_ONLY)
def die() -> str:
    """The server process ends in the middle of the call."""
    _count("die")
    os._exit(3)


if __name__ == "__main__":
    if os.environ.get("DEMO_HANG"):
        time.sleep(3600)  # never answers: the client's timeout must hold
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
