"""core/ is Slack-free: it must import and run without Slack or the bot package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = frozenset({"slack_bolt", "slack_sdk", "bot"})


def forbidden_imports(source: str) -> list[str]:
    """Modules from FORBIDDEN that `source` imports, anywhere (functions and TYPE_CHECKING too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in FORBIDDEN]
    return found


def _core_files() -> list[Path]:
    return sorted((ROOT / "core").rglob("*.py"))


def test_core_has_python_files_to_check() -> None:
    assert (ROOT / "core" / "orchestrator.py") in _core_files()


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_imports_nothing_from_slack_or_bot(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import slack_bolt",
        "import os, slack_sdk.web",
        "from slack_sdk import WebClient",
        "from bot.render import blocks",
        "import bot",
        "def f():\n    from slack_bolt.app import App\n",
        "if TYPE_CHECKING:\n    import bot.app as b\n",
    ],
)
def test_the_check_catches_every_form_of_import(source: str) -> None:
    assert forbidden_imports(source) != []


@pytest.mark.parametrize(
    "source",
    ["import botocore", "from core.bots import x", "from . import bot", "import robot"],
)
def test_the_check_ignores_lookalike_names(source: str) -> None:
    assert forbidden_imports(source) == []
