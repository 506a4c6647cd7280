"""The Slack rate budget in PostgreSQL (`slack_rate_budget`): every replica reserves its calls
from the same rows, on the database's clock, so together they keep to one budget per
(workspace, method). The arithmetic is `core.ratelimit`'s; each reservation locks its row for
one short transaction of its own (never a caller's: a step's transaction may be open on this
thread), on a small pool of its own."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from core.ratelimit import Limit, Pace, longest_period, rate_limited, reserve
from core.store.pg_migrate import CONNECT_TIMEOUT_S, unavailable

NOW = "extract(epoch FROM clock_timestamp())::float8"
# the row, locked (created at rest if it is new): one statement whatever its state
LOCK = f"""
INSERT INTO slack_rate_budget AS b (workspace, method, next_at, blocked_until, slowdown, slowed_at)
VALUES (%s, %s, 0, 0, 1, '-Infinity')
ON CONFLICT (workspace, method) DO UPDATE SET workspace = b.workspace
RETURNING {NOW} AS now, next_at, blocked_until, slowdown, slowed_at
"""
SAVE = """
UPDATE slack_rate_budget SET next_at = %s, blocked_until = %s, slowdown = %s, slowed_at = %s
WHERE workspace = %s AND method = %s
"""
BLOCKED = f"""
SELECT greatest(0, blocked_until - {NOW}) FROM slack_rate_budget
WHERE workspace = %s AND method = %s
"""
# rows at rest (core.ratelimit.at_rest) say nothing a new row would not: keys are per
# workspace and channel, so they are deleted now and then
FORGET = """
DELETE FROM slack_rate_budget
WHERE greatest(next_at, blocked_until, slowed_at + %s) <= extract(epoch FROM clock_timestamp())
"""
FORGET_EVERY = 1000  # reservations by this process
POOL_SIZE = 4
IDLE_S = 5.0
APPLICATION_NAME = "crane-slack-budget"  # pg_stat_activity tells its connections apart


def _not_flushed(conn: psycopg.Connection[Any]) -> None:
    """A reservation is pacing, not a promise: one lost with the server's last moments only
    lets a call go early (Slack answers 429, which pauses its key). So its COMMIT does not wait
    for the WAL flush, which cost every Web API call a disk sync (3 replicas: about 2× calls/s)."""
    conn.execute("SET synchronous_commit = off")


class PgBudget:
    """`core.ratelimit.Budget` shared by every process on one PostgreSQL database."""

    def __init__(self, url: str, limits: dict[str, Limit]) -> None:
        self.url = url
        self.limits = limits
        self._reserved = 0
        # no connection kept while Slack is quiet (a process may serve many databases' tests)
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url, min_size=0, max_size=POOL_SIZE, max_idle=IDLE_S, num_workers=1,
            name="crane-slack-budget", open=True, configure=_not_flushed,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S,
                    "application_name": APPLICATION_NAME},
        )  # fmt: skip

    def _change(self, workspace: str, method: str, change: Any) -> Any:
        try:
            with self.pool.connection() as conn, conn.transaction():
                row = conn.execute(LOCK, (workspace, method)).fetchone()
                assert row is not None
                now, pace = row[0], Pace(*row[1:])
                pace, answer = change(pace, now)
                conn.execute(SAVE, (pace.next_at, pace.blocked_until, pace.slowdown,
                                    pace.slowed_at, workspace, method))  # fmt: skip
                return answer
        except psycopg.OperationalError as error:
            raise unavailable(self.url, error) from error

    def reserve(self, workspace: str, method: str) -> float:
        limit = self.limits.get(method)
        if limit is None:
            return self.blocked_for(workspace, method)
        wait: float = self._change(workspace, method, lambda pace, now: reserve(pace, now, limit))
        self._reserved += 1  # a lost count under a race only delays the next forgetting
        if self._reserved % FORGET_EVERY == 0:
            self.forget_rested()
        return wait

    def forget_rested(self) -> int:
        """Delete the rows at rest; how many went."""
        try:
            with self.pool.connection() as conn:
                return int(conn.execute(FORGET, (longest_period(self.limits),)).rowcount)
        except psycopg.OperationalError as error:
            raise unavailable(self.url, error) from error

    def blocked_for(self, workspace: str, method: str) -> float:
        try:
            with self.pool.connection() as conn:
                row = conn.execute(BLOCKED, (workspace, method)).fetchone()
        except psycopg.OperationalError as error:
            raise unavailable(self.url, error) from error
        return float(row[0]) if row else 0.0

    def rate_limited(self, workspace: str, method: str, retry_after: float) -> None:
        limit = self.limits.get(method, Limit(1, 60.0))

        def change(pace: Pace, now: float) -> tuple[Pace, None]:
            return rate_limited(pace, now, retry_after, limit), None

        self._change(workspace, method, change)

    def close(self) -> None:
        self.pool.close()
