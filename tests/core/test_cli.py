"""`crane` on the command line: what a person sees on stdout/stderr and the exit code."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import cli
from core.plan import Scope
from core.store import Store

RUN_KEYS = {
    "id",
    "status",
    "text",
    "planner",
    "fallback_reason",
    "usage",
    "answer",
    "steps",
    "created_at",
    "finished_at",
    "feedback",
    "trace_id",
}
STEP_KEYS = {"index", "tool", "args", "status", "output", "error", "attempts"}
TODO_KEYS = {"number", "title", "done", "created_at", "done_at"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a developer's CRANE_DB or write ./crane.db into the repo."""
    monkeypatch.delenv("CRANE_DB", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db(database: str) -> str:
    """The suite runs once on a SQLite file, once on PostgreSQL (a fresh schema)."""
    return database


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ask_json(capsys: pytest.CaptureFixture[str], db: str, text: str, *extra: str) -> Any:
    code, out, _err = run_cli(capsys, "ask", text, "--json", "--db", db, *extra)
    record = json.loads(out)
    record["_exit"] = code
    return record


def seed_todos(db: str, *titles: str, done: tuple[int, ...] = ()) -> None:
    store = Store(db)
    try:
        for title in titles:
            store.add_todo(Scope(), title)
        for number in done:
            store.complete_todo(Scope(), number)
    finally:
        store.close()


# ask


def test_ask_json_prints_the_run_record_and_exits_0(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, _err = run_cli(capsys, "ask", "calculate 2+3", "--json", "--db", db)

    assert code == 0
    record = json.loads(out)  # stdout is nothing but the JSON record
    assert set(record) == RUN_KEYS
    assert record["status"] == "completed"
    assert record["text"] == "calculate 2+3"
    assert record["steps"], "a calculation is at least one step"
    assert all(set(step) == STEP_KEYS for step in record["steps"])
    assert [step["index"] for step in record["steps"]] == list(range(1, len(record["steps"]) + 1))
    assert record["steps"][0]["tool"] == "calculator"
    assert record["steps"][0]["attempts"] == 1
    assert "5" in record["answer"]
    assert record["created_at"].endswith("Z")
    assert record["finished_at"].endswith("Z")


def test_ask_shows_the_plan_each_step_and_the_answer(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, _ = run_cli(capsys, "ask", "calculate 2+3", "--db", db)

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Plan:"
    step_lines = [line for line in lines if line.startswith("✅ step 1 calculator: ")]
    assert len(step_lines) == 1
    assert step_lines[0].endswith("5")
    assert lines[-1].endswith("5")


def test_a_failed_run_prints_its_record_and_exits_1(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = run_cli(capsys, "ask", "calculate 1/0", "--json", "--db", db)

    assert code == 1
    record = json.loads(out)
    assert set(record) == RUN_KEYS
    assert record["status"] == "failed"
    assert "zero" in record["answer"].lower()
    assert record["steps"][-1]["status"] == "failed"
    assert "Traceback" not in err


def test_a_failed_step_is_shown_with_its_reason(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, _ = run_cli(capsys, "ask", "calculate 1/0", "--db", db)

    assert code == 1
    assert "❌ step 1 calculator failed: division by zero is undefined" in out


def test_a_follow_up_in_the_same_thread_uses_the_previous_result(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    first = ask_json(capsys, db, "calculate 2+3", "--thread", "t1")
    follow_up = ask_json(capsys, db, "add 10 to that", "--thread", "t1")

    assert first["_exit"] == follow_up["_exit"] == 0
    assert "15" in follow_up["answer"]


def test_crane_db_environment_variable_chooses_the_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRANE_DB", str(tmp_path / "from-env.db"))

    code, _, _ = run_cli(capsys, "ask", "add a todo to buy milk")

    assert code == 0
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "crane.db").exists()
    _, out, _ = run_cli(capsys, "todos", "--json")
    assert [todo["title"] for todo in json.loads(out)] == ["buy milk"]


def test_an_explicit_db_wins_over_crane_db(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    monkeypatch.setenv("CRANE_DB", str(tmp_path / "from-env.db"))

    run_cli(capsys, "ask", "calculate 1+1", "--db", db)

    store = Store(db)
    assert [run.text for run in store.list_runs()] == ["calculate 1+1"]
    store.close()
    assert not (tmp_path / "from-env.db").exists()


# refusals: exit 2, one line on stderr, nothing on stdout, nothing stored


def _refusal_cases(tmp: Path) -> dict[str, list[str]]:
    (tmp / "a-dir").mkdir()
    (tmp / "a-file").write_text("just a file\n")
    (tmp / "essay.txt").write_text("my essay, not a database\n")
    db = str(tmp / "cli.db")
    return {
        "empty-text": ["ask", "", "--db", db],
        "blank-text": ["ask", "  \n\t ", "--db", db],
        "too-long-text": ["ask", "x" * 4001, "--db", db],
        "bad-flag": ["ask", "calculate 1+1", "--bogus", "--db", db],
        "no-command": [],
        "unknown-command": ["fly", "--db", db],
        "missing-text": ["ask", "--db", db],
        "blank-user": ["ask", "calculate 1+1", "--user", " ", "--db", db],
        "db-is-directory": ["ask", "calculate 1+1", "--db", str(tmp / "a-dir")],
        "db-parent-is-file": ["ask", "calculate 1+1", "--db", str(tmp / "a-file" / "x.db")],
        "db-parent-missing": ["ask", "calculate 1+1", "--db", str(tmp / "nope" / "x.db")],
        "db-not-sqlite": ["ask", "calculate 1+1", "--db", str(tmp / "essay.txt")],
        "todos-db-is-directory": ["todos", "--db", str(tmp / "a-dir")],
        "runs-db-not-sqlite": ["runs", "--db", str(tmp / "essay.txt")],
        "runs-bad-limit": ["runs", "--limit", "0", "--db", db],
        "db-empty": ["ask", "calculate 1+1", "--db", ""],
    }


REFUSALS = [
    "empty-text",
    "blank-text",
    "too-long-text",
    "bad-flag",
    "no-command",
    "unknown-command",
    "missing-text",
    "blank-user",
    "db-is-directory",
    "db-parent-is-file",
    "db-parent-missing",
    "db-not-sqlite",
    "todos-db-is-directory",
    "runs-db-not-sqlite",
    "runs-bad-limit",
    "db-empty",
]
TEXT_REFUSALS = {"empty-text", "blank-text", "too-long-text", "bad-flag", "missing-text"}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_command_exits_2_with_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    argv = _refusal_cases(tmp_path)[case]

    code, out, err = run_cli(capsys, *argv)

    assert code == 2
    assert out == ""
    assert err.endswith("\n")
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert err.startswith("crane")
    assert (tmp_path / "essay.txt").read_text() == "my essay, not a database\n"
    assert (tmp_path / "a-file").read_text() == "just a file\n"
    assert not (tmp_path / "nope").exists()
    if case in TEXT_REFUSALS:
        assert not (tmp_path / "cli.db").exists()


def test_an_empty_request_says_what_to_do(capsys: pytest.CaptureFixture[str], db: str) -> None:
    _, _, err = run_cli(capsys, "ask", "   ", "--db", db)
    assert err == "crane: the request is empty — say what Crane should do\n"


def test_a_too_long_request_says_the_limit(capsys: pytest.CaptureFixture[str], db: str) -> None:
    _, _, err = run_cli(capsys, "ask", "x" * 4001, "--db", db)
    assert "4001 characters; the limit is 4000" in err


def test_a_4000_character_request_is_not_refused_for_length(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, _, err = run_cli(capsys, "ask", "x" * 4000, "--json", "--db", db)
    assert code in (0, 1)
    assert "too long" not in err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["ask", "add a todo to \udcff"], "the request"),
        (["ask", "calculate 1+1", "--user", "\udcff"], "--user"),
        (["ask", "calculate 1+1", "--thread", "\udcff"], "--thread"),
        (["todos", "--user", "\udcff"], "--user"),
        (["runs", "show", "\udcff"], "the run id"),
    ],
)
def test_text_that_is_not_utf8_is_refused_naming_the_argument(
    capsys: pytest.CaptureFixture[str], db: str, argv: list[str], named: str
) -> None:
    # argv bytes that are not UTF-8 arrive as lone surrogates (PEP 383); SQLite cannot take them
    code, out, err = run_cli(capsys, *argv, "--db", db)

    assert code == 2
    assert out == ""
    assert err == f"crane: {named} is not valid text (it is not UTF-8)\n"
    assert not Path(db).exists()


# todos


def test_todos_json_lists_open_todos_as_records(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    seed_todos(db, "buy milk", "pay rent", "call mom", done=(2,))

    code, out, _ = run_cli(capsys, "todos", "--json", "--db", db)

    assert code == 0
    todos = json.loads(out)
    assert all(set(todo) == TODO_KEYS for todo in todos)
    assert [(t["number"], t["title"], t["done"]) for t in todos] == [
        (1, "buy milk", False),
        (3, "call mom", False),
    ]
    assert todos[0]["done_at"] is None
    assert todos[0]["created_at"].endswith("Z")


def test_todos_all_includes_done_ones(capsys: pytest.CaptureFixture[str], db: str) -> None:
    seed_todos(db, "buy milk", "pay rent", done=(2,))

    _, out, _ = run_cli(capsys, "todos", "--all", "--json", "--db", db)
    todos = json.loads(out)
    assert [(t["number"], t["done"]) for t in todos] == [(1, False), (2, True)]
    assert todos[1]["done_at"].endswith("Z")

    _, text, _ = run_cli(capsys, "todos", "--all", "--db", db)
    assert text == "#1 [ ] buy milk\n#2 [x] pay rent\n"


def test_todos_are_per_user(capsys: pytest.CaptureFixture[str], db: str) -> None:
    seed_todos(db, "mine")

    _, out, _ = run_cli(capsys, "todos", "--user", "someone-else", "--db", db)
    assert out == "No open todos.\n"
    _, out, _ = run_cli(capsys, "todos", "--user", "someone-else", "--all", "--db", db)
    assert out == "No todos.\n"


def test_a_todo_added_by_ask_shows_in_todos(capsys: pytest.CaptureFixture[str], db: str) -> None:
    record = ask_json(capsys, db, "add a todo to buy milk")

    assert record["_exit"] == 0
    _, out, _ = run_cli(capsys, "todos", "--db", db)
    assert out == "#1 [ ] buy milk\n"


# runs


def test_runs_json_lists_runs_newest_first(capsys: pytest.CaptureFixture[str], db: str) -> None:
    first = ask_json(capsys, db, "calculate 1+1")
    second = ask_json(capsys, db, "calculate 2+2")

    code, out, _ = run_cli(capsys, "runs", "--json", "--db", db)

    assert code == 0
    runs = json.loads(out)
    assert [run["id"] for run in runs] == [second["id"], first["id"]]
    assert all(set(run) == RUN_KEYS for run in runs)
    _, limited, _ = run_cli(capsys, "runs", "--json", "--limit", "1", "--db", db)
    assert [run["id"] for run in json.loads(limited)] == [second["id"]]


def test_runs_show_prints_the_same_record_ask_printed(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    record = ask_json(capsys, db, "calculate 2+3")
    del record["_exit"]

    code, out, _ = run_cli(capsys, "runs", "show", record["id"], "--json", "--db", db)

    assert code == 0
    assert json.loads(out) == record


def test_runs_show_honours_options_given_before_show(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    record = ask_json(capsys, db, "calculate 2+3")

    code, out, err = run_cli(capsys, "runs", "--db", db, "--json", "show", record["id"])

    assert (code, err) == (0, "")
    assert json.loads(out)["id"] == record["id"]
    assert not (tmp_path / "crane.db").exists()


def test_runs_show_text_names_each_step(capsys: pytest.CaptureFixture[str], db: str) -> None:
    record = ask_json(capsys, db, "calculate 2+3")

    _, out, _ = run_cli(capsys, "runs", "show", record["id"], "--db", db)

    assert record["id"] in out
    step_line = next(line for line in out.splitlines() if "1. calculator completed: " in line)
    assert step_line.endswith("5")
    assert out.splitlines()[-1] == f"answer: {record['answer']}"


def test_runs_show_of_an_unknown_id_exits_1_with_one_line(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = run_cli(capsys, "runs", "show", "unknown", "--db", db)

    assert code == 1
    assert out == ""
    assert err == "crane: run unknown not found\n"


# chat


def test_chat_answers_each_line_and_follows_up_in_one_conversation(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["calculate 2+3", "", "add 10 to that", "x" * 4001, "calculate 1/0"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))

    code, out, err = run_cli(capsys, "chat", "--db", db)

    assert code == 0
    # Replies follow the "you> " prompt, which input() prints without a newline.
    answers = re.findall(r"crane[>:] .*", out)
    assert answers[0].startswith("crane> ")
    assert answers[0].endswith("5")
    assert "15" in answers[1]
    assert answers[2].startswith("crane: the request is too long")
    assert "zero" in answers[3]
    assert len(answers) == 4  # the blank line was skipped, not answered
    assert "Traceback" not in err


# the installed console script


def test_the_crane_console_script_runs_a_request(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("crane")
    env = {key: value for key, value in os.environ.items() if key != "CRANE_DB"}
    done = subprocess.run(
        [str(script), "ask", "calculate 2+3", "--json", "--db", str(tmp_path / "sub.db")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "completed"
    assert "5" in record["answer"]
    assert done.stderr == ""


def test_a_closed_stdout_ends_quietly_and_the_run_still_completes(tmp_path: Path) -> None:
    # `crane ask … | head -1`: no traceback, no "event listener failed" line, exit 141
    script = Path(sys.executable).with_name("crane")
    env = {key: value for key, value in os.environ.items() if key != "CRANE_DB"}
    db = str(tmp_path / "pipe.db")
    store = Store(db)
    for i in range(3000):  # a listing far larger than a pipe's buffer
        store.add_todo(Scope(), f"todo number {i} with a longer title")
    store.close()
    process = subprocess.Popen(
        [str(script), "ask", "list my todos", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"Plan:\n"
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    code = process.wait(timeout=60)

    assert code == cli.EXIT_BROKEN_PIPE, stderr
    assert stderr == ""
    store = Store(db)
    try:
        assert [run.status.value for run in store.list_runs(limit=5)] == ["completed"]
    finally:
        store.close()


def test_control_characters_in_stored_text_are_shown_escaped_on_the_terminal(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    seed_todos(db, "buy milk\x1b[2J\x07")

    _, out, _ = run_cli(capsys, "todos", "--db", db)
    assert out == "#1 [ ] buy milk\\x1b[2J\\x07\n"

    _, out, _ = run_cli(capsys, "todos", "--json", "--db", db)
    assert json.loads(out)[0]["title"] == "buy milk\x1b[2J\x07"  # the data itself is verbatim

    _, out, _ = run_cli(capsys, "ask", "add a todo to a\x1bb", "--db", db)
    assert "\x1b" not in out
    assert "Added todo #2: a\\x1bb" in out


def test_a_request_planning_more_than_fifty_steps_is_refused_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "crane.db")
    titles = "; ".join(f"t{i}" for i in range(60))
    assert cli.main(["ask", f"add todos: {titles}", "--db", db]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "60 steps" in captured.err and "at most 50" in captured.err
    assert cli.main(["todos", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_runs_show_counts_feedback_and_a_cancelled_run_says_so(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    record = ask_json(capsys, db, "calculate 2+3")
    store = Store(db)
    store.vote(record["id"], Scope(user_id="local"), "up")
    store.close()
    _, out, _ = run_cli(capsys, "runs", "show", record["id"], "--db", db)
    assert "feedback: 1 👍 · 0 👎" in out
    _, listed, _ = run_cli(capsys, "runs", "--json", "--db", db)
    assert json.loads(listed)[0]["feedback"] == {"up": 1, "down": 0}


def test_crane_ask_deletes_without_asking_for_approval(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    ask_json(capsys, db, "add a todo to buy milk")
    record = ask_json(capsys, db, "delete todo 1")
    assert record["status"] == "completed"
    assert record["steps"][0]["status"] == "completed"


# limits and usage


def test_ask_over_the_daily_run_limit_exits_2_with_one_line_and_stores_nothing(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRANE_LIMIT_RUNS_PER_DAY", "1")
    assert run_cli(capsys, "ask", "calculate 2+3", "--db", db)[0] == 0

    code, out, err = run_cli(capsys, "ask", "calculate 3+4", "--db", db)

    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "CRANE_LIMIT_RUNS_PER_DAY" in err and "resets in" in err
    assert len(json.loads(run_cli(capsys, "runs", "--json", "--db", db)[1])) == 1


def test_usage_json_lists_runs_per_user_per_day(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    run_cli(capsys, "ask", "calculate 2+3 and add a todo to buy milk", "--db", db)
    run_cli(capsys, "ask", "calculate 2+3", "--user", "bob", "--db", db)

    code, out, _err = run_cli(capsys, "usage", "--json", "--db", db)
    items = json.loads(out)["items"]
    _code, only_bob, _err = run_cli(capsys, "usage", "--user", "bob", "--days", "1", "--db", db)

    assert code == 0
    assert [(i["user"], i["runs"], i["steps"], i["cost_usd"]) for i in items] == [
        ("bob", 1, 1, 0.0), ("local", 1, 2, 0.0)
    ]  # fmt: skip
    assert "bob" in only_bob and "local" not in only_bob and "runs 1" in only_bob
    assert run_cli(capsys, "usage", "--days", "0", "--db", db)[0] == 2


def test_a_malformed_limit_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRANE_LIMIT_RUNS_PER_MINUTE", "many")

    code, out, err = run_cli(capsys, "ask", "calculate 2+3", "--db", db)

    assert (code, out) == (2, "")
    assert (
        err == "crane: CRANE_LIMIT_RUNS_PER_MINUTE: Input should be a valid integer, "
        "unable to parse string as an integer (got 'many')\n"
    )
