"""Who imports whom, read from the source with `ast` (nothing is imported to find out).

Every import statement counts — module level, inside functions, under TYPE_CHECKING — because
each of them ties the two modules together whether or not it runs at import time. Relative
imports are resolved against the importing module. `from X import y` depends on the module X.y
when there is one (like `import X.y`: the parent package X is merely its container), else on X.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Callable
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    """`core/tools/__init__.py` → `core.tools`; `core/tool.py` → `core.tool`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(
    source: str,
    module: str = "",
    is_package: bool = False,
    is_module: Callable[[str], bool] = lambda name: False,
) -> set[str]:
    """Every module name `source` (the text of `module`) imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.level, node.module, module, is_package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}" if base else alias.name
                found.add(submodule if is_module(submodule) or not base else base)
    return found


def _resolve(level: int, target: str | None, module: str, is_package: bool) -> str:
    if level == 0:
        return target or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    anchor = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
    return ".".join([*anchor, *([target] if target else [])])


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """module → the modules of `package` (under `root`) it imports, itself left out."""
    paths = {module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    graph = {}
    for module, path in paths.items():
        source = path.read_text(encoding="utf-8")
        imported = imports_in(source, module, path.stem == "__init__", paths.__contains__)
        graph[module] = {name for name in imported if name in paths and name != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (its first module repeated at the end), or [] when there is none."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []
