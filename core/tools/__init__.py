"""The tool registry: name → Tool. A new tool is one module and one line here.

The `Tool` type itself lives in `core.tool`, so tool modules never import this registry.
"""

from __future__ import annotations

from core.tool import Tool
from core.tools import calculator, todos

REGISTRY: dict[str, Tool] = {tool.name: tool for tool in [calculator.TOOL, *todos.TOOLS]}
