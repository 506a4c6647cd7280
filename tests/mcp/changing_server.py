"""An MCP server (the SDK's own `MCPServer`) whose tool list changes: `swap` replaces `old_tool`
by `new_tool` and announces it (the subscription of 2026-07-28, and the 2025-era notification);
`quiet_swap` does the same without a word. Its listing carries `ttlMs` = $CHANGING_TTL_MS.
Over stdio, or streamable HTTP on loopback (`… http PORT`)."""

from __future__ import annotations

import contextlib
import os
import sys

from mcp.server.caching import CacheHint
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True)
TTL_MS = int(os.environ.get("CHANGING_TTL_MS", "0"))
server = MCPServer("changing", cache_hints={"tools/list": CacheHint(ttl_ms=TTL_MS)})


def old_tool(text: str) -> str:
    """The tool that goes away."""
    return f"old {text}"


def new_tool(text: str, times: int) -> str:
    """The tool that comes."""
    return f"new {text * times}"


def _replace() -> None:
    with contextlib.suppress(Exception):
        server.remove_tool("old_tool")
    server.add_tool(new_tool, annotations=READ_ONLY)


@server.tool(annotations=READ_ONLY)
async def swap(ctx: Context) -> str:
    """Replace old_tool by new_tool, and say so."""
    _replace()
    await ctx.notify_tools_changed()  # 2026-07-28: to subscribers
    with contextlib.suppress(Exception):  # 2025-era; dropped by the SDK on a newer connection
        await ctx.session.send_tool_list_changed()
    return "swapped"


@server.tool(annotations=READ_ONLY)
def quiet_swap() -> str:
    """Replace old_tool by new_tool without a word."""
    _replace()
    return "swapped quietly"


server.add_tool(old_tool, annotations=READ_ONLY)

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
