"""Who asked before: conversations (Slack threads, --thread), Slack deliveries already handled,
and REST idempotency keys. Small lookups that keep a request from running twice."""

from __future__ import annotations

from datetime import datetime

from core.plan import Scope, iso
from core.store.conn import Conn


def conversation_id(conn: Conn, scope: Scope, key: str, now: datetime) -> int:
    row = conn.execute(
        "INSERT INTO conversations (enterprise_id, team_id, key, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (enterprise_id, team_id, key) DO UPDATE SET key = excluded.key RETURNING id",
        (scope.enterprise_id, scope.team_id, key, iso(now)),
    ).fetchone()
    return int(row["id"])


def conversation_exists(conn: Conn, scope: Scope, key: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM conversations WHERE enterprise_id = ? AND team_id = ? AND key = ?",
        (scope.enterprise_id, scope.team_id, key),
    ).fetchone()
    return row is not None


def claim_delivery(conn: Conn, key: str, tenant: Scope, now: datetime) -> bool:
    cursor = conn.execute(
        "INSERT INTO deliveries (key, enterprise_id, team_id, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (key, tenant.enterprise_id, tenant.team_id, iso(now)),
    )
    return cursor.rowcount == 1


def idempotent_run(conn: Conn, scope: Scope, key: str, since: datetime) -> tuple[str, str] | None:
    """(body hash, run id) remembered for this caller's key, if newer than `since`."""
    row = conn.execute(
        "SELECT body_hash, run_id FROM idempotency WHERE enterprise_id = ? AND team_id = ? "
        "AND user_id = ? AND key = ? AND created_at >= ?",
        (scope.enterprise_id, scope.team_id, scope.user_id, key, iso(since)),
    ).fetchone()
    return (row["body_hash"], row["run_id"]) if row else None


def claim_idempotent(
    conn: Conn, scope: Scope, key: str, body_hash: str, run_id: str, now: datetime, since: datetime
) -> bool:
    """Bind this caller's key to `run_id`, unless a binding newer than `since` holds it: False
    then. The insert waits on a concurrent transaction holding the same key, so of two racing
    requests exactly one binds it (on both backends)."""
    row = conn.execute(
        "INSERT INTO idempotency (enterprise_id, team_id, user_id, key, body_hash, run_id, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (enterprise_id, team_id, user_id, key) DO UPDATE SET "
        "body_hash = excluded.body_hash, run_id = excluded.run_id, "
        "created_at = excluded.created_at WHERE idempotency.created_at < ? RETURNING run_id",
        (scope.enterprise_id, scope.team_id, scope.user_id, key, body_hash, run_id, iso(now),
         iso(since)),
    ).fetchone()  # fmt: skip
    return row is not None


def forget_before(conn: Conn, cutoff: datetime) -> int:
    """Drop delivery records and idempotency keys older than `cutoff` (Slack retries within
    minutes; keys are kept 24 h). Returns how many rows went."""
    gone = conn.execute("DELETE FROM deliveries WHERE created_at < ?", (iso(cutoff),)).rowcount
    gone += conn.execute("DELETE FROM idempotency WHERE created_at < ?", (iso(cutoff),)).rowcount
    return gone


def unfinished_in(conn: Conn, tenant: Scope, key: str) -> list[tuple[str, str]]:
    """(run id, status) of every run of this workspace's conversation not finished yet, any
    user's: a Slack thread's runs, whoever asked."""
    rows = conn.execute(
        "SELECT r.id, r.status FROM conversations c JOIN runs r ON r.conversation_id = c.id "
        "WHERE c.enterprise_id = ? AND c.team_id = ? AND c.key = ? "
        "AND r.status IN ('pending', 'running', 'awaiting_approval') ORDER BY r.created_at",
        (tenant.enterprise_id, tenant.team_id, key),
    ).fetchall()
    return [(row["id"], row["status"]) for row in rows]
