"""Run an eval case (format: shared/eval/README.md) through `crane ask` and judge it: right,
missed (Crane did not do what was asked but did no harm) or a wrong action (it acted, and the
effect is not what the user asked)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import cli

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
EXECUTED = {"completed", "failed"}


def numbers_in(text: str) -> list[float]:
    """Every number written in the text; 1,024 counts as 1024."""
    plain = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return [float(match) for match in NUMBER.findall(plain)]


def load(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Verdict:
    """What went wrong with one case: nothing (right), misses only, or a wrong action."""

    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def right(self) -> bool:
        return not self.misses and not self.wrong


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


def judge(case: dict[str, Any], workdir: Path, capsys: pytest.CaptureFixture[str]) -> Verdict:
    """Send the case's turns in one thread of a fresh database and judge what Crane did."""
    db = str(workdir / "eval.db")
    expect = case["expect"]
    verdict = Verdict()
    record: dict[str, Any] = {}
    before: list[dict[str, Any]] = []
    for index, turn in enumerate(case["turns"]):
        if index == len(case["turns"]) - 1:
            before = _todos(db, capsys) if index else []
        code, out = _run_cli(capsys, "ask", turn, "--json", "--thread", "eval", "--db", db)
        assert code in (0, 1), f"turn {turn!r} was refused (exit {code})"
        record = json.loads(out)
        assert code == (0 if record["status"] == "completed" else 1)
    answer = record["answer"] or ""
    executed = [step for step in record["steps"] if step["status"] in EXECUTED]
    context = f"last answer: {answer!r}; steps: {record['steps']}"
    # a last turn that did nothing can only have missed; one that acted and missed acted wrongly
    failed = verdict.wrong if executed else verdict.misses
    if record["status"] != expect.get("status", "completed"):
        failed.append(f"status {record['status']}; {context}")
    # a number in the help text ("add 10 to that") is no answer: a step must have computed it
    if "number" in expect and (not executed or float(expect["number"]) not in numbers_in(answer)):
        failed.append(f"no {expect['number']}; {context}")
    for wanted in expect.get("answer_contains", []):
        if wanted.lower() not in answer.lower():
            failed.append(f"no {wanted!r}; {context}")
    if len(executed) < expect.get("steps_min", 0):
        verdict.misses.append(f"too few steps; {context}")
    if len(executed) > expect.get("steps_max", len(executed)):
        verdict.wrong.append(f"acted although it must not; {context}")
    if "todos_open" in expect or "todos_done" in expect:
        _judge_todos(expect, before, _todos(db, capsys), verdict, context)
    return verdict


def _todos(db: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out = _run_cli(capsys, "todos", "--all", "--json", "--db", db)
    assert code == 0
    return list(json.loads(out))


def _judge_todos(
    expect: dict[str, Any],
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    verdict: Verdict,
    context: str,
) -> None:
    """Each todo as the last turn left it against what was asked: one added, deleted or done
    that should not have been is a wrong action; one left as it was is a miss."""
    had = {_key(todo["title"]): todo["done"] for todo in before}
    has = {_key(todo["title"]): todo["done"] for todo in after}
    wanted: dict[str, bool | None] = {}
    for key, done in (("todos_open", False), ("todos_done", True)):
        wanted.update({_key(title): done for title in expect.get(key, [])})
    judged = {done for key, done in (("todos_open", False), ("todos_done", True)) if key in expect}
    for title in sorted(set(had) | set(has) | set(wanted)):
        state, old, want = has.get(title), had.get(title), wanted.get(title)
        if title not in wanted and state not in judged and old not in judged:
            continue  # a todo in a state the case says nothing about
        if state == want or (title not in has and title not in wanted):
            continue
        if title in has and title not in had and title not in wanted:
            verdict.wrong.append(f"added {title!r} nobody asked for; {context}")
        elif title in had and title not in has and title in wanted:
            verdict.wrong.append(f"deleted {title!r} by mistake; {context}")
        elif state is True and old is not True and want is not True:
            verdict.wrong.append(f"marked {title!r} done by mistake; {context}")
        else:
            verdict.misses.append(f"{title!r} is {_state(state)}, wanted {_state(want)}; {context}")


def _key(title: str) -> str:
    """A title as a user tells titles apart: not by case, spaces around, or apostrophe style."""
    return title.strip().lower().replace("\u2019", "'").replace("\u2018", "'")


def _state(done: bool | None) -> str:
    return "absent" if done is None else "done" if done else "open"
