"""The planner dev set, end to end through `crane ask`: every case of
shared/eval/planner_dev.jsonl (format: shared/eval/README.md) in a fresh database."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import cli

DEV_SET = Path(__file__).resolve().parents[2] / "shared/eval/planner_dev.jsonl"
if not DEV_SET.exists():  # the repo may sit next to shared/ rather than above it
    DEV_SET = Path(__file__).resolve().parents[3] / "shared/eval/planner_dev.jsonl"

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
EXECUTED = {"completed", "failed"}


def _cases() -> list[Any]:
    lines = DEV_SET.read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    return [pytest.param(case, id=case["id"]) for case in cases]


def numbers_in(text: str) -> list[float]:
    """Every number written in the text; 1,024 counts as 1024."""
    plain = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return [float(match) for match in NUMBER.findall(plain)]


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


def _titles(todos: list[dict[str, Any]], done: bool) -> list[str]:
    return sorted(todo["title"].strip().lower() for todo in todos if todo["done"] is done)


def _wanted(titles: list[str]) -> list[str]:
    return sorted(title.strip().lower() for title in titles)


def test_the_dev_set_is_there_and_well_formed() -> None:
    cases = [param.values[0] for param in _cases()]
    assert len(cases) >= 1
    assert len({case["id"] for case in cases}) == len(cases)
    for case in cases:
        assert case["turns"] and all(isinstance(turn, str) for turn in case["turns"])
        assert isinstance(case["expect"], dict)


def test_numbers_in_reads_signs_decimals_and_separators() -> None:
    assert numbers_in("7 - 10 = -3; 10/4 is 2.5 and 2^10 is 1,024") == [
        7,
        10,
        -3,
        10,
        4,
        2.5,
        2,
        10,
        1024,
    ]


@pytest.mark.parametrize("case", _cases())
def test_dev_case(
    case: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_case(case, tmp_path, capsys, monkeypatch)


def check_case(
    case: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run a case's turns through `crane ask` in one thread and check its expectations."""
    monkeypatch.delenv("CRANE_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "eval.db")
    expect = case["expect"]

    record: dict[str, Any] = {}
    for turn in case["turns"]:
        code, out = _run_cli(capsys, "ask", turn, "--json", "--thread", "eval", "--db", db)
        assert code in (0, 1), f"turn {turn!r} was refused (exit {code})"
        record = json.loads(out)
        assert code == (0 if record["status"] == "completed" else 1)

    answer = record["answer"] or ""
    context = f"last answer: {answer!r}; steps: {record['steps']}"
    assert record["status"] == expect.get("status", "completed"), context
    if "number" in expect:
        assert float(expect["number"]) in numbers_in(answer), context
    for wanted in expect.get("answer_contains", []):
        assert wanted.lower() in answer.lower(), context
    executed = [step for step in record["steps"] if step["status"] in EXECUTED]
    if "steps_min" in expect:
        assert len(executed) >= expect["steps_min"], context
    if "steps_max" in expect:
        assert len(executed) <= expect["steps_max"], context
    if "todos_open" in expect or "todos_done" in expect:
        code, out = _run_cli(capsys, "todos", "--all", "--json", "--db", db)
        assert code == 0
        todos = json.loads(out)
        if "todos_open" in expect:
            assert _titles(todos, done=False) == _wanted(expect["todos_open"]), context
        if "todos_done" in expect:
            assert _titles(todos, done=True) == _wanted(expect["todos_done"]), context
