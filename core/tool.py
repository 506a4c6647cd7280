"""What a tool is: the `Tool` record the registry, planners and executor share, and the
`ToolContext` it runs with. Its own module so tool modules never import their registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from core.plan import Scope, ToolResult


@dataclass(frozen=True)
class ToolContext:
    """What a tool may touch: the caller's scope and, for tools that write, the open transaction."""

    scope: Scope
    store: Any  # core.store.Store; typed loosely so pure tools never import the store


@dataclass(frozen=True)
class Preview:
    """What a destructive step will do, asked before it runs: `question` holds only what the
    plan says ("Delete todo #2?"); `detail` may hold stored data ("#2 buy milk")."""

    question: str
    detail: str = ""


@dataclass(frozen=True)
class Tool:
    name: str
    input_model: type[BaseModel]
    function: Callable[[Any, ToolContext], ToolResult]
    description: str
    destructive: bool = False
    reference_args: tuple[str, ...] = ()  # arguments that may hold $N / $prev (core.references)
    writes: bool = False  # writes to the store: runs inside its step's completing transaction
    # its output holds stored data (todo titles): where others can read, only the requester sees it
    private_output: bool = False
    # for a destructive tool: the approval question for these arguments (may raise ToolError)
    preview: Callable[[Any, ToolContext], Preview] | None = None

    def json_schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()
