"""Durable intake: requests acknowledged but not yet planned. A row is written in the same
transaction as the request's delivery key, before the ack, and deleted in the transaction
that stores its run (or once it was answered without one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.plan import Received, Scope, iso
from core.store.conn import Conn
from core.store.jsontext import dump, load

_COLUMNS = (
    "id, enterprise_id, team_id, user_id, text, conversation, channel, thread_ts, "
    "response_url, options, received_at"
)


def record(conn: Conn, received: Received, owner: tuple[str, int, str]) -> None:
    scope = received.scope
    conn.execute(
        f"INSERT INTO intake ({_COLUMNS}, owner_host, owner_pid, owner_token) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (received.id, scope.enterprise_id, scope.team_id, scope.user_id, received.text,
         received.conversation, received.channel, received.thread_ts, received.response_url,
         dump(received.options), iso(received.received_at), *owner),
    )  # fmt: skip


def forget(conn: Conn, intake_id: str) -> None:
    conn.execute("DELETE FROM intake WHERE id = ?", (intake_id,))


def owners(conn: Conn) -> list[Any]:
    """Who holds each received request (id, owner_host, owner_pid, owner_token, received_at)."""
    return conn.execute(
        "SELECT id, owner_host, owner_pid, owner_token, received_at FROM intake "
        "ORDER BY received_at, id"
    ).fetchall()


def claim(conn: Conn, intake_id: str, previous_token: str, owner: tuple[str, int, str]) -> bool:
    """Take over a request a dead process received; compare-and-set, so one process wins."""
    cursor = conn.execute(
        "UPDATE intake SET owner_host = ?, owner_pid = ?, owner_token = ? "
        "WHERE id = ? AND owner_token = ?",
        (*owner, intake_id, previous_token),
    )
    return cursor.rowcount == 1


def load_received(conn: Conn, intake_id: str) -> Received | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM intake WHERE id = ?", (intake_id,)).fetchone()
    if row is None:
        return None
    return Received(
        id=row["id"],
        scope=Scope(enterprise_id=row["enterprise_id"], team_id=row["team_id"],
                    user_id=row["user_id"]),
        text=row["text"], conversation=row["conversation"], channel=row["channel"],
        thread_ts=row["thread_ts"], response_url=row["response_url"],
        options=load(row["options"]), received_at=datetime.fromisoformat(row["received_at"]),
    )  # fmt: skip


# A run planned from a received request owes its requester an answer until the front end has
# posted it: `answered` stays 0 from its insert until then, so a process that dies between the
# run's end and that post leaves the answer to the next process (`unanswered`).
def owe_answer(conn: Conn, run_id: str) -> None:
    conn.execute("UPDATE runs SET answered = 0 WHERE id = ?", (run_id,))


def mark_answered(conn: Conn, run_id: str) -> None:
    conn.execute("UPDATE runs SET answered = 1 WHERE id = ? AND answered = 0", (run_id,))


def unanswered(conn: Conn) -> list[Any]:
    """Finished runs whose answer was never posted (id and owner, like `runs.unfinished`)."""
    return conn.execute(
        "SELECT id, owner_host, owner_pid, owner_token, heartbeat_at FROM runs "
        "WHERE answered = 0 AND status IN ('completed', 'failed', 'cancelled') ORDER BY created_at"
    ).fetchall()


def claim_unanswered(
    conn: Conn, run_id: str, previous_token: str | None, owner: tuple[str, int, str], now: str
) -> bool:
    """Take over the answer of a dead process's run; compare-and-set, so one process posts it.
    Its heartbeat is stamped too: the answer now has a live owner (no one else's to take)."""
    cursor = conn.execute(
        "UPDATE runs SET owner_host = ?, owner_pid = ?, owner_token = ?, heartbeat_at = ? "
        "WHERE id = ? AND owner_token IS NOT DISTINCT FROM ? AND answered = 0",
        (*owner, now, run_id, previous_token),
    )
    return cursor.rowcount == 1
