"""The layers stay apart: core/ runs without Slack, HTTP front ends, the server or the CLI;
bot/ (Slack) and api/ (REST) never import each other — only the server assembles them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from tests.importgraph import imports_in, module_name

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": frozenset({"slack_bolt", "slack_sdk", "bot", "api", "server", "cli"}),
    "api": frozenset({"bot"}),
    "bot": frozenset({"api"}),
}


def forbidden_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """Modules `source` (the text of `module`) imports, anywhere (functions and TYPE_CHECKING
    too), that its layer must not use."""
    forbidden = FORBIDDEN[module.split(".")[0]]
    imported = imports_in(source, module, is_package)
    return sorted(name for name in imported if name.split(".")[0] in forbidden)


def _paths() -> list[Path]:
    return [path for layer in FORBIDDEN for path in sorted((ROOT / layer).rglob("*.py"))]


def _params() -> list[Any]:
    return [pytest.param(path, id=str(path.relative_to(ROOT))) for path in _paths()]


def test_every_layer_has_python_files_to_check() -> None:
    paths = _paths()
    assert {ROOT / "core/orchestrator.py", ROOT / "api/routes.py", ROOT / "bot/app.py"} <= set(
        paths
    )


@pytest.mark.parametrize("path", _params())
def test_module_imports_nothing_from_a_layer_it_must_not_know(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert forbidden_imports(source, module_name(path, ROOT), path.stem == "__init__") == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("core.x", "import slack_bolt"),
        ("core.x", "import os, slack_sdk.web"),
        ("core.x", "from slack_sdk import WebClient"),
        ("core.x", "from bot.render import blocks"),
        ("core.x", "import bot"),
        ("core.x", "import api.routes"),
        ("core.x", "from server import serve"),
        ("core.x", "import cli"),
        ("core.x", "def f():\n    from slack_bolt.app import App\n"),
        ("core.x", "if TYPE_CHECKING:\n    import bot.app as b\n"),
        ("core.x", "from .. import api"),
        ("api.app", "from bot.jobs import Jobs"),
        ("api.app", "def f():\n    import bot.server\n"),
        ("api.app", "from ..bot import jobs"),
        ("bot.server", "from api import logs"),
        ("bot.server", "if TYPE_CHECKING:\n    from api.app import build_api\n"),
        ("bot.listeners.home", "from ...api.auth import Auth"),
    ],
)
def test_the_check_catches_every_form_of_import(module: str, source: str) -> None:
    assert forbidden_imports(source, module) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("core.x", "import botocore"),
        ("core.x", "from core.bots import x"),
        ("core.x", "from . import bot"),
        ("core.x", "import robot"),
        ("core.x", "from http import server"),
        ("core.x", "import click"),
        ("core.x", "import apis"),
        ("api.app", "from . import bot"),
        ("api.app", "from slack_sdk import WebClient"),
        ("bot.app", "from .api import x"),
        ("bot.app", "from core.runtime import Crane"),
    ],
)
def test_the_check_ignores_lookalike_names_and_allowed_layers(module: str, source: str) -> None:
    assert forbidden_imports(source, module) == []


# --- the lifecycle is core's: front ends reach the store only through the Slack bookkeeping place

FRONT_ENDS = ("bot", "api", "cli", "server")
BOOKKEEPING = ROOT / "bot" / "ledger.py"  # Slack's own rows: deliveries, intake, where shown


def lifecycle_reaches(source: str) -> list[str]:
    """Where `source` reaches past the lifecycle (`core.runtime.Crane`): the store or the
    orchestrator as attributes, or a run executed (`….execute(`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("store", "orchestrator"):
            found.append(f"line {node.lineno}: .{node.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "execute"
        ):
            found.append(f"line {node.lineno}: .execute(")
    return found


def _front_end_params() -> list[Any]:
    paths = [p for layer in FRONT_ENDS for p in sorted((ROOT / layer).rglob("*.py"))]
    return [pytest.param(p, id=str(p.relative_to(ROOT))) for p in paths if p != BOOKKEEPING]


@pytest.mark.parametrize("path", _front_end_params())
def test_front_ends_neither_write_the_store_nor_execute_runs_themselves(path: Path) -> None:
    assert lifecycle_reaches(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "crane.store.add_todo(scope, 'x')",
        "self.crane.store.save_shown(run_id, {})",
        "store = crane.store",
        "crane.orchestrator.subscribe(listener)",
        "crane.execute(run_id)",
        "self.orchestrator.execute(run_id, None)",
    ],
)
def test_the_lifecycle_check_catches_every_reach(source: str) -> None:
    assert lifecycle_reaches(source) != []


def test_the_lifecycle_check_lets_the_lifecycles_own_calls_through() -> None:
    assert lifecycle_reaches("crane.proceed(run.id)\ncrane.reads.run(run_id)\nrestored = 1") == []
