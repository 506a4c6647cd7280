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

from core.errors import InvalidInput, ToolError
from core.plan import PlannedStep, Step, StepStatus

REFERENCE = re.compile(r"\$(prev|\d+)\b")
# `reference_args` of a tool whose every argument may be a reference, but only as a whole
# value (an MCP tool: its strings are the user's data, "$5" inside one stays "$5")
ANY = "*"


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
            names = referable.get(step.tool, ())
            if not isinstance(value, str):
                continue
            if ANY in names:
                whole = REFERENCE.fullmatch(value.strip())
                if whole:
                    _target(whole.group(1), position)
            elif name in names:
                for match in REFERENCE.finditer(value):
                    _target(match.group(1), position)


def _text(value: Any) -> str:
    text = str(value)
    return f"({text})" if isinstance(value, int | float) and value < 0 else text


def _value(step: Step) -> Any:
    """Step N's value for `$N`: a skipped step has none, so the step referring to it fails."""
    if step.status is StepStatus.skipped:
        raise ToolError(f"step {step.index} was skipped, so ${step.index} has no value")
    return step.value


def resolve_args(
    args: dict[str, Any], earlier: Sequence[Step], referable: tuple[str, ...]
) -> dict[str, Any]:
    if not referable:
        return args  # nothing to resolve: most tools take no references
    position = len(earlier) + 1
    resolved: dict[str, Any] = {}
    for name, value in args.items():
        if (name not in referable and ANY not in referable) or not isinstance(value, str) \
                or "$" not in value:  # fmt: skip
            resolved[name] = value
            continue
        whole = REFERENCE.fullmatch(value.strip())
        if whole:
            resolved[name] = _value(earlier[_target(whole.group(1), position) - 1])
        elif ANY in referable:
            resolved[name] = value
        else:
            resolved[name] = REFERENCE.sub(
                lambda m: _text(_value(earlier[_target(m.group(1), position) - 1])), value
            )
    return resolved
