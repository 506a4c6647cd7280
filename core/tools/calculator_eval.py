"""Arithmetic on untrusted text, without eval: the text is parsed with `ast` and walked over a
small whitelist; every intermediate value passes the limits in core.tools.calculator_ops.
"""

from __future__ import annotations

import ast
import math
import string
import warnings
from decimal import Decimal

from core.errors import ToolError
from core.tools.calculator_ops import (
    BINARY,
    DIVISION_BY_ZERO,
    FLOAT_TOO_LARGE,
    FUNCTIONS,
    MAX_CHARS,
    MAX_DEPTH,
    MAX_NODES,
    Number,
    checked,
)

# Quotes, brackets, colons, '=' and friends are refused up front: strings, lambdas,
# subscripts and assignments can then never reach the parser.
_ALLOWED_CHARS = frozenset(string.ascii_letters + string.digits + " _+-*/%^().,")

_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

TOO_DEEP = "the expression is nested too deeply"

_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Attribute: "attributes are not allowed",
    ast.Tuple: "commas only separate function arguments (write 1000, not 1,000)",
}


def _call(node: ast.Call, depth: int) -> Number:
    if not isinstance(node.func, ast.Name):
        raise ToolError("unsupported expression: only named functions can be called")
    name = node.func.id
    if name not in FUNCTIONS:
        available = ", ".join(FUNCTIONS)
        raise ToolError(f"unknown function {name!r} (available: {available})")
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ToolError(f"{name}() takes plain arguments only")
    function, counts, usage = FUNCTIONS[name]
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
            return checked(value)
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
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left = _eval(node.left, depth + 1)
        right = _eval(node.right, depth + 1)
        return checked(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call):
        return checked(_call(node, depth))
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
