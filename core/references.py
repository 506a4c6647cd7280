"""Step references inside one plan: ``$N`` is step N's result, ``$prev`` the step just before.

An argument that is exactly a reference takes the earlier step's value as it is (a todo number
stays an int); a reference inside a longer string takes its text form ("$1 + 10" → "5 + 10").
Only earlier steps of the same plan can be referenced, and only in the arguments a tool lists
in `reference_args`: free text such as a todo title ("pay $100") is never interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.errors import InvalidInput
from core.plan import PlannedStep, Step

REFERENCE = re.compile(r"\$(prev|\d+)\b")


def _target(token: str, position: int) -> int:
    """The 1-based index a reference in step `position` points at, if it points backwards."""
    index = position - 1 if token == "prev" else int(token)
    if not 1 <= index < position:
        raise InvalidInput(f"step {position} refers to ${token}, which is not an earlier step")
    return index


def check_references(steps: Sequence[PlannedStep], referable: dict[str, tuple[str, ...]]) -> None:
    """Refuse a plan whose steps refer forwards, to themselves or to steps that do not exist."""
    for position, step in enumerate(steps, start=1):
        for name, value in step.args.items():
            if isinstance(value, str) and name in referable.get(step.tool, ()):
                for match in REFERENCE.finditer(value):
                    _target(match.group(1), position)


def _text(value: Any) -> str:
    text = str(value)
    return f"({text})" if isinstance(value, int | float) and value < 0 else text


def resolve_args(
    args: dict[str, Any], earlier: Sequence[Step], referable: tuple[str, ...]
) -> dict[str, Any]:
    if not referable:
        return args  # nothing to resolve: most tools take no references
    position = len(earlier) + 1
    resolved: dict[str, Any] = {}
    for name, value in args.items():
        if name not in referable or not isinstance(value, str) or "$" not in value:
            resolved[name] = value
            continue
        whole = REFERENCE.fullmatch(value.strip())
        if whole:
            resolved[name] = earlier[_target(whole.group(1), position) - 1].value
        else:
            resolved[name] = REFERENCE.sub(
                lambda m: _text(earlier[_target(m.group(1), position) - 1].value), value
            )
    return resolved
