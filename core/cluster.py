"""Replicas on one PostgreSQL database: the work they share goes through procrastinate.

Every `crane serve` on PostgreSQL runs a procrastinate worker on its event loop. A run is
executed by the replica that accepted it (its in-process pool, so its Slack thread and SSE
readers see it live); what the cluster shares is everything else:

- `crane.take_over` (periodic, every few seconds, once per tick for the whole cluster):
  procrastinate jobs whose worker stopped beating (a `kill -9`ed replica) are retried, and every
  unfinished run whose owner is gone — a dead process on its host, or a lease past its expiry
  (`core.orchestrator`) — is deferred as `crane.resume_run`, one waiting job per run
  (queueing lock) and never two at once (lock). Slack requests a dead replica acknowledged but
  never planned (durable intake) are planned by the worker that runs the tick (`received`).
- `crane.resume_run(run_id)`: whichever worker fetches it takes the run's lease (a
  compare-and-set: a run whose owner came back is left alone) and executes it from its last
  committed step.
- `crane.prune` (periodic, every ten minutes, once for the cluster): delivery records and
  idempotency keys past their 24 h.

procrastinate's tables live in Crane's schema, applied by Crane's migrations
(`core.store.pg_migrate`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

from procrastinate import App, PsycopgConnector, exceptions

from core.orchestrator import Listener
from core.runtime import Crane

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


class Cluster:
    """This replica's procrastinate app and worker, executing `crane`'s runs."""

    def __init__(
        self,
        crane: Crane,
        url: str,
        tell: Listener | None = None,
        received: Callable[[], object] | None = None,
        concurrency: int = 4,
    ) -> None:
        self.crane = crane
        self.tell = tell  # hears resumed runs' events (the Slack reporter)
        self.received = received  # plans requests dead replicas acked (bot.intake)
        self.concurrency = concurrency
        self.app = App(
            connector=PsycopgConnector(conninfo=url, min_size=1, max_size=concurrency + 3),
            worker_defaults={"install_signal_handlers": False},
            periodic_defaults={"max_delay": 60},  # after an outage, skip ticks long past
        )
        self.worker: asyncio.Task[None] | None = None
        self.serving = False  # the worker is running (not between restarts)
        self._tasks()

    def _tasks(self) -> None:
        app = self.app

        @app.task(name="crane.resume_run", queue=QUEUE)
        def resume_run(run_id: str) -> None:  # sync: procrastinate runs it in a thread
            self.crane.orchestrator.execute(run_id, self.tell)

        @app.periodic(cron=TAKE_OVER_CRON, periodic_id="take-over")
        @app.task(name="crane.take_over", queue=QUEUE, queueing_lock="crane.take_over",
                  pass_context=True)  # fmt: skip
        async def take_over(context: Any, timestamp: int) -> None:
            jobs = context.app.job_manager
            for job in await jobs.get_stalled_jobs(seconds_since_heartbeat=STALLED_S):
                log.warning("retrying job %s of a dead worker", job.id)
                await jobs.retry_job(job)
            for run_id in await asyncio.to_thread(self.crane.orchestrator.orphans):
                key = f"run:{run_id}"
                try:
                    await resume_run.configure(lock=key, queueing_lock=key).defer_async(
                        run_id=run_id
                    )
                except exceptions.AlreadyEnqueued:
                    continue  # one is waiting already
            if self.received is not None:
                await asyncio.to_thread(self.received)

        @app.periodic(cron=PRUNE_CRON, periodic_id="prune")
        @app.task(name="crane.prune", queue=QUEUE, queueing_lock="crane.prune")
        def prune(timestamp: int) -> None:
            forgotten = self.crane.store.forget_old_requests()
            log.info("pruned %d delivery records and idempotency keys", forgotten)

    async def start(self) -> None:
        await self.app.open_async()
        self.worker = asyncio.create_task(self._supervise(), name="crane-cluster-worker")

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
        if self.worker is not None:
            self.worker.cancel()  # procrastinate's graceful stop: running jobs finish first
            await asyncio.gather(self.worker, return_exceptions=True)
        await self.app.close_async()
