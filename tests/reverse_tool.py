"""A throwaway tool, written the way a contributor adds a built-in: this one module holds its
input model, its function, its one-line help, whether it is destructive, its examples and its
pattern rule. tests/bot/test_adding_a_tool.py registers it with the one registry line a real
tool has (`REGISTRY[TOOL.name] = TOOL`) and finds it in every front end."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.plan import ToolResult
from core.tool import Tool, ToolContext


class ReverseInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=200, description="The words to spell backwards")


def reverse(args: ReverseInput, ctx: ToolContext) -> ToolResult:
    backwards = args.text[::-1]
    return ToolResult(text=f"{args.text} backwards is {backwards}", value=backwards)


TOOL = Tool(
    name="reverse",
    input_model=ReverseInput,
    function=reverse,
    description="Spell the given words backwards.",
    destructive=False,
    examples=("reverse hello world",),
    patterns=(r"(?:reverse|spell) (?P<text>.+?)(?: backwards)?",),
)
