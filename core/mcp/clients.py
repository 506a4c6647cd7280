"""One MCP client per configured server, kept up by one background asyncio loop per process.

Each server has a supervisor task on that loop: it connects (stdio: starts the process once;
HTTP: opens a session), and the server is up once it answers `tools/list` within its
`timeout_s`. One that fails is logged in one line naming it and retried with backoff; the
others load regardless. Worker threads call tools through `call`, which waits on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeVar

from core.mcp.config import MissingVariable, ServerConfig

if TYPE_CHECKING:  # the SDK is imported only once a server starts: no MCP, no import cost
    from core.mcp.session import Session

log = logging.getLogger("crane.mcp")
T = TypeVar("T")
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 30.0
HEALTH_EVERY_S = 10.0  # an idle server that died is noticed within this (and restarted)


class Server:
    """A configured server as this process sees it: its session while up, else why not."""

    def __init__(self, name: str, config: ServerConfig) -> None:
        self.name, self.config = name, config
        self.session: Session | None = None
        self.started = False
        self.attempted = threading.Event()  # a first connection attempt has ended (up or not)
        self.broken: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def up(self) -> bool:
        return self.session is not None and self.session.alive


class Servers:
    """Every configured server of this process and the loop thread their clients live on."""

    def __init__(self, configs: dict[str, ServerConfig], tools_ttl_s: float = 300.0) -> None:
        self.by_name = {name: Server(name, config) for name, config in configs.items()}
        self.tools_ttl_s = tools_ttl_s  # CRANE_MCP_TOOLS_TTL_S (core.mcp.session)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._closing = False

    # --- the loop -----------------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="crane-mcp", daemon=True).start()
                self._loop = loop
            return self._loop

    def _on_loop(self, make: Callable[[], Awaitable[T]]) -> Future[T]:
        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self._ensure_loop())

    # --- starting -----------------------------------------------------------------------------

    def start(self, names: Iterable[str] | None = None, wait: bool = False) -> None:
        """Start the supervisors of these servers (default: all) if not started yet; with
        `wait`, return once each has answered or failed its first attempt."""
        chosen = [self.by_name[n] for n in (self.by_name if names is None else names)
                  if n in self.by_name]  # fmt: skip
        loop = self._ensure_loop()
        for server in chosen:
            with self._lock:
                if server.started or self._closing:
                    continue
                server.started = True
            loop.call_soon_threadsafe(self._spawn, server)
        if wait:
            for server in chosen:
                server.attempted.wait(server.config.timeout_s + 5)

    def _spawn(self, server: Server) -> None:
        server.broken = asyncio.Event()
        server.task = asyncio.get_running_loop().create_task(self._supervise(server))

    async def _supervise(self, server: Server) -> None:
        delay = BACKOFF_FIRST_S
        while not self._closing:
            assert server.broken is not None
            server.broken.clear()
            try:
                await self._connect(server)
                delay = BACKOFF_FIRST_S  # it was up: the next failure starts the backoff again
            except asyncio.CancelledError:
                raise
            except MissingVariable as missing:
                log.warning("mcp server %s is down: ${%s} is not set", server.name, missing)
            except Exception as error:  # one line naming it; the others load regardless
                from core.mcp.session import describe_failure

                log.warning("mcp server %s is down: %s", server.name, describe_failure(error))
            server.session = None
            server.attempted.set()
            if self._closing:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def _connect(self, server: Server) -> None:
        """One connection: up once `tools/list` answers, then held until it breaks."""
        assert server.broken is not None
        from core.mcp.session import Session

        session = Session(server.name, server.config, self.tools_ttl_s)
        ready = asyncio.Event()
        task = asyncio.get_running_loop().create_task(session.hold(ready, server.broken))
        # polled: with SDK 2.3.0 an asyncio.wait on `ready` was not woken when it was set (seen
        # here, cause not found), which held every start for its whole timeout
        deadline = asyncio.get_running_loop().time() + server.config.timeout_s
        while not ready.is_set() and not task.done():
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.01)
        if not ready.is_set():
            if task.done():
                task.result()  # its failure, logged by the supervisor
                raise ConnectionError("closed before it answered")
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise TimeoutError(f"no tools/list answer within {server.config.timeout_s:g}s")
        server.session = session
        server.attempted.set()
        log.info("mcp server %s is up (%d tools)", server.name, len(session.tools))
        watch = asyncio.get_running_loop().create_task(self._watch(server, session))
        try:
            await task
        finally:
            watch.cancel()

    async def _watch(self, server: Server, session: Session) -> None:
        """An idle server that died is found by asking it now and then (then restarted)."""
        while True:
            await asyncio.sleep(HEALTH_EVERY_S)
            try:
                await session.refresh()
            except Exception as error:
                from core.mcp.session import describe_failure

                log.warning("mcp server %s stopped answering: %s", server.name,
                            describe_failure(error))  # fmt: skip
                session.break_()
                return

    # --- using --------------------------------------------------------------------------------

    def status(self) -> dict[str, str]:
        return {name: "up" if server.up else "down" for name, server in self.by_name.items()}

    def session(self, name: str) -> Session | None:
        server = self.by_name.get(name)
        return server.session if server is not None and server.up else None

    def run(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Await `make()` on the loop from a worker thread, at most `timeout` seconds."""
        return self._on_loop(make).result(timeout)

    def close(self) -> None:
        """Stop every server (stdio processes end) and the loop."""
        with self._lock:
            self._closing = True
            loop = self._loop
        if loop is None:
            return

        async def stop() -> None:
            tasks = [s.task for s in self.by_name.values() if s.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        except Exception:
            log.warning("mcp servers did not stop in time")
        loop.call_soon_threadsafe(loop.stop)
