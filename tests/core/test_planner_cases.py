"""The repository's own planner cases (tests/core/data/planner_cases.jsonl, in the format of
shared/eval/README.md), end to end through `crane ask` like the dev set: todos named by their
words, everyday talk around requests, money arithmetic, and their unsafe neighbours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.core.test_eval import check_case

CASES = Path(__file__).parent / "data" / "planner_cases.jsonl"


def _cases() -> list[Any]:
    lines = CASES.read_text(encoding="utf-8").splitlines()
    return [pytest.param(json.loads(line), id=json.loads(line)["id"]) for line in lines if line]


def test_every_class_of_the_issue_has_cases() -> None:
    ids = [param.id for param in _cases()]
    assert len(set(ids)) == len(ids)
    for prefix in ("named-", "talk-", "money-", "unsafe-", "negated-", "hypothetical-"):
        assert sum(case_id.startswith(prefix) for case_id in ids if case_id) >= 3, prefix


@pytest.mark.parametrize("case", _cases())
def test_planner_case(
    case: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_case(case, tmp_path, capsys, monkeypatch)
