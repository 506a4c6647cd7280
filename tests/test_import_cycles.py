"""No two core/ modules import each other, however indirectly: a cycle means neither can be
understood, tested or moved alone (and one import order away from a half-initialised module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.importgraph import find_cycle, import_graph

ROOT = Path(__file__).resolve().parents[1]


def test_core_modules_import_each_other_in_one_direction_only() -> None:
    graph = import_graph(ROOT, "core")
    assert "core.orchestrator" in graph and "core.tools.calculator" in graph
    assert find_cycle(graph) == []


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph(tmp_path, "pkg")


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "import pkg.b\n",
                "pkg/b.py": "def f():\n    from pkg.a import g\n",
            },
            id="function-level",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg.b import B\n",
                "pkg/b.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.a import A\n",
            },
            id="type-checking",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/tools/__init__.py": "from . import calc\nREGISTRY = [calc.TOOL]\n",
                "pkg/tools/calc.py": "from pkg.tools import Tool\n",
            },
            id="registry-and-its-tool",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from .sub import c\n",
                "pkg/sub/__init__.py": "",
                "pkg/sub/c.py": "from .. import b\n",
                "pkg/b.py": "def f():\n    from . import a\n",
            },
            id="relative-three-step",
        ),
    ],
)
def test_the_check_finds_cycles_through_any_kind_of_import(
    tmp_path: Path, files: dict[str, str]
) -> None:
    cycle = find_cycle(_package(tmp_path, files))
    assert len(cycle) >= 3 and cycle[0] == cycle[-1]


def test_the_check_accepts_a_shared_type_in_its_own_module(tmp_path: Path) -> None:
    graph = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/tool.py": "class Tool: ...\n",
            "pkg/tools/__init__.py": "from pkg.tool import Tool\nfrom pkg.tools import calc\n",
            "pkg/tools/calc.py": "from pkg.tool import Tool\nimport pkg.toolbox\n",
        },
    )
    assert graph["pkg.tools"] == {"pkg.tool", "pkg.tools.calc"}
    assert find_cycle(graph) == []
