"""The calculator tool: arithmetic on untrusted text, without eval and without runaway work.

Parsing and evaluating live in core.tools.calculator_eval, the guarded operations and limits
in core.tools.calculator_ops; this module is the tool: its input model and its function.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.plan import ToolResult
from core.tool import Tool, ToolContext
from core.tools.calculator_eval import evaluate, format_number
from core.tools.calculator_ops import MAX_CHARS


class CalculatorInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expression: str = Field(
        min_length=1,
        max_length=MAX_CHARS,
        description="An arithmetic expression, e.g. (2 + 3) * 4 or sqrt(144)",
    )


def calculate(args: CalculatorInput, ctx: ToolContext) -> ToolResult:
    value = evaluate(args.expression)
    return ToolResult(text=f"{args.expression.strip()} = {format_number(value)}", value=value)


TOOL = Tool(
    name="calculator",
    input_model=CalculatorInput,
    function=calculate,
    description=(
        "Evaluate an arithmetic expression: + - * / // % ** (^ is power), parentheses, "
        "sqrt, abs, round, min, max, floor, ceil, pi, e."
    ),
    destructive=False,
    reference_args=("expression",),
    pure=True,  # bounded (calculator_eval's limits): quick enough to run inside a held commit
    examples=("calculate 2+3", "what is 15% of 80"),
)
