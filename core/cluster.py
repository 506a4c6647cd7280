"""Replicas on one PostgreSQL database: the work they share goes through procrastinate.

Every `crane serve` on PostgreSQL runs a procrastinate worker, on an event loop of its own (a
thread: deferring, fetching and finishing jobs never queue ahead of the server's acks), and the
cluster shares its work through procrastinate's queue:

- `crane.resume_run(run_id, ticket)`: a run a replica accepted (a Slack request, `POST
  /api/v1/runs`) is stored, then deferred (`dispatch`); whichever worker fetches it takes the
  run's lease from `ticket` (the accepting replica's token) and executes it, showing it in its
  Slack thread from the messages recorded with the run (`bot.views`); SSE readers on any replica
  follow it through the events table (`server.live`). Deferred again by `crane.take_over`, it
  resumes an orphaned run from its last committed step (a run whose owner came back is left
  alone: the lease is a compare-and-set).
- `crane.take_over` (periodic, every few seconds, once per tick for the whole cluster):
  procrastinate jobs whose worker stopped beating (a `kill -9`ed replica) are dropped, and every
  unfinished run whose owner is gone — a dead process on its host, or a lease past its expiry
  (`core.orchestrator`) — is deferred as `crane.resume_run`, one waiting job per run
  (queueing lock; two running at once are kept apart by the run's lease). Slack requests a
  dead replica acknowledged but never planned (durable intake) are planned by the worker that
  runs the tick (`received`).
- `crane.prune` (periodic, every ten minutes, once for the cluster): delivery records and
  idempotency keys past their 24 h.

procrastinate's tables live in Crane's schema, applied by Crane's migrations
(`core.store.pg_migrate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from procrastinate import App, PsycopgConnector, exceptions
from procrastinate.jobs import Status
from psycopg import AsyncConnection

from core.runtime import Crane
from core.store.pg import IDLE_IN_TRANSACTION

log = logging.getLogger("crane.cluster")
# procrastinate logs every job start and end at INFO: its warnings are what an operator needs
logging.getLogger("procrastinate").setLevel(logging.WARNING)

QUEUE = "crane"
TAKE_OVER_CRON = "* * * * * */5"  # croniter's sixth field: seconds
PRUNE_CRON = "*/10 * * * *"
HEARTBEAT_S = 2.0  # procrastinate's worker heartbeat…
STALLED_S = 8.0  # …and when a worker that stopped beating counts as dead
POLL_S = 1.0  # a retried job waits at most this long for a worker
RESTART_MAX_S = 30.0
DEFER_TIMEOUT_S = 10.0
# The worker's fetches, finishes and heartbeats and this replica's defers are short statements;
# its jobs execute on Crane's own pool, so more workers need no more of these
JOB_POOL_SIZE = 4
APPLICATION_NAME = "crane-jobs"
WORKER_TASK = "crane-cluster-worker"


async def _configure(conn: AsyncConnection[Any]) -> None:
    await conn.execute(IDLE_IN_TRANSACTION)  # a frozen replica's fetch must not lock a job
    await conn.commit()


class Cluster:
    """This replica's procrastinate app and worker, executing `crane`'s runs."""

    def __init__(
        self,
        crane: Crane,
        received: Callable[[], object] | None = None,
        concurrency: int = 4,
        before_run: Callable[[], None] = lambda: None,
    ) -> None:
        self.crane = crane
        self.received = received  # plans requests dead replicas acked (bot.intake)
        self.concurrency = concurrency
        self.before_run = before_run  # e.g. wait while this replica's acks go out (core.jobs)
        self.app = App(
            connector=PsycopgConnector(
                conninfo=crane.store.path,
                min_size=1,
                max_size=JOB_POOL_SIZE,
                kwargs={"application_name": APPLICATION_NAME},  # pg_stat_activity tells it apart
                configure=_configure,
            ),
            worker_defaults={"install_signal_handlers": False},
            periodic_defaults={"max_delay": 60},  # after an outage, skip ticks long past
        )
        self.worker: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None  # the worker's own, in `_thread`
        self._thread: threading.Thread | None = None
        self.serving = False  # the worker is running (not between restarts)
        self._tasks()

    def _tasks(self) -> None:
        app = self.app

        @app.task(name="crane.resume_run", queue=QUEUE)
        def resume_run(run_id: str, ticket: str | None = None) -> None:  # sync: in a thread
            self.before_run()
            self.crane.orchestrator.execute(run_id, None, ticket)  # subscribers show it

        self.resume_run = resume_run

        @app.periodic(cron=TAKE_OVER_CRON, periodic_id="take-over")
        @app.task(name="crane.take_over", queue=QUEUE, queueing_lock="crane.take_over",
                  pass_context=True)  # fmt: skip
        async def take_over(context: Any, timestamp: int) -> None:
            jobs = context.app.job_manager
            for job in await jobs.get_stalled_jobs(seconds_since_heartbeat=STALLED_S):
                # dropped, not retried: its run, orphaned now, is deferred afresh below (a
                # retry would clash with that job's queueing lock), a periodic task ticks again
                log.warning("dropping job %s of a dead worker", job.id)
                await jobs.finish_job(job, status=Status.FAILED, delete_job=True)
            for run_id in await asyncio.to_thread(self.crane.orchestrator.orphans):
                await self._defer(run_id, None)
            if self.received is not None:
                await asyncio.to_thread(self.received)

        @app.periodic(cron=PRUNE_CRON, periodic_id="prune")
        @app.task(name="crane.prune", queue=QUEUE, queueing_lock="crane.prune")
        def prune(timestamp: int) -> None:
            forgotten = self.crane.store.forget_old_requests()
            log.info("pruned %d delivery records and idempotency keys", forgotten)

    async def _defer(self, run_id: str, ticket: str | None) -> None:
        # One job waiting per run. No procrastinate lock: a dead worker's job would hold it until
        # dropped as stalled; two jobs of one run are kept apart by the run's lease instead.
        key = f"run:{run_id}"
        # one waiting already takes the run from whoever holds it then
        with contextlib.suppress(exceptions.AlreadyEnqueued):
            await self.resume_run.configure(queueing_lock=key).defer_async(
                run_id=run_id, ticket=ticket
            )

    def dispatch(self, run_id: str) -> None:
        """Queue a run this replica just stored (from a worker thread, not the event loop):
        returns once the job is in the database."""
        assert self.loop is not None, "dispatch before start"
        ticket = self.crane.orchestrator.owner[2]  # the token it was stored with
        done = asyncio.run_coroutine_threadsafe(self._defer(run_id, ticket), self.loop)
        done.result(timeout=DEFER_TIMEOUT_S)

    async def start(self) -> None:
        """Open the app and start the worker, on the cluster's own event loop and thread."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="crane-cluster", daemon=True
        )
        self._thread.start()
        await self._on_loop(self._start())

    async def _start(self) -> None:
        await self.app.open_async()
        self.worker = asyncio.create_task(self._supervise(), name=WORKER_TASK)

    async def _on_loop(self, work: Coroutine[Any, Any, None]) -> None:
        assert self.loop is not None
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    async def _supervise(self) -> None:
        """The worker stops by itself when one of its side tasks dies (the database gone
        for a moment): start it again, backing off, until the server shuts down."""
        backoff = 1.0
        while True:
            self.serving = True
            try:
                await self.app.run_worker_async(
                    queues=[QUEUE], concurrency=self.concurrency,
                    name=f"crane-{socket.gethostname()}", fetch_job_polling_interval=POLL_S,
                    update_heartbeat_interval=HEARTBEAT_S, stalled_worker_timeout=STALLED_S,
                    delete_jobs="successful", shutdown_graceful_timeout=10,
                )  # fmt: skip
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job worker stopped; restarting in %.0f s", backoff)
            finally:
                self.serving = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RESTART_MAX_S)

    def problem(self) -> str | None:
        """Why this replica's worker is not taking work now, or None."""
        if self.worker is None or self.worker.done() or not self.serving:
            return "the job worker is not running"
        return None

    async def stop(self) -> None:
        if self.loop is None or self._thread is None:
            return
        await self._on_loop(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join)
        self.loop.close()

    async def _stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()  # procrastinate's graceful stop: running jobs finish first
            await asyncio.gather(self.worker, return_exceptions=True)
        await self.app.close_async()
