"""Usage per user per UTC day and runs per UTC minute: counted in the transaction that stores
a run (`count_run`, from `Store.insert_run`), read by run limits before planning, by spending
limits, and by `crane usage` / `GET /api/v1/usage` / the App Home (`Accounting`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from core.limits import Counted, Limits, Spent, day_of, minute_of
from core.plan import Run, Scope
from core.store.conn import Backend, Conn

USAGE_COLUMNS = ("runs", "steps", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd")


def count_run(conn: Conn, run: Run, now: datetime, limits: Limits) -> Counted:
    """Count a run being stored (its planning's tokens and cost with it): the user's runs in
    this minute and day, the new one included. An upsert on the user's row: concurrent
    writers of one user queue on its row lock (SQLite: on the one writer), so two requests
    at the boundary never both see room."""
    scope, usage = run.scope, run.usage
    tokens, cost = (0, 0, 0), 0.0
    if usage is not None:  # a model without a price counts $0
        tokens = (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens)
        cost = usage.cost_usd or 0.0
    counting = conn.execute(
        "INSERT INTO usage_days (enterprise_id, team_id, user_id, day, runs, steps, "
        "prompt_tokens, completion_tokens, cached_tokens, cost_usd) "
        "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?) "
        "ON CONFLICT (enterprise_id, team_id, user_id, day) DO UPDATE SET "
        "runs = usage_days.runs + 1, steps = usage_days.steps + excluded.steps, "
        "prompt_tokens = usage_days.prompt_tokens + excluded.prompt_tokens, "
        "completion_tokens = usage_days.completion_tokens + excluded.completion_tokens, "
        "cached_tokens = usage_days.cached_tokens + excluded.cached_tokens, "
        "cost_usd = usage_days.cost_usd + excluded.cost_usd"
        + (" RETURNING runs" if limits.runs_per_day is not None else ""),
        (scope.enterprise_id, scope.team_id, scope.user_id, day_of(now), len(run.steps),
         *tokens, cost),
    )  # fmt: skip
    # the count is read back only when a limit needs it: on PostgreSQL, reading waits for a
    # round trip the transaction's other writes need not
    day = counting.fetchone()["runs"] if limits.runs_per_day is not None else 0
    minute = 0
    if limits.counts_minutes:
        minute = conn.execute(
            "INSERT INTO run_minutes (enterprise_id, team_id, user_id, minute, runs) "
            "VALUES (?, ?, ?, ?, 1) ON CONFLICT (enterprise_id, team_id, user_id, minute) "
            "DO UPDATE SET runs = run_minutes.runs + 1 RETURNING runs",
            (scope.enterprise_id, scope.team_id, scope.user_id, minute_of(now)),
        ).fetchone()["runs"]
    return Counted(minute=int(minute), day=int(day))


def counted(conn: Conn, scope: Scope, now: datetime) -> Counted:
    """The user's runs so far in this minute and day (nothing counted)."""
    key = (scope.enterprise_id, scope.team_id, scope.user_id)
    row = conn.execute(  # one round trip: this is on every request's path
        "SELECT (SELECT runs FROM usage_days WHERE enterprise_id = ? AND team_id = ? "
        "AND user_id = ? AND day = ?) AS day, (SELECT runs FROM run_minutes "
        "WHERE enterprise_id = ? AND team_id = ? AND user_id = ? AND minute = ?) AS minute",
        (*key, day_of(now), *key, minute_of(now)),
    ).fetchone()
    return Counted(minute=int(row["minute"] or 0), day=int(row["day"] or 0))


def spent(conn: Conn, scope: Scope, now: datetime) -> Spent:
    row = conn.execute(
        "SELECT COALESCE(SUM(CASE WHEN user_id = ? THEN prompt_tokens + completion_tokens "
        "ELSE 0 END), 0) AS tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd FROM usage_days "
        "WHERE enterprise_id = ? AND team_id = ? AND day = ?",
        (scope.user_id, scope.enterprise_id, scope.team_id, day_of(now)),
    ).fetchone()
    return Spent(tokens=int(row["tokens"]), cost_usd=float(row["cost_usd"]))


def rows(conn: Conn, match: dict[str, str], since: str, by_user: bool) -> list[dict[str, Any]]:
    """Usage per day (and per user, with `by_user`; else the totals, user None), newest day
    first, from the UTC day `since` on, of the rows whose columns (enterprise_id, team_id,
    user_id) have the values in `match`."""
    where, params = ["day >= ?"], [since]
    for column in ("enterprise_id", "team_id", "user_id"):  # never a caller's column name
        if column in match:
            where.append(f"{column} = ?")
            params.append(match[column])
    sums = ", ".join(f"SUM({column}) AS {column}" for column in USAGE_COLUMNS)
    group = "day, user_id" if by_user else "day"
    found = conn.execute(
        f"SELECT {group}, {sums} FROM usage_days WHERE {' AND '.join(where)} "
        f"GROUP BY {group} ORDER BY {group.replace('day', 'day DESC')}",
        params,
    ).fetchall()
    return [
        {
            "date": row["day"],
            "user": row["user_id"] if by_user else None,
            **{column: int(row[column]) for column in USAGE_COLUMNS[:-1]},
            "cost_usd": round(float(row["cost_usd"]), 8),
        }
        for row in found
    ]


def forget_minutes_before(conn: Conn, cutoff: datetime) -> int:
    return conn.execute("DELETE FROM run_minutes WHERE minute < ?", (minute_of(cutoff),)).rowcount


class Accounting:
    """Mixed into `Store`: usage reads on the same database and clock."""

    _db: Backend
    clock: Callable[[], datetime]

    def runs_counted(self, scope: Scope) -> Counted:
        with self._db.read() as conn:
            return counted(conn, scope, self.clock())

    def spent_today(self, scope: Scope) -> Spent:
        with self._db.read() as conn:
            return spent(conn, scope, self.clock())

    def usage(self, match: dict[str, str], days: int, by_user: bool = True) -> list[dict[str, Any]]:
        """The last `days` UTC days (today included) of usage rows (see `rows`)."""
        since = day_of(self.clock() - timedelta(days=days - 1))
        with self._db.read() as conn:
            return rows(conn, match, since, by_user)
