"""Upgrading in place, on both backends, from databases Crane's code of commit 5c91e7b made
(before the one migration stream; rebuilt by `tests/core/old_databases.py`, never by hand):
every row stays, the app goes on with them, the schema is a new database's, and a column added
later as one more SQL file lands on them. A file that fails leaves no half-written schema, and
processes upgrading at once apply each file once. (The whole store contract suite also runs on
these databases: `STORE_CONTRACT`, tests/conftest.py.)"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import cli
from core.orchestrator import Orchestrator
from core.plan import RunStatus, Scope
from core.planners.pattern import plan
from core.runtime import Crane
from core.store import Store, pg_migrate, schema, upgrade
from tests.core import old_databases
from tests.pg import fresh_schema

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
ADA = Scope(enterprise_id="E-old", team_id="T-old", user_id="ada")
BOB = Scope(enterprise_id="E-old", team_id="T-old", user_id="bob")
BOOKKEEPING = {"crane_migrations", "_sqlite_migrations"}
# the files written after the old databases' code: the ones an upgrade applies to them
A_COLUMN = (
    "900_todo_colour.sql",
    "ALTER TABLE todos ADD COLUMN colour TEXT NOT NULL DEFAULT 'none';\n",
)


# migrations added since tests/core/data was made by the older Crane


@pytest.fixture(params=["sqlite", "postgresql"])
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A copy of the database the old code made, not yet upgraded."""
    if request.param == "sqlite":
        yield old_databases.sqlite_copy(tmp_path)
        return
    with old_databases.postgresql_copy() as url:
        yield url


@pytest.fixture
def more_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old_db: str) -> Path:
    """The migration stream in a folder of its own, for a test to add files to — the old
    database already brought to it (files added after 5c91e7b included)."""
    folder = tmp_path / "migrations"
    shutil.copytree(schema.FILES, folder)
    monkeypatch.setattr(schema, "FILES", folder)
    upgrade(old_db)
    return folder


def _query(db: str, sql: str) -> list[tuple[Any, ...]]:
    if db.startswith("postgresql://"):
        with psycopg.connect(db) as conn:
            return [tuple(row) for row in conn.execute(sql.encode())]
    with sqlite3.connect(db) as conn:
        rows = [tuple(row) for row in conn.execute(sql)]
    conn.close()
    return rows


def _tables(db: str) -> list[str]:
    if db.startswith("postgresql://"):
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return sorted(row[0] for row in _query(db, sql) if row[0] not in BOOKKEEPING)


MADE_BY_LAST = "040_shown_in"  # the newest migration 5c91e7b's code applied


def _every_row(db: str) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sorted(_query(db, f"SELECT * FROM {table}"), key=repr) for table in _tables(db)}


def _columns(db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's columns as the database declares them: name, type, null, default."""
    if db.startswith("postgresql://"):
        rows = _query(
            db,
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "ORDER BY table_name, ordinal_position",
        )
        found: dict[str, list[tuple[Any, ...]]] = {}
        for table, *column in rows:
            found.setdefault(table, []).append(tuple(column))
        return {table: found[table] for table in _tables(db)}
    return {table: _query(db, f"PRAGMA table_info({table})") for table in _tables(db)}


def _indexes(db: str) -> list[tuple[Any, ...]]:
    if db.startswith("postgresql://"):
        sql = "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        sql = "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index'"
    return sorted(row for row in _query(db, sql) if row[0] not in BOOKKEEPING)


def test_crane_db_upgrade_keeps_every_row_and_takes_over_the_old_record(
    old_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _every_row(old_db)
    assert len(before["runs"]) == 8 and len(before["todos"]) == 5  # the fixture has real rows
    name_at = 0 if old_db.startswith("postgresql://") else 1  # PRAGMA table_info: cid first
    made_with = {table: [str(column[name_at]) for column in columns]
                 for table, columns in _columns(old_db).items() if table in before}  # fmt: skip

    assert cli.main(["db", "upgrade", "--db", old_db]) == 0

    out = capsys.readouterr().out.splitlines()
    dialect = "postgresql" if old_db.startswith("postgresql://") else "sqlite"
    # adopted: nothing the fixture's code applied runs again; only files added since do
    newer = [f"applied {m.name}" for m in schema.stream(dialect) if m.name > MADE_BY_LAST]
    assert out[:-1] == newer and out[-1].endswith("is up to date")
    kept = {table: sorted(_query(old_db, f"SELECT {', '.join(columns)} FROM {table}"), key=repr)
            for table, columns in made_with.items()}  # fmt: skip
    assert kept == before  # every row, every value it had
    recorded = {row[0] for row in _query(old_db, "SELECT name FROM crane_migrations")}
    if old_db.startswith("postgresql://"):
        assert recorded == set(pg_migrate.names())
    else:
        assert recorded == {migration.name for migration in schema.stream("sqlite")}
        assert "_sqlite_migrations" not in _query(old_db, "SELECT name FROM sqlite_master")


def test_an_upgraded_database_has_the_schema_of_a_new_one(old_db: str, tmp_path: Path) -> None:
    upgrade(old_db)
    if old_db.startswith("postgresql://"):
        with fresh_schema() as new:
            upgrade(new)
            assert (_columns(old_db), _indexes(old_db)) == (_columns(new), _indexes(new))
        return
    new = str(tmp_path / "new.db")
    upgrade(new)
    assert (_columns(old_db), _indexes(old_db)) == (_columns(new), _indexes(new))


def test_the_app_goes_on_with_the_old_rows(old_db: str) -> None:
    store = Store(old_db)
    crane = Crane(store, plan, Orchestrator(store, sleep=lambda _: None))
    try:
        open_todos = [(t.number, t.title) for t in store.list_todos(ADA)]
        assert open_todos == [(1, "buy milk"), (4, "call the plumber")]
        added = crane.ask(ADA, "add a todo to call the bank", "thread-1")
        assert added.status is RunStatus.completed
        assert [t.number for t in store.list_todos(ADA)] == [1, 4, 5]  # numbers never reused
        answer = crane.ask(ADA, "list my todos", "thread-1").answer or ""
        assert "call the bank" in answer and "buy milk" in answer
        history = store.history(ADA, "thread-1")  # the thread's old requests, then the new ones
        assert history.requests[0] == "add a todo to buy milk"
        assert history.requests[-2:] == ["add a todo to call the bank", "list my todos"]
        approved = next(run for run in store.list_runs(ADA) if run.text == "delete todo 3")
        assert store.last_decision(approved.id) is not None
        assert store.shown(approved.id) == {"channel": "C1", "ts": "1700000000.000100"}
        assert store.vote_totals().up == 1
        assert store.idempotent_run(BOB, "key-1") is None  # stored in June 2025: past its 24 h
        assert len(store.list_runs(BOB)) == 4
        assert not store.claim_delivery("msg:T-old:D1:1700000001.000200")  # seen before
        assert store.installations.find_bot("E-old", "T-old") is not None
        assert store.installations.consume_state("state-old")
    finally:
        store.close()


def test_the_readmes_new_column_is_one_more_file_and_lands_on_an_old_database(
    old_db: str, more_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = README.split("## Adding a column")[1].split("\n## ")[0]
    assert "`core/store/migrations/NNN_what.sql`" in section
    assert "`core/store/schema.py`" in section and f"`{schema.POSTGRESQL_ONLY}`" in section
    example = re.search(
        r"`(\d{3}_\w+)\.sql`: `(ALTER TABLE (\w+) ADD COLUMN (\w+) [^`]+)`", section
    )
    assert example is not None
    name, sql, table, column = example.groups()
    (more_files / f"{name}.sql").write_text(sql + "\n", encoding="utf-8")

    assert cli.main(["db", "upgrade", "--db", old_db]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[-2] == f"applied {name}" and out[-1].endswith("is up to date")  # the last one
    assert column in _column_names(old_db, table)
    assert len(_query(old_db, f"SELECT {column} FROM {table}")) == 5  # every old row has it


def test_a_file_that_fails_half_way_leaves_no_half_written_schema(
    old_db: str, more_files: Path
) -> None:
    upgrade(old_db)  # today's stream first: the test is about the file it adds
    broken = (
        A_COLUMN[1] + "CREATE TABLE labels (name TEXT);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    upgrade(old_db)  # the files that work, so only the broken one is left to apply
    (more_files / A_COLUMN[0]).write_text(broken, encoding="utf-8")
    before = _columns(old_db) if old_db.startswith("postgresql://") else None

    with pytest.raises(Exception, match="no_such_table"):
        upgrade(old_db)

    assert "colour" not in _column_names(old_db, "todos")
    assert "labels" not in _tables(old_db)
    assert before is None or _columns(old_db) == before
    (more_files / A_COLUMN[0]).write_text(A_COLUMN[1], encoding="utf-8")  # fixed: applies
    assert upgrade(old_db) == ["900_todo_colour"]


def _column_names(db: str, table: str) -> list[str]:
    if db.startswith("postgresql://"):
        return [column[0] for column in _columns(db)[table]]
    return [column[1] for column in _columns(db)[table]]


def test_a_semicolon_in_a_comment_or_a_string_does_not_split_a_statement(
    old_db: str, more_files: Path
) -> None:
    upgrade(old_db)  # today's stream first: the test is about the file it adds
    sql = "-- a note; with a semicolon\nALTER TABLE todos ADD COLUMN note TEXT DEFAULT 'a; b'"
    (more_files / "900_note.sql").write_text(sql, encoding="utf-8")  # and no last `;`

    assert upgrade(old_db) == ["900_note"]
    assert {row[0] for row in _query(old_db, "SELECT note FROM todos")} == {"a; b"}


def _upgrade_with(db: str, folder: str) -> list[str]:
    schema.FILES = Path(folder)  # a spawned process: the parent's monkeypatch is not here
    return upgrade(db)


def test_processes_upgrading_an_old_database_at_once_apply_each_file_once(
    old_db: str, more_files: Path
) -> None:
    upgrade(old_db)  # today's stream first: the test is about the file it adds
    (more_files / A_COLUMN[0]).write_text(A_COLUMN[1], encoding="utf-8")
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        applied = pool.starmap(_upgrade_with, [(old_db, str(more_files))] * 3)

    assert sorted(name for each in applied for name in each) == ["900_todo_colour"]
    names = [row[0] for row in _query(old_db, "SELECT name FROM crane_migrations")]
    assert len(names) == len(set(names)) and "900_todo_colour" in names
    assert len(_query(old_db, "SELECT * FROM todos")) == 5
