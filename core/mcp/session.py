"""One connection to one MCP server through the official SDK's `Client`: opened, listed,
held until it breaks, and the calls made on it. Runs only on the loop of `core.mcp.clients`
(the SDK's streams belong to the task that opened them, so `hold` opens and closes them).

Its tool list is kept fresh: listed again when the server announces a change — on a 2025-era
connection an unsolicited `notifications/tools/list_changed` (the message handler), on a
2026-07-28 one through the `subscriptions/listen` stream opened when the server advertises
`tools.listChanged` — and, before planning (core.toolbox), once its time-to-live has run out:
the `ttlMs` of the last listing when it gave one (> 0), at most CRANE_MCP_TOOLS_TTL_S."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import httpx2
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED, CallToolResult, Tool, ToolListChangedNotification

from core.mcp.config import ServerConfig

log = logging.getLogger("crane.mcp")
TOOLS_TTL_S = 300.0  # CRANE_MCP_TOOLS_TTL_S: the longest a tool list is used without listing


class Changed(Exception):
    """A tool that was read-only when its step was planned says otherwise now."""


class Session:
    MODE = "auto"  # the SDK's protocol negotiation (tests pin "legacy": the 2025-era path)

    def __init__(self, name: str, config: ServerConfig, ttl_s: float = TOOLS_TTL_S) -> None:
        self.name, self.config, self.ttl_s = name, config, ttl_s
        self.tools: dict[str, Tool] = {}
        self.client: Client | None = None
        self.expires_at = 0.0  # time.monotonic() after which the list is listed again
        self.changes = 0  # change announcements received
        self._broken: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _server(self) -> Any:
        config = self.config
        if config.command is not None:
            return StdioServerParameters(
                command=config.command, args=config.args, env=config.expanded_env() or None,
                cwd=config.cwd,
            )  # fmt: skip
        assert config.url is not None
        http = httpx2.AsyncClient(
            headers=config.expanded_headers(), follow_redirects=True,
            timeout=httpx2.Timeout(config.timeout_s, read=max(300.0, config.timeout_s)),
        )  # fmt: skip
        return streamable_http_client(config.url, http_client=http)

    async def hold(self, ready: asyncio.Event, broken: asyncio.Event) -> None:
        """Connect, list the tools (then `ready`), and stay connected until `broken`."""
        self._broken = broken
        with open(os.devnull, "w") as quiet:  # a server's stderr is its own, not our log's
            server = self._server()
            if isinstance(server, StdioServerParameters):
                from mcp.client.stdio import stdio_client

                server = stdio_client(server, errlog=quiet)
            async with Client(
                server, read_timeout_seconds=self.config.timeout_s, mode=self.MODE,
                message_handler=self._on_message,
            ) as client:  # fmt: skip
                self.client = client
                await self.refresh()
                ready.set()
                self._spawn(self._listen())
                try:
                    await broken.wait()
                finally:
                    for task in self._tasks:
                        task.cancel()
                    await asyncio.gather(*self._tasks, return_exceptions=True)
        self.client = None

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_message(self, message: Any) -> None:
        """2025-era: the server's unsolicited notifications arrive here."""
        if isinstance(message, ToolListChangedNotification):
            self._changed()

    def _changed(self) -> None:
        """The server says its tools changed: stale now, listed again in the background (not
        in the SDK's receive loop, which must stay free to read that very answer)."""
        self.changes += 1
        self.expires_at = 0.0
        self._spawn(self._relist())

    async def _relist(self) -> None:
        try:
            await self.refresh()
        except Exception:
            self.break_()  # not answering: reconnect (its tools are down meanwhile)

    async def _listen(self) -> None:
        """2026-07-28: change events come through the subscription the server advertises."""
        from mcp.client.subscriptions import ListenNotSupportedError

        assert self.client is not None
        tools = getattr(self.client.session.server_capabilities, "tools", None)
        if not (tools and tools.list_changed):
            return  # no announcements: the time-to-live keeps the list fresh
        try:
            async with self.client.listen(tools_list_changed=True) as events:
                async for _ in events:
                    self._changed()
        except ListenNotSupportedError:
            return  # a 2025-era connection: the message handler hears them
        except Exception as error:  # the TTL still applies; the health check finds a dead one
            log.info("mcp server %s: no tools subscription (%s)", self.name, type(error).__name__)

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.expires_at

    async def refresh(self) -> dict[str, Tool]:
        """List the tools again (their annotations may have changed)."""
        assert self.client is not None
        listed: list[Tool] = []
        cursor: str | None = None
        ttl = self.ttl_s
        while True:
            page = await self.client.list_tools(cursor=cursor, cache_mode="bypass")
            if page.ttl_ms:  # 0 or absent: no hint (the SDK's default), ours applies
                ttl = min(ttl, page.ttl_ms / 1000)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        self.expires_at = time.monotonic() + ttl
        fresh = {tool.name: tool for tool in listed}
        if fresh != self.tools:  # kept when unchanged: Crane's tools are made once per listing
            self.tools = fresh
        return self.tools

    async def call(
        self, tool: str, arguments: dict[str, Any], meta: dict[str, Any], timeout: float,
        read_only: bool,
    ) -> CallToolResult:  # fmt: skip
        """Call `tool`, its listing read again first: LookupError if it is gone, Changed if it
        ran unasked as read-only and no longer says so."""
        if self.client is None:
            raise ConnectionError("not connected")
        try:
            fresh = (await self.refresh()).get(tool)
            if fresh is None:
                raise LookupError(tool)
            notes = fresh.annotations
            if read_only and not (self.config.trust_annotations and notes and notes.read_only_hint):
                raise Changed(tool)
            return await self.client.call_tool(
                tool,
                arguments,
                read_timeout_seconds=timeout,
                meta=meta,  # type: ignore[arg-type]
            )
        except (LookupError, Changed):
            raise
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:
                self.break_()  # reconnect (stdio: start the process again)
            raise
        except Exception:
            self.break_()  # the transport failed: reconnect (stdio: restart the process)
            raise

    @property
    def alive(self) -> bool:
        """Connected and not known to be broken (a failed call breaks it at once)."""
        return self.client is not None and not (self._broken and self._broken.is_set())

    def break_(self) -> None:
        if self._broken is not None:
            self._broken.set()


def describe_failure(error: BaseException) -> str:
    """One line about why a server is down, with no configuration values in it (secrets)."""
    if isinstance(error, BaseExceptionGroup):
        return describe_failure(error.exceptions[0])
    if isinstance(error, TimeoutError):
        return str(error) or "timed out"
    if isinstance(error, FileNotFoundError):
        return "its command was not found"
    if isinstance(error, MCPError):
        return f"protocol error {error.code}"
    if isinstance(error, httpx2.HTTPError):
        return f"HTTP: {type(error).__name__}"
    return type(error).__name__ + (f": {error}" if isinstance(error, ConnectionError) else "")
