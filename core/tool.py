"""What a tool is: the `Tool` record the registry, planners and executor share, and the
`ToolContext` it runs with. Its own module so tool modules never import their registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
    # no effect outside the run, and quick (the calculator): its step may share its commit with
    # the next step's, since a crash simply runs it again; it runs while that commit waits
    pure: bool = False
    # its output holds stored data (todo titles): where others can read, only the requester sees it
    private_output: bool = False
    # for a destructive tool: the approval question for these arguments (may raise ToolError)
    preview: Callable[[Any, ToolContext], Preview] | None = None
    # where it comes from: "built-in", or the MCP server it was listed by
    source: str = "built-in"
    # its input schema when not its input model's (an MCP tool's, as the server lists it)
    schema: dict[str, Any] | None = None
    # planned arguments checked before any step of the plan runs (InvalidInput if bad)
    check: Callable[[dict[str, Any]], None] | None = None
    # may be called again after a crash left its outcome unknown (a trusted read-only or
    # idempotent MCP tool); other destructive tools are never repeated without asking
    repeatable: bool = False
    # plain-word requests that run it, as every help text shows them (Slack, the Home tab, the
    # CLI, the playground, the pattern planner's answer); the first is shown where room is short
    examples: tuple[str, ...] = ()
    # the pattern planner's rules for it: full-match regexes (case-insensitive) over one piece
    # of a message with the talk around it gone, each named group one argument
    # (`r"reverse (?P<text>.+)"`); a tool whose phrasings need more (todo titles, arithmetic)
    # has its grammar in core.planners.pattern instead
    patterns: tuple[str, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        return self.schema if self.schema is not None else self.input_model.model_json_schema()

    def listing(self) -> dict[str, Any]:
        """What `crane tools --json` and GET /api/v1/tools say about it."""
        return {"name": self.name, "description": self.description, "source": self.source,
                "needs_approval": self.destructive, "input_schema": self.json_schema(),
                "examples": list(self.examples)}  # fmt: skip


def examples(tools: Iterable[Tool]) -> list[tuple[str, ...]]:
    """The help every front end shows, one entry per tool that has plain-word examples, in
    registry order: the one text all help is generated from."""
    return [tool.examples for tool in tools if tool.examples]


@dataclass(frozen=True)
class Catalog:
    """What one requester may plan with (core.toolbox): every tool they may call, and the MCP
    servers whose tools exist but not for them — a plan naming one of those is refused."""

    tools: Mapping[str, Tool]
    hidden: frozenset[str] = field(default_factory=frozenset)
