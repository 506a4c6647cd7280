"""The floor under Crane's durable steps on SQLite: the statements one step commits (lease
renewal, the step's end, the next step's start, their two events; then COMMIT), sent by bare
sqlite3 with no Python around them — on the same file settings (WAL, synchronous=NORMAL) and
with the WAL checkpointed off the write path as Crane's store does (core.store.checkpoint)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.store.checkpoint import BACKSTOP_PAGES, Checkpointer

STEP_EVENT = '{"step":{"index":1,"tool":"noop","status":"completed","output":"ok"}}'


class SqlFloorRunner:
    def __init__(self, path: Path, steps: int) -> None:
        self.steps = steps
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON",
                       f"wal_autocheckpoint = {BACKSTOP_PAGES}"):  # fmt: skip
            self.conn.execute(f"PRAGMA {pragma}")
        self.checkpointer = Checkpointer(str(path))
        self.conn.executescript("""
            CREATE TABLE runs (id TEXT PRIMARY KEY, owner_token TEXT, heartbeat_at TEXT,
                               stop_requested INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE steps (run_id TEXT NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL,
                                status TEXT, output TEXT, result TEXT, args TEXT,
                                started_at TEXT, finished_at TEXT, PRIMARY KEY (run_id, idx));
            CREATE TABLE run_events (run_id TEXT NOT NULL REFERENCES runs(id),
                                     seq INTEGER NOT NULL, type TEXT NOT NULL,
                                     data TEXT NOT NULL, created_at TEXT NOT NULL,
                                     PRIMARY KEY (run_id, seq));
        """)
        self.count = 0

    def run_once(self) -> None:
        self.count += 1
        run, conn, seq = f"r{self.count}", self.conn, 0
        conn.execute("INSERT INTO runs (id, owner_token) VALUES (?, 't')", (run,))
        conn.executemany("INSERT INTO steps (run_id, idx, status) VALUES (?, ?, 'pending')",
                         [(run, i) for i in range(self.steps + 1)])  # fmt: skip
        for i in range(self.steps):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE runs SET heartbeat_at = 'now' WHERE id = ? AND owner_token = 't' "
                         "RETURNING stop_requested", (run,)).fetchall()  # fmt: skip
            conn.execute("UPDATE steps SET status = 'completed', output = 'ok', result = '{}', "
                         "finished_at = 'now' WHERE run_id = ? AND idx = ?", (run, i))  # fmt: skip
            conn.execute("UPDATE steps SET status = 'running', args = '{}', started_at = 'now' "
                         "WHERE run_id = ? AND idx = ?", (run, i + 1))  # fmt: skip
            conn.execute(
                "INSERT INTO run_events (run_id, seq, type, data, created_at) "
                "VALUES (?, ?, 'step.finished', ?, 'now'), (?, ?, 'step.started', ?, 'now')",
                (run, seq + 1, STEP_EVENT, run, seq + 2, STEP_EVENT),
            )
            seq += 2
            conn.execute("COMMIT")
            self.checkpointer.committed()

    def close(self) -> None:
        self.checkpointer.close()
        self.conn.close()
