"""Todo rows. Every query is scoped to (enterprise, team, user): foreign rows are invisible."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.errors import NotFound
from core.plan import Scope, Todo, iso
from core.store.conn import Conn

_COLUMNS = "number, title, done, created_at, done_at"
_SCOPE = "enterprise_id = ? AND team_id = ? AND user_id = ?"


def _scope(scope: Scope) -> tuple[str, str, str]:
    return (scope.enterprise_id, scope.team_id, scope.user_id)


def _todo(row: Any) -> Todo:
    return Todo(
        number=row["number"],
        title=row["title"],
        done=bool(row["done"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        done_at=datetime.fromisoformat(row["done_at"]) if row["done_at"] else None,
    )


def add(conn: Conn, scope: Scope, title: str, now: datetime) -> Todo:
    # The user's counter row hands out max+1 over every number ever given (deleted todos
    # included), so a number is never handed out twice. The upsert locks that row until the
    # transaction ends: concurrent writers for one user — other threads, other processes, on
    # either backend — take turns, with no retry loop (SQLite: BEGIN IMMEDIATE already does).
    number = conn.execute(
        "INSERT INTO todo_counters (enterprise_id, team_id, user_id, last_number) "
        "VALUES (?, ?, ?, 1) ON CONFLICT (enterprise_id, team_id, user_id) "
        "DO UPDATE SET last_number = todo_counters.last_number + 1 RETURNING last_number",
        _scope(scope),
    ).fetchone()["last_number"]
    row = conn.execute(
        "INSERT INTO todos (enterprise_id, team_id, user_id, number, title, created_at) "
        f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (*_scope(scope), number, title, iso(now)),
    ).fetchone()
    return _todo(row)


def listing(conn: Conn, scope: Scope, include_done: bool) -> list[Todo]:
    done_filter = "" if include_done else " AND done = 0"
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM todos WHERE {_SCOPE} AND deleted_at IS NULL{done_filter} "
        "ORDER BY number",
        _scope(scope),
    ).fetchall()
    return [_todo(row) for row in rows]


def get(conn: Conn, scope: Scope, number: int) -> Todo:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM todos WHERE {_SCOPE} AND number = ? AND deleted_at IS NULL",
        (*_scope(scope), number),
    ).fetchone()
    if row is None:
        raise NotFound(f"todo #{number} not found")
    return _todo(row)


def complete(conn: Conn, scope: Scope, number: int, now: datetime) -> Todo:
    conn.execute(
        f"UPDATE todos SET done = 1, done_at = ? WHERE {_SCOPE} AND number = ? "
        "AND deleted_at IS NULL AND done = 0",
        (iso(now), *_scope(scope), number),
    )
    return get(conn, scope, number)


def delete(conn: Conn, scope: Scope, number: int, now: datetime) -> Todo:
    todo = get(conn, scope, number)
    conn.execute(
        f"UPDATE todos SET deleted_at = ? WHERE {_SCOPE} AND number = ?",
        (iso(now), *_scope(scope), number),
    )
    return todo
