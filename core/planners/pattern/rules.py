"""What the tools say of themselves, the planner's one door to the registry: the rules a tool
brings (`Tool.patterns`: a tool with simple phrasings declares them in its own module, and the
parser reads them before its own grammar) and its examples for the help text. Only these
declarations are read, never a tool run; read at each call, so a tool registered later is seen.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from core.tool import examples
from core.tools import REGISTRY


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def tool_rule(text: str) -> tuple[str, dict[str, Any]] | None:
    """The tool whose rule matches the whole piece, and its arguments (the named groups, read
    by its input model: "3" for a number is 3), or None. Words its input model refuses do not
    match: the piece goes on to the other rules."""
    for tool in REGISTRY.values():
        for pattern in tool.patterns:
            found = _compiled(pattern).fullmatch(text)
            if found is None:
                continue
            said = {name: value.strip() for name, value in found.groupdict().items() if value}
            try:
                args = tool.input_model.model_validate(said)
            except ValidationError:
                continue
            return tool.name, args.model_dump(mode="json", exclude_unset=True)
    return None


def tool_examples() -> list[tuple[str, ...]]:
    """Each tool's plain-word examples, in registry order (core.tool.examples)."""
    return examples(REGISTRY.values())
