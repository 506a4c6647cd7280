"""Approvals (a run paused before a destructive step) and feedback votes.

Every decision is a compare-and-set on a `waiting` row inside one write transaction, so of two
clicks (or a click and the expiry sweep) exactly one changes anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.plan import Feedback, Scope, iso
from core.store.conn import Conn

WAITING = "waiting"


def request(
    conn: Conn,
    run_id: str,
    scope: Scope,
    index: int,
    question: str,
    detail: str,
    now: datetime,
    expires_at: datetime,
    reason: str = "destructive",
) -> None:
    """Ask for step `index` (asked again after a crash: the same row, waiting again)."""
    conn.execute(
        "INSERT INTO approvals (run_id, idx, enterprise_id, team_id, user_id, status, question, "
        "detail, requested_at, expires_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (run_id, idx) DO UPDATE SET status = excluded.status, "
        "question = excluded.question, detail = excluded.detail, "
        "requested_at = excluded.requested_at, expires_at = excluded.expires_at, "
        "decided_at = NULL, decided_by = NULL, reason = excluded.reason",
        (run_id, index, scope.enterprise_id, scope.team_id, scope.user_id, WAITING, question,
         detail, iso(now), iso(expires_at), reason),
    )  # fmt: skip


def answers(conn: Conn, run_id: str) -> dict[int, tuple[str, str]]:
    """Each answered question of the run: step index → (status, reason)."""
    rows = conn.execute(
        "SELECT idx, status, reason FROM approvals WHERE run_id = ? AND status <> ?",
        (run_id, WAITING),
    ).fetchall()
    return {row["idx"]: (row["status"], row["reason"]) for row in rows}


def repeating(conn: Conn, run_id: str, index: int) -> None:
    """An approved repeat has started: a second crash asks again."""
    conn.execute(
        "UPDATE approvals SET reason = 'repeated' WHERE run_id = ? AND idx = ?", (run_id, index)
    )


def waiting(conn: Conn, run_id: str) -> Any:
    """The run's open question, if any: idx, question, detail, expires_at, place, reason."""
    row = conn.execute(
        "SELECT idx, question, detail, expires_at, place, reason FROM approvals "
        "WHERE run_id = ? AND status = ?",
        (run_id, WAITING),
    ).fetchone()
    return row


def last_decision(conn: Conn, run_id: str) -> Any:
    """The run's latest answered question: idx, status, decided_by, place."""
    row = conn.execute(
        "SELECT idx, status, decided_by, place FROM approvals WHERE run_id = ? "
        "AND status <> ? ORDER BY idx DESC LIMIT 1",
        (run_id, WAITING),
    ).fetchone()
    return row


def decide(conn: Conn, run_id: str, index: int, status: str, by: str, now: datetime) -> bool:
    """waiting → `status` (approved, cancelled, skipped, expired); False if it was no longer
    waiting."""
    cursor = conn.execute(
        "UPDATE approvals SET status = ?, decided_at = ?, decided_by = ? "
        "WHERE run_id = ? AND idx = ? AND status = ?",
        (status, iso(now), by, run_id, index, WAITING),
    )
    return cursor.rowcount == 1


def resume(conn: Conn, run_id: str) -> bool:
    """An approved run goes back to `pending`, to be executed from its waiting step."""
    cursor = conn.execute(
        "UPDATE runs SET status = 'pending' WHERE id = ? AND status = 'awaiting_approval'",
        (run_id,),
    )
    return cursor.rowcount == 1


def expired(conn: Conn, now: datetime) -> list[str]:
    rows = conn.execute(
        "SELECT run_id FROM approvals WHERE status = ? AND expires_at <= ? ORDER BY expires_at",
        (WAITING, iso(now)),
    ).fetchall()
    return [row["run_id"] for row in rows]


def set_place(conn: Conn, run_id: str, index: int, place: str) -> None:
    """Where a front end shows the question (opaque JSON), so the answer can update it."""
    conn.execute(
        "UPDATE approvals SET place = ? WHERE run_id = ? AND idx = ?", (place, run_id, index)
    )


def request_stop(conn: Conn, run_id: str) -> bool:
    """Ask the executor of a pending or running run to stop at its next step boundary."""
    cursor = conn.execute(
        "UPDATE runs SET stop_requested = 1 WHERE id = ? AND status IN ('pending', 'running')",
        (run_id,),
    )
    return cursor.rowcount == 1


def stop_requested(conn: Conn, run_id: str) -> bool:
    row = conn.execute("SELECT stop_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
    return bool(row and row["stop_requested"])


def vote(conn: Conn, run_id: str, voter: Scope, value: str, now: datetime) -> None:
    """One vote per person per run: a later vote replaces the earlier one."""
    conn.execute(
        "INSERT INTO feedback (run_id, enterprise_id, team_id, user_id, value, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, enterprise_id, team_id, user_id) "
        "DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
        (run_id, voter.enterprise_id, voter.team_id, voter.user_id, value, iso(now)),
    )


def feedback(conn: Conn, run_id: str) -> Feedback:
    rows = conn.execute(
        "SELECT value, COUNT(*) AS n FROM feedback WHERE run_id = ? GROUP BY value", (run_id,)
    ).fetchall()
    return Feedback(**{row["value"]: row["n"] for row in rows})


def vote_totals(conn: Conn) -> Feedback:
    rows = conn.execute("SELECT value, COUNT(*) AS n FROM feedback GROUP BY value").fetchall()
    return Feedback(**{row["value"]: row["n"] for row in rows})
