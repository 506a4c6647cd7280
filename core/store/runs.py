"""Runs, their steps, conversations and run events. Constant SQL strings: sqlite3 caches the
prepared statements, which keeps the per-step hot path to two short writes."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from core.errors import NotFound
from core.plan import (
    History,
    PriorStep,
    Run,
    RunEvent,
    RunStatus,
    Scope,
    Step,
    StepStatus,
    Usage,
    iso,
)
from core.store import conversations


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def insert_run(conn: sqlite3.Connection, run: Run, owner: tuple[str, int, str]) -> None:
    scope = run.scope
    conv = (
        conversations.conversation_id(conn, scope, run.conversation, run.created_at)
        if run.conversation
        else None
    )
    conn.execute(
        "INSERT INTO runs (id, enterprise_id, team_id, user_id, conversation_id, text, status, "
        "planner, fallback_reason, usage, answer, created_at, owner_host, owner_pid, owner_token, "
        "heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.id, scope.enterprise_id, scope.team_id, scope.user_id, conv, run.text,
            run.status.value, run.planner, run.fallback_reason,
            run.usage.model_dump_json() if run.usage else None, run.answer,
            iso(run.created_at), *owner, iso(run.created_at),
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO steps (run_id, idx, enterprise_id, team_id, user_id, tool, args, destructive, "
        "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run.id, step.index, scope.enterprise_id, scope.team_id, scope.user_id,
                step.tool, json.dumps(step.args), int(step.destructive), step.status.value,
            )
            for step in run.steps
        ],
    )  # fmt: skip


def set_run(
    conn: sqlite3.Connection,
    run_id: str,
    status: RunStatus,
    now: datetime,
    answer: str | None = None,
) -> None:
    finished = iso(now) if status in (RunStatus.completed, RunStatus.failed) else None
    conn.execute(
        "UPDATE runs SET status = ?, answer = COALESCE(?, answer), finished_at = ?, "
        "heartbeat_at = ? WHERE id = ?",
        (status.value, answer, finished, iso(now), run_id),
    )


def set_step(conn: sqlite3.Connection, run_id: str, step: Step) -> None:
    result = {
        "value": step.value,
        "todo_numbers": step.todo_numbers,
        "todo_number": step.todo_number,
    }
    conn.execute(
        "UPDATE steps SET status = ?, args = ?, output = ?, result = ?, error = ?, attempts = ?, "
        "started_at = ?, finished_at = ? WHERE run_id = ? AND idx = ?",
        (
            step.status.value, json.dumps(step.args), step.output, json.dumps(result), step.error,
            step.attempts, iso(step.started_at) if step.started_at else None,
            iso(step.finished_at) if step.finished_at else None, run_id, step.index,
        ),
    )  # fmt: skip


def heartbeat(conn: sqlite3.Connection, run_id: str, now: datetime) -> None:
    conn.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (iso(now), run_id))


def append_event(
    conn: sqlite3.Connection, run_id: str, kind: str, data: dict[str, Any], now: datetime
) -> RunEvent:
    row = conn.execute(
        "INSERT INTO run_events (run_id, seq, enterprise_id, team_id, user_id, type, data, "
        "created_at) SELECT id, "
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM run_events WHERE run_id = ?), "
        "enterprise_id, team_id, user_id, ?, ?, ? FROM runs WHERE id = ? RETURNING seq",
        (run_id, kind, json.dumps(data), iso(now), run_id),
    ).fetchone()
    return RunEvent(run_id=run_id, seq=row["seq"], type=kind, data=data, created_at=now)


def events_after(conn: sqlite3.Connection, run_id: str, after_seq: int) -> list[RunEvent]:
    rows = conn.execute(
        "SELECT seq, type, data, created_at FROM run_events WHERE run_id = ? AND seq > ? "
        "ORDER BY seq",
        (run_id, after_seq),
    ).fetchall()
    return [
        RunEvent(
            run_id=run_id,
            seq=row["seq"],
            type=row["type"],
            data=json.loads(row["data"]),
            created_at=datetime.fromisoformat(row["created_at"]),
        )
        for row in rows
    ]


_RUN_SELECT = (
    "SELECT r.*, c.key AS conversation_key FROM runs r "
    "LEFT JOIN conversations c ON c.id = r.conversation_id "
)


def _steps(conn: sqlite3.Connection, run_id: str) -> list[Step]:
    steps = []
    for row in conn.execute("SELECT * FROM steps WHERE run_id = ? ORDER BY idx", (run_id,)):
        result = json.loads(row["result"]) if row["result"] else {}
        steps.append(
            Step(
                index=row["idx"],
                tool=row["tool"],
                args=json.loads(row["args"]),
                destructive=bool(row["destructive"]),
                status=StepStatus(row["status"]),
                output=row["output"],
                error=row["error"],
                attempts=row["attempts"],
                started_at=_time(row["started_at"]),
                finished_at=_time(row["finished_at"]),
                **result,
            )
        )
    return steps


def _run(conn: sqlite3.Connection, row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        scope=Scope(
            enterprise_id=row["enterprise_id"], team_id=row["team_id"], user_id=row["user_id"]
        ),
        conversation=row["conversation_key"],
        text=row["text"],
        status=RunStatus(row["status"]),
        planner=row["planner"],
        fallback_reason=row["fallback_reason"],
        usage=Usage.model_validate_json(row["usage"]) if row["usage"] else None,
        answer=row["answer"],
        steps=_steps(conn, row["id"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        finished_at=_time(row["finished_at"]),
    )


def load_run(conn: sqlite3.Connection, run_id: str, scope: Scope | None = None) -> Run:
    """A run by id; with a scope, another caller's run is reported exactly like a missing one."""
    row = conn.execute(_RUN_SELECT + "WHERE r.id = ?", (run_id,)).fetchone()
    if row is None or (scope is not None and _scope_of(row) != scope):
        raise NotFound(f"run {run_id} not found")
    return _run(conn, row)


def _scope_of(row: sqlite3.Row) -> Scope:
    return Scope(enterprise_id=row["enterprise_id"], team_id=row["team_id"], user_id=row["user_id"])


def list_runs(
    conn: sqlite3.Connection,
    scope: Scope | None,
    limit: int,
    status: RunStatus | None = None,
    before: tuple[str, str] | None = None,
) -> list[Run]:
    """Newest first; `before` = (created_at, id) of the last run of the previous page."""
    where, params = ["1 = 1"], []
    if scope is not None:
        where.append("r.enterprise_id = ? AND r.team_id = ? AND r.user_id = ?")
        params += [scope.enterprise_id, scope.team_id, scope.user_id]
    if status is not None:
        where.append("r.status = ?")
        params.append(status.value)
    if before is not None:
        where.append("(r.created_at, r.id) < (?, ?)")
        params += list(before)
    rows = conn.execute(
        _RUN_SELECT + f"WHERE {' AND '.join(where)} ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_run(conn, row) for row in rows]


def history(conn: sqlite3.Connection, scope: Scope, key: str) -> History:
    """This user's completed steps in this conversation, oldest first. Never another user's."""
    rows = conn.execute(
        "SELECT r.id, r.text, s.tool, s.args, s.result, s.status FROM conversations c "
        "JOIN runs r ON r.conversation_id = c.id AND r.user_id = ? "
        "LEFT JOIN steps s ON s.run_id = r.id "
        "WHERE c.enterprise_id = ? AND c.team_id = ? AND c.key = ? "
        "ORDER BY r.created_at, r.id, s.idx",
        (scope.user_id, scope.enterprise_id, scope.team_id, key),
    ).fetchall()
    found = History()
    seen_runs: set[str] = set()
    for row in rows:
        if row["id"] not in seen_runs:
            seen_runs.add(row["id"])
            found.requests.append(row["text"])
        if row["tool"] is None or row["status"] != StepStatus.completed.value:
            continue
        result = json.loads(row["result"]) if row["result"] else {}
        found.steps.append(PriorStep(tool=row["tool"], args=json.loads(row["args"]), **result))
    return found


def unfinished(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT id, owner_host, owner_pid, owner_token, heartbeat_at FROM runs "
        "WHERE status IN ('pending', 'running') ORDER BY created_at"
    ).fetchall()


def claim(
    conn: sqlite3.Connection,
    run_id: str,
    previous_token: str | None,
    owner: tuple[str, int, str],
    now: datetime,
) -> bool:
    """Take over an orphaned run; compare-and-set so two recovering processes cannot both win."""
    cursor = conn.execute(
        "UPDATE runs SET owner_host = ?, owner_pid = ?, owner_token = ?, heartbeat_at = ? "
        "WHERE id = ? AND owner_token IS ? AND status IN ('pending', 'running')",
        (*owner, iso(now), run_id, previous_token),
    )
    return cursor.rowcount == 1
