"""Every tool this process can run: the built-ins and, named `NAME.tool`, those of the MCP
servers configured (core.mcp). A server limited to some workspaces or users is invisible to
everyone else: `visible(scope)` is what a requester may plan with, `lookup` what a step of
theirs may run now (listed again, so a tool gone or changed meanwhile is noticed)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from core.mcp.clients import Servers
from core.plan import Scope
from core.tool import Catalog, Tool

CALL_MARGIN_S = 5.0  # past the per-call timeout, for the loop's own hops


class Toolbox(Mapping[str, Tool]):
    def __init__(self, builtins: Mapping[str, Tool], servers: Servers | None = None) -> None:
        self.builtins = builtins  # not a copy: a registry extended later (tests do) stays whole
        self.servers = servers or Servers({})
        # per server: the listing its tools were made from, and them (made once per listing)
        self._made: dict[str, tuple[object, list[Tool]]] = {}

    # Mapping: every tool listed now, whoever asks (the registry as a whole)
    def __getitem__(self, name: str) -> Tool:
        return self.builtins.get(name) or self._mcp()[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**self.builtins, **self._mcp()})

    def __len__(self) -> int:
        return len(self.builtins) + len(self._mcp())

    def _mcp(self, scope: Scope | None = None) -> dict[str, Tool]:
        tools: dict[str, Tool] = {}
        for name, server in self.servers.by_name.items():
            if not server.up:
                continue
            if scope is not None and not server.config.allows(scope.team_id, scope.user_id):
                continue
            tools.update((tool.name, tool) for tool in self._tools_of(name))
        return tools

    def _tools_of(self, name: str) -> list[Tool]:
        server = self.servers.by_name[name]
        session = server.session
        if session is None:
            return []
        made = self._made.get(name)
        if made is None or made[0] is not session.tools:
            from core.mcp.tools import listed_tools  # the SDK: only with a server up

            made = (session.tools, listed_tools(name, server.config, session, self._call))
            self._made[name] = made
        return made[1]

    def visible(self, scope: Scope, wanted: Iterable[str] = ()) -> dict[str, Tool]:
        """What `scope` may plan with; the servers of the `wanted` tool names are started
        first if they are not yet (`crane ask` starts only what its plan needs), and lists
        past their time-to-live are listed again."""
        needed = {name.partition(".")[0] for name in wanted if "." in name}
        if needed:
            self.servers.start(needed, wait=True)
        self._fresh()
        return {**self.builtins, **self._mcp(scope)}

    def _fresh(self) -> None:
        """List again the up servers whose tool list's time-to-live ran out."""
        for server in self.servers.by_name.values():
            session = server.session
            if session is not None and server.up and session.expired:
                try:
                    self.servers.run(session.refresh, server.config.timeout_s + CALL_MARGIN_S)
                except Exception:  # it is down now: its tools are gone until it is back
                    session.break_()

    def catalog(self, scope: Scope) -> Catalog:
        """What a planner that sees tools (the LLM's) may offer `scope`: the servers they may
        use are started first (a no-op once started), and those they may not are named."""
        configs = {name: server.config for name, server in self.servers.by_name.items()}
        allowed = {n for n, c in configs.items() if c.allows(scope.team_id, scope.user_id)}
        if allowed:
            self.servers.start(allowed, wait=True)
        return Catalog(self.visible(scope), frozenset(configs) - allowed)

    def prepare(self, scope: Scope, names: Iterable[str]) -> None:
        """Before a run's steps (outside any transaction: this waits on servers): start the
        servers its MCP tools need and list their tools again (fresh annotations)."""
        servers = self.servers.by_name
        needed = {n.partition(".")[0] for n in names if "." in n and n not in self.builtins}
        allowed = {n for n, s in servers.items() if s.config.allows(scope.team_id, scope.user_id)}
        needed &= allowed
        if not needed:
            return
        self.servers.start(needed, wait=True)
        for name in needed:
            server = self.servers.by_name[name]
            session = server.session
            if session is not None and server.up:
                try:
                    self.servers.run(session.refresh, server.config.timeout_s + CALL_MARGIN_S)
                except Exception:  # it is down now: its steps fail "no longer available"
                    session.break_()

    def lookup(self, name: str, scope: Scope) -> Tool | None:
        """The tool a step of `scope`'s may run now, as last listed (no I/O: this runs inside
        the step's transaction; `prepare` listed the run's servers again first)."""
        if name in self.builtins or "." not in name:
            return self.builtins.get(name)
        server = self.servers.by_name.get(name.partition(".")[0])
        if server is None or not server.config.allows(scope.team_id, scope.user_id):
            return None
        return next((tool for tool in self._tools_of(server.name) if tool.name == name), None)

    def _call(
        self, server: str, tool: str, args: dict[str, Any], meta: dict[str, Any], timeout: float,
        read_only: bool,
    ) -> Any:  # fmt: skip
        session = self.servers.session(server)
        if session is None or tool not in session.tools:
            raise LookupError(tool)
        return self.servers.run(
            lambda: session.call(tool, args, meta, timeout, read_only), timeout + CALL_MARGIN_S
        )

    def status(self) -> dict[str, str]:
        return self.servers.status()

    def close(self) -> None:
        self.servers.close()
