"""Todo rows. Every query is scoped to (enterprise, team, user): foreign rows are invisible."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from core.errors import NotFound
from core.plan import Scope, Todo, iso

_COLUMNS = "number, title, done, created_at, done_at"
_SCOPE = "enterprise_id = ? AND team_id = ? AND user_id = ?"


def _scope(scope: Scope) -> tuple[str, str, str]:
    return (scope.enterprise_id, scope.team_id, scope.user_id)


def _todo(row: sqlite3.Row) -> Todo:
    return Todo(
        number=row["number"],
        title=row["title"],
        done=bool(row["done"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        done_at=datetime.fromisoformat(row["done_at"]) if row["done_at"] else None,
    )


def add(conn: sqlite3.Connection, scope: Scope, title: str, now: datetime) -> Todo:
    # max+1 over every row, deleted ones included, so a number is never handed out twice;
    # the caller holds BEGIN IMMEDIATE, so no other writer can take the same number.
    row = conn.execute(
        f"INSERT INTO todos (enterprise_id, team_id, user_id, number, title, created_at) "
        f"SELECT ?, ?, ?, COALESCE(MAX(number), 0) + 1, ?, ? FROM todos WHERE {_SCOPE} "
        f"RETURNING {_COLUMNS}",
        (*_scope(scope), title, iso(now), *_scope(scope)),
    ).fetchone()
    return _todo(row)


def listing(conn: sqlite3.Connection, scope: Scope, include_done: bool) -> list[Todo]:
    done_filter = "" if include_done else " AND done = 0"
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM todos WHERE {_SCOPE} AND deleted_at IS NULL{done_filter} "
        "ORDER BY number",
        _scope(scope),
    ).fetchall()
    return [_todo(row) for row in rows]


def get(conn: sqlite3.Connection, scope: Scope, number: int) -> Todo:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM todos WHERE {_SCOPE} AND number = ? AND deleted_at IS NULL",
        (*_scope(scope), number),
    ).fetchone()
    if row is None:
        raise NotFound(f"todo #{number} not found")
    return _todo(row)


def complete(conn: sqlite3.Connection, scope: Scope, number: int, now: datetime) -> Todo:
    conn.execute(
        f"UPDATE todos SET done = 1, done_at = ? WHERE {_SCOPE} AND number = ? "
        "AND deleted_at IS NULL AND done = 0",
        (iso(now), *_scope(scope), number),
    )
    return get(conn, scope, number)


def delete(conn: sqlite3.Connection, scope: Scope, number: int, now: datetime) -> Todo:
    todo = get(conn, scope, number)
    conn.execute(
        f"UPDATE todos SET deleted_at = ? WHERE {_SCOPE} AND number = ?",
        (iso(now), *_scope(scope), number),
    )
    return todo
