"""The calculator's arithmetic: limits, and operations that refuse runaway work *before* it runs.

Powers and products that could blow up are refused on a cheap lower bound of their size, so
a hostile input (9**9**9**9) costs microseconds. Used by core.tools.calculator_eval.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

from core.errors import ToolError

Number = int | float

MAX_CHARS = 500
MAX_DEPTH = 100  # a sum of ~100 terms nests this deep (left-associative); recursion stays small
MAX_NODES = 250  # numbers, operations and calls; 500 characters rarely need more
MAX_DIGITS = 4300  # Python's own int<->str limit, so every int we return can be printed
_INT_LIMIT = 10**MAX_DIGITS
_MAX_BITS = _INT_LIMIT.bit_length()  # any int with more bits is certainly over the limit

TOO_LARGE = f"the result would be too large (over {MAX_DIGITS} digits)"
FLOAT_TOO_LARGE = "the result is too large"
DIVISION_BY_ZERO = "division by zero is undefined"


def checked(value: Number) -> Number:
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


BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
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
FUNCTIONS: dict[str, tuple[Callable[..., Number], range, str]] = {
    "sqrt": (_sqrt, range(1, 2), "sqrt(x)"),
    "abs": (abs, range(1, 2), "abs(x)"),
    "round": (_round, range(1, 3), "round(x) or round(x, digits)"),
    "min": (lambda *xs: min(xs), _ANY, "min(a, b, ...)"),
    "max": (lambda *xs: max(xs), _ANY, "max(a, b, ...)"),
    "floor": (math.floor, range(1, 2), "floor(x)"),
    "ceil": (math.ceil, range(1, 2), "ceil(x)"),
}
