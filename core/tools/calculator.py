"""The calculator tool: arithmetic on untrusted text, without eval and without runaway work.

The text is parsed with `ast` and walked over a small whitelist; powers and products that
could blow up are refused *before* they run, so a hostile input costs microseconds.
"""

from __future__ import annotations

import ast
import math
import string
import warnings
from collections.abc import Callable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ToolError
from core.plan import ToolResult
from core.tool import Tool, ToolContext

Number = int | float

MAX_CHARS = 500
MAX_DEPTH = 100  # a sum of ~100 terms nests this deep (left-associative); recursion stays small
MAX_NODES = 250  # numbers, operations and calls; 500 characters rarely need more
MAX_DIGITS = 4300  # Python's own int<->str limit, so every int we return can be printed
_INT_LIMIT = 10**MAX_DIGITS
_MAX_BITS = _INT_LIMIT.bit_length()  # any int with more bits is certainly over the limit

# Quotes, brackets, colons, '=' and friends are refused up front: strings, lambdas,
# subscripts and assignments can then never reach the parser.
_ALLOWED_CHARS = frozenset(string.ascii_letters + string.digits + " _+-*/%^().,")

_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

TOO_LARGE = f"the result would be too large (over {MAX_DIGITS} digits)"
FLOAT_TOO_LARGE = "the result is too large"
DIVISION_BY_ZERO = "division by zero is undefined"
TOO_DEEP = "the expression is nested too deeply"

_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Attribute: "attributes are not allowed",
    ast.Tuple: "commas only separate function arguments (write 1000, not 1,000)",
}


class CalculatorInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expression: str = Field(
        min_length=1,
        max_length=MAX_CHARS,
        description="An arithmetic expression, e.g. (2 + 3) * 4 or sqrt(144)",
    )


def _checked(value: Number) -> Number:
    """Every intermediate result passes here, so no step can build on an oversized value."""
    if isinstance(value, int):
        if abs(value) >= _INT_LIMIT:
            raise ToolError(TOO_LARGE)
    elif math.isinf(value):
        raise ToolError(FLOAT_TOO_LARGE)
    elif math.isnan(value):
        raise ToolError("the result is not a number")
    return value


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        # |base| ** n has at least (bits(base) - 1) * n + 1 bits: refuse on that lower bound
        # so 9**9**9 costs one multiplication; what passes is at most ~2x the cap to compute.
        if (base.bit_length() - 1) * exponent + 1 > _MAX_BITS:
            raise ToolError(TOO_LARGE)
        return int(base**exponent)
    if base == 0 and exponent < 0:
        raise ToolError(DIVISION_BY_ZERO)
    try:
        # math.pow, unlike **, raises instead of returning a complex number for (-8) ** 0.5.
        return math.pow(base, exponent)  # OverflowError becomes FLOAT_TOO_LARGE in evaluate
    except ValueError:
        raise ToolError("the result is not a real number") from None


def _multiply(left: Number, right: Number) -> Number:
    # A product has at least bits(a) + bits(b) - 1 bits: refuse before multiplying.
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() - 1 > _MAX_BITS
    ):
        raise ToolError(TOO_LARGE)
    return left * right


_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: _multiply,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: _power,
}


def _sqrt(x: Number) -> Number:
    if x < 0:
        raise ToolError("cannot take the square root of a negative number")
    if isinstance(x, int):
        root = math.isqrt(x)
        if root * root == x:  # exact for perfect squares of any size: sqrt(144) is 12, not 12.0
            return root
    return math.sqrt(x)


def _round(x: Number, digits: Number | None = None) -> Number:
    if digits is None:
        return round(x)
    if not isinstance(digits, int):
        raise ToolError("round() needs a whole number of digits")
    if abs(digits) > MAX_DIGITS:  # round(5, -10**9) would compute 10**(10**9) internally
        raise ToolError(f"round() takes at most {MAX_DIGITS} digits")
    return round(x, digits)


_ANY = range(1, MAX_NODES + 1)
# name -> (function, allowed argument counts, how to call it: shown when the count is wrong)
_FUNCTIONS: dict[str, tuple[Callable[..., Number], range, str]] = {
    "sqrt": (_sqrt, range(1, 2), "sqrt(x)"),
    "abs": (abs, range(1, 2), "abs(x)"),
    "round": (_round, range(1, 3), "round(x) or round(x, digits)"),
    "min": (lambda *xs: min(xs), _ANY, "min(a, b, ...)"),
    "max": (lambda *xs: max(xs), _ANY, "max(a, b, ...)"),
    "floor": (math.floor, range(1, 2), "floor(x)"),
    "ceil": (math.ceil, range(1, 2), "ceil(x)"),
}


def _call(node: ast.Call, depth: int) -> Number:
    if not isinstance(node.func, ast.Name):
        raise ToolError("unsupported expression: only named functions can be called")
    name = node.func.id
    if name not in _FUNCTIONS:
        available = ", ".join(_FUNCTIONS)
        raise ToolError(f"unknown function {name!r} (available: {available})")
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ToolError(f"{name}() takes plain arguments only")
    function, counts, usage = _FUNCTIONS[name]
    if len(node.args) not in counts:
        raise ToolError(f"wrong number of arguments to {name}: use {usage}")
    return function(*(_eval(arg, depth + 1) for arg in node.args))


def _eval(node: ast.AST, depth: int) -> Number:
    if depth > MAX_DEPTH:
        raise ToolError(TOO_DEEP)
    if isinstance(node, ast.Constant):
        value = node.value
        # True is an int to Python, but 'True + 1' is not arithmetic.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _checked(value)
        if isinstance(value, complex):
            raise ToolError("unsupported expression: complex numbers are not supported")
        raise ToolError("unsupported expression: only numbers are allowed")
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ToolError("unsupported expression: names are not allowed (only pi and e)")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        operand = _eval(node.operand, depth + 1)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _eval(node.left, depth + 1)
        right = _eval(node.right, depth + 1)
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call):
        return _checked(_call(node, depth))
    reason = _REFUSED_NODES.get(type(node), "only numbers, + - * / // % ^, ( ) and functions")
    raise ToolError(f"unsupported expression: {reason}")


def _parse(expression: str) -> ast.Expression:
    if len(expression) > MAX_CHARS:
        raise ToolError(f"the expression is too long (over {MAX_CHARS} characters)")
    # Any whitespace (newlines from Slack, non-breaking spaces) becomes one plain space.
    text = " ".join(expression.split())
    if not text:
        raise ToolError("the expression is empty")
    for char in text:
        if char not in _ALLOWED_CHARS:
            raise ToolError(f"unsupported character {char!r}")
    with warnings.catch_warnings():
        # "1if 1 else 2" parses with a SyntaxWarning; it is refused later, so keep logs quiet.
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    # ast.walk is iterative, so counting is safe on trees too deep for _eval's recursion.
    if sum(isinstance(node, ast.expr) for node in ast.walk(tree)) > MAX_NODES:
        raise ToolError("the expression is too complex")
    return tree


def _normalize(value: Number) -> Number:
    """Round floats to what is shown, and give integral results as ints: 10/2 chains as 5."""
    if isinstance(value, int) or not math.isfinite(value):
        return value
    # 12 significant digits hide binary noise (0.1 + 0.2 is 0.3); from 1e12 up, 15 keep
    # every integer digit a float actually holds.
    digits = 12 if abs(value) < 1e12 else 15
    rounded = float(format(value, f".{digits}g"))
    if rounded.is_integer() and abs(rounded) <= 1e15:
        return int(rounded)
    return rounded


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression; any problem is a ToolError with a short reason."""
    try:
        return _normalize(_eval(_parse(expression).body, 0))
    except SyntaxError as error:
        # Python's parser caps nesting at 200 parentheses; say so rather than "syntax error".
        nested = error.msg == "too many nested parentheses"
        raise ToolError(TOO_DEEP if nested else "syntax error in expression") from None
    except ZeroDivisionError:
        raise ToolError(DIVISION_BY_ZERO) from None
    except OverflowError:
        raise ToolError(FLOAT_TOO_LARGE) from None
    except (RecursionError, MemoryError):
        raise ToolError(TOO_DEEP) from None
    except (ValueError, TypeError, ArithmeticError):
        # Safety net: the whitelist should leave nothing here, but users must never see a trace.
        raise ToolError("cannot compute this expression") from None


def format_number(value: Number) -> str:
    """5 not 5.0, 0.3 not 0.30000000000000004, and no exponent for everyday magnitudes."""
    value = _normalize(value)
    if isinstance(value, int) or not math.isfinite(value):
        return str(value)
    text = repr(value)  # shortest round-trip form: after _normalize, at most 15 digits
    if "e" in text and 1e-6 <= abs(value) < 1e15:
        text = format(Decimal(text), "f")
    return text


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
)
