"""Runs, their steps and run events: creating and reading them. The writes of a run being
executed live in `journal`."""

from __future__ import annotations

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
from core.store import approvals, conversations
from core.store.conn import Conn, Cursor
from core.store.jsontext import dump, load


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def insert_run(conn: Conn, run: Run, owner: tuple[str, int, str]) -> None:
    scope = run.scope
    conv = (
        conversations.conversation_id(conn, scope, run.conversation, run.created_at)
        if run.conversation
        else None
    )
    conn.execute(
        "INSERT INTO runs (id, enterprise_id, team_id, user_id, conversation_id, text, status, "
        "planner, fallback_reason, usage, answer, created_at, owner_host, owner_pid, owner_token, "
        "heartbeat_at, approval, trace_id, root_span_id, root_parent_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.id, scope.enterprise_id, scope.team_id, scope.user_id, conv, run.text,
            run.status.value, run.planner, run.fallback_reason,
            run.usage.model_dump_json() if run.usage else None, run.answer,
            iso(run.created_at), *owner, iso(run.created_at), int(run.approval),
            run.trace_id, run.root_span_id, run.root_parent_id,
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO steps (run_id, idx, enterprise_id, team_id, user_id, tool, args, destructive, "
        "private_output, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run.id, step.index, scope.enterprise_id, scope.team_id, scope.user_id,
                step.tool, dump(step.args), int(step.destructive), int(step.private),
                step.status.value,
            )
            for step in run.steps
        ],
    )  # fmt: skip


def events_after(conn: Conn, run_id: str, after_seq: int) -> list[RunEvent]:
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
            data=load(row["data"]),
            created_at=datetime.fromisoformat(row["created_at"]),
        )
        for row in rows
    ]


_RUN_SELECT = (
    "SELECT r.*, c.key AS conversation_key FROM runs r "
    "LEFT JOIN conversations c ON c.id = r.conversation_id "
)


_STEP_COLUMNS = (
    "idx, tool, args, destructive, private_output, status, output, result, error, attempts, "
    "started_at, finished_at"
)


def _steps(conn: Conn, run_id: str) -> list[Step]:
    rows = conn.execute(
        f"SELECT {_STEP_COLUMNS} FROM steps WHERE run_id = ? ORDER BY idx", (run_id,)
    ).fetchall()
    steps = []
    for (index, tool, args, destructive, private, status, output, result, error, attempts,
         started_at, finished_at) in rows:  # fmt: skip
        steps.append(
            Step(
                index=index,
                tool=tool,
                args=load(args),
                destructive=bool(destructive),
                private=bool(private),
                status=StepStatus(status),
                output=output,
                error=error,
                attempts=attempts,
                started_at=_time(started_at),
                finished_at=_time(finished_at),
                **(load(result) if result else {}),
            )
        )
    return steps


def _run(conn: Conn, row: Any) -> Run:
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
        approval=bool(row["approval"]),
        feedback=approvals.feedback(conn, row["id"]),
        trace_id=row["trace_id"],
        root_span_id=row["root_span_id"],
        root_parent_id=row["root_parent_id"],
    )


def load_run(conn: Conn, run_id: str, scope: Scope | None = None) -> Run:
    """A run by id; with a scope, another caller's run is reported exactly like a missing one."""
    row = conn.execute(_RUN_SELECT + "WHERE r.id = ?", (run_id,)).fetchone()
    if row is None or (scope is not None and _scope_of(row) != scope):
        raise NotFound(f"run {run_id} not found")
    return _run(conn, row)


def _scope_of(row: Any) -> Scope:
    return Scope(enterprise_id=row["enterprise_id"], team_id=row["team_id"], user_id=row["user_id"])


def list_runs(
    conn: Conn,
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


def history(conn: Conn, scope: Scope, key: str) -> History:
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
        result = load(row["result"]) if row["result"] else {}
        turn = len(found.requests) - 1
        found.steps.append(PriorStep(tool=row["tool"], args=load(row["args"]), turn=turn, **result))
    return found


def unfinished(conn: Conn) -> list[Any]:
    return conn.execute(
        "SELECT id, owner_host, owner_pid, owner_token, heartbeat_at FROM runs "
        "WHERE status IN ('pending', 'running') ORDER BY created_at"
    ).fetchall()


def owner(conn: Conn, run_id: str) -> Any:
    """The run's status and owner (host, pid, token, heartbeat_at), or None."""
    return conn.execute(
        "SELECT status, owner_host, owner_pid, owner_token, heartbeat_at FROM runs WHERE id = ?",
        (run_id,),
    ).fetchone()


def take(
    conn: Conn,
    run_id: str,
    expected: str | None,
    owner: tuple[str, int, str],
    now: datetime,
    expired_before: datetime,
) -> Cursor:
    """Take the lease of an unfinished run: compare-and-set from the token the caller expects
    (the one it stored, or a dead owner's), or from any owner whose lease has expired. Taken
    if its row count is 1."""
    return conn.execute(
        "UPDATE runs SET owner_host = ?, owner_pid = ?, owner_token = ?, heartbeat_at = ? "
        "WHERE id = ? AND status IN ('pending', 'running') "
        "AND (owner_token IS NOT DISTINCT FROM ? OR heartbeat_at < ?)",
        (*owner, iso(now), run_id, expected, iso(expired_before)),
    )


def claim(
    conn: Conn,
    run_id: str,
    previous_token: str | None,
    owner: tuple[str, int, str],
    now: datetime,
) -> bool:
    """Take over an orphaned run; compare-and-set so two recovering processes cannot both win."""
    cursor = conn.execute(
        "UPDATE runs SET owner_host = ?, owner_pid = ?, owner_token = ?, heartbeat_at = ? "
        "WHERE id = ? AND owner_token IS NOT DISTINCT FROM ? AND status IN ('pending', 'running')",
        (*owner, iso(now), run_id, previous_token),
    )
    return cursor.rowcount == 1


def save_shown(conn: Conn, run_id: str, shown_in: dict[str, Any]) -> None:
    conn.execute("UPDATE runs SET shown_in = ? WHERE id = ?", (dump(shown_in), run_id))


def shown(conn: Conn, run_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT shown_in FROM runs WHERE id = ?", (run_id,)).fetchone()
    return load(row["shown_in"]) if row is not None and row["shown_in"] else None
