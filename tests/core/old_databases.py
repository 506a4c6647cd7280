"""The databases the upgrade-in-place tests start from, made by Crane's OWN code at commit
`COMMIT` (the last one before the one migration stream), not written by hand:

    .venv/bin/python tests/core/old_databases.py      # needs git, pg_dump, CRANE_TEST_PG

It extracts that commit into a temporary folder (`git archive`), runs `write_rows` there with
that tree first on the import path — the old runtime, planner, orchestrator and store write the
rows, and the old migrations make the schema — once on a SQLite file and once on a PostgreSQL
schema, and keeps the SQLite file and a `pg_dump` of the schema in `data/made_by_<COMMIT>/`.

Everything is in one tenant (`TENANT`), finished, and dated June 2025, so a store test of
other tenants meets it only where a query spans every tenant.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

COMMIT = "5c91e7b"
HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / f"made_by_{COMMIT}"
SQLITE_FILE = OUT / "crane.db"
PG_DUMP = OUT / "postgresql.sql"
PG_SCHEMA = f"made_by_{COMMIT}"  # the schema's name inside the dump; tests load it renamed
TENANT = ("E-old", "T-old")


def write_rows(db: str, tree: str) -> None:
    """Use Crane as a user would, with the code of the old tree (imported here, not above)."""
    from datetime import UTC, datetime, timedelta

    import core
    from core.orchestrator import Orchestrator
    from core.plan import Received, Scope
    from core.planners.pattern import plan
    from core.runtime import Crane
    from core.store import Store

    assert Path(core.__file__).is_relative_to(tree), core.__file__  # really the old code
    moments = (datetime(2025, 6, 1, 9, tzinfo=UTC) + timedelta(seconds=n) for n in range(10**6))
    store = Store(db, clock=lambda: next(moments))  # old data: months before the tests' clocks
    crane = Crane(store, plan, Orchestrator(store, sleep=lambda _: None, owner=("old", 1, "tok")))
    ada = Scope(enterprise_id=TENANT[0], team_id=TENANT[1], user_id="ada")
    bob = Scope(enterprise_id=TENANT[0], team_id=TENANT[1], user_id="bob")
    crane.ask(ada, "add a todo to buy milk", "thread-1")
    crane.ask(ada, "add todos: eggs; bread; call the plumber", "thread-1")
    crane.ask(ada, "complete todo 2", "thread-1")
    crane.ask(bob, "calculate (2+3)*4")
    crane.ask(bob, "remind me to call mom")
    text, planned = crane.plan(ada, "delete todo 3", "thread-1")  # asked in Slack: approval
    waiting = crane.start(ada, text, planned, "thread-1", approval=True)
    crane.execute(waiting.id)
    crane.approve(waiting.id, by="ada")
    crane.execute(waiting.id)
    crane.vote(waiting.id, ada, "up")
    store.save_shown(waiting.id, {"channel": "C1", "ts": "1700000000.000100"})
    text, planned = crane.plan(bob, "what is 15% of 80")  # a REST request with a key
    keyed = crane.start(bob, text, planned, idempotency=("key-1", "body-hash-1"))
    crane.execute(keyed.id)
    received = Received(id="in-1", scope=bob, text="list my todos", conversation="dm-bob",
                        channel="D1", received_at=store.clock())  # fmt: skip
    store.receive(received, "msg:T-old:D1:1700000001.000200", ("old", 1, "tok"))
    text, planned = crane.plan(bob, received.text, received.conversation)
    answered = crane.start(bob, text, planned, received.conversation, received=received.id)
    crane.execute(answered.id)
    store.mark_answered(answered.id)
    store.claim_delivery("cmd:T-old:trigger-1", bob)
    store.installations.save_installation(*TENANT, "ada", False, '{"bot_token": "xoxb-old"}')
    store.installations.save_bot(*TENANT, False, '{"bot_token": "xoxb-old"}')
    store.installations.issue_state("state-old", timedelta(days=36500))
    store.close()


def sqlite_copy(folder: Path) -> str:
    """A copy of the SQLite file the old code made, in `folder`, to upgrade and use."""
    copy = folder / "made-by-old-crane.db"
    shutil.copyfile(SQLITE_FILE, copy)
    return str(copy)


@contextmanager
def postgresql_copy() -> Iterator[str]:
    """A fresh schema of CRANE_TEST_PG holding the old code's PostgreSQL database."""
    from tests.pg import schema_from_dump

    with schema_from_dump(PG_DUMP.read_text(encoding="utf-8"), PG_SCHEMA) as url:
        yield url


def _run_old_code(tree: Path, db: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = f"import sys; sys.path.insert(0, {str(HERE)!r}); import old_databases as o; "
    script += f"o.write_rows({db!r}, {str(tree)!r})"
    subprocess.run([sys.executable, "-c", script], cwd=tree, env=env, check=True)


def main() -> None:
    import psycopg

    server = os.environ.get("CRANE_TEST_PG") or "postgresql://postgres@127.0.0.1:5432/test"
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "crane"
        tree.mkdir()
        archive = subprocess.run(["git", "archive", COMMIT], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        SQLITE_FILE.unlink(missing_ok=True)
        made = Path(folder) / "crane.db"
        _run_old_code(tree, str(made))
        shutil.copyfile(made, SQLITE_FILE)  # the WAL is checkpointed at close
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")  # type: ignore[arg-type]
            conn.execute(f"CREATE SCHEMA {PG_SCHEMA}")  # type: ignore[arg-type]
        try:
            joiner = "&" if "?" in server else "?"
            _run_old_code(tree, f"{server}{joiner}options={quote(f'-csearch_path={PG_SCHEMA}')}")
            dump = subprocess.run(
                ["pg_dump", "--schema", PG_SCHEMA, "--inserts", "--no-owner", "--no-privileges",
                 "--dbname", server],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            PG_DUMP.write_text(dump.stdout, encoding="utf-8")
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {PG_SCHEMA} CASCADE")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
