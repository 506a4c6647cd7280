"""One connection to one MCP server through the official SDK's `Client`: opened, listed,
held until it breaks, and the calls made on it. Runs only on the loop of `core.mcp.clients`
(the SDK's streams belong to the task that opened them, so `hold` opens and closes them)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx2
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED, CallToolResult, Tool

from core.mcp.config import ServerConfig


class Changed(Exception):
    """A tool that was read-only when its step was planned says otherwise now."""


class Session:
    def __init__(self, name: str, config: ServerConfig) -> None:
        self.name, self.config = name, config
        self.tools: dict[str, Tool] = {}
        self.client: Client | None = None
        self._broken: asyncio.Event | None = None

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
            async with Client(server, read_timeout_seconds=self.config.timeout_s) as client:
                self.client = client
                await self.refresh()
                ready.set()
                await broken.wait()
        self.client = None

    async def refresh(self) -> dict[str, Tool]:
        """List the tools again (their annotations may have changed)."""
        assert self.client is not None
        listed: list[Tool] = []
        cursor: str | None = None
        while True:
            page = await self.client.list_tools(cursor=cursor, cache_mode="bypass")
            listed.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
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
