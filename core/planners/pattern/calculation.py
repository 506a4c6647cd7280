"""Which words ask for a calculation: "calculate …", "what is …", "add 10 to that", "double it".

The expression itself is read by core.planners.pattern.arithmetic; "§" stands for an earlier result.
"""

from __future__ import annotations

import re

from core.planners.pattern import money
from core.planners.pattern.arithmetic import NOT_SUMS, Expr, check, translate

_ATOM = re.compile(r"\d+(?:\.\d+)?|\.\d+|§|pi|e|[a-z]+\([^()]*\)|\([^()]*\)")


def _atom(text: str) -> str:
    return text if _ATOM.fullmatch(text) else f"({text})"


_AFTERWORDS = (" again", " real quick", " quickly", " for me")
_CALC_PREFIX = re.compile(
    r"(?:calculate|calc|compute|evaluate|eval|solve|work out|figure out|find|determine|tell me"
    r"|give me|show me|what(?:'s| is| are| was| would be| will be)|whats|how much (?:is|are"
    r"|would be)|how much's|do the math(?: on| for)?|quick math|math|do|run|crunch)"
    r"\s*(?::\s*)?(?P<e>.+)"
)
_CALC_SUFFIX = (
    re.compile(
        r"(?:tell me )?what (?:does|do|is|would|will) (?P<e>.+?) (?:equal|equals|make|come to"
        r"|give(?: you| me)?|add up to|be|total|cost)(?: to)?"
    ),
    re.compile(r"(?:tell me )?what (?P<e>.+?) (?:is|equals|makes|comes to|would be)"),
    re.compile(r"how much (?P<e>.+?) (?:is|comes to|would be|makes|costs?|adds up to)"),
    re.compile(r"how much (?:would|will|does|do) (?P<e>.+?) (?:come to|cost|be|make|add up to)"),
)
_PERCENT = r" ?(?:%|percent|per cent)"
_VERBS = [
    (re.compile(p), template)
    for p, template in (
        *money.VERBS,  # "split 120 between 4 people", "add 10% tax": before "add X"
        (r"add (?P<a>.+?) (?:to|onto) (?P<b>.+)", "{b} + {a}"),
        (r"(?:subtract|take(?: away)?|deduct|remove) (?P<a>.+?) from (?P<b>.+)", "{b} - {a}"),
        (r"(?:multiply|times) (?P<a>.+?) (?:by|with|times|and) (?P<b>.+)", "{a} * {b}"),
        (r"divide (?P<a>.+?) by (?P<b>.+)", "{a} / {b}"),
        (r"divide (?P<a>.+?) into (?P<b>.+)", "{b} / {a}"),
        (
            rf"(?:increase|raise|bump(?: up)?) (?P<a>.+?) by (?P<b>.+?){_PERCENT}",
            "{a} * (1 + {b} / 100)",
        ),
        (
            rf"(?:decrease|reduce|lower|cut|drop) (?P<a>.+?) by (?P<b>.+?){_PERCENT}",
            "{a} * (1 - {b} / 100)",
        ),
        (r"(?:increase|raise|bump(?: up)?) (?P<a>.+?) by (?P<b>.+)", "{a} + {b}"),
        (r"(?:decrease|reduce|lower|cut|drop) (?P<a>.+?) by (?P<b>.+)", "{a} - {b}"),
        (
            r"raise (?P<a>.+?) to (?:the )?(?:power (?:of )?)?(?P<b>.+?)"
            r"(?:(?:st|nd|rd|th)? power)?",
            "{a} ** {b}",
        ),
        (r"double (?P<a>.+)", "{a} * 2"),
        (r"triple (?P<a>.+)", "{a} * 3"),
        (r"quadruple (?P<a>.+)", "{a} * 4"),
        (r"(?:halve|half) (?P<a>.+)", "{a} / 2"),
        (r"square (?!root)(?P<a>.+)", "{a} ** 2"),
        (r"cube (?!root)(?P<a>.+)", "{a} ** 3"),
        (r"negate (?P<a>.+)", "-{a}"),
        (r"take (?P<a>.+ of .+)", "{a}"),
        (r"(?:add|sum|total)(?: up)? (?P<a>.+(?:,| and | & ).+)", "{a}"),
        # Continuing from an earlier result: "add 10", "times 3", "squared".
        (r"(?:add|plus|\+) ?(?P<a>.+?)(?: more)?", "§ + {a}"),
        (r"(?:subtract|minus|take away|deduct) ?(?P<a>.+)", "§ - {a}"),
        (r"(?:multiply by|multiplied by|times|\*) ?(?P<a>.+)", "§ * {a}"),
        (r"(?:divide by|divided by|over|/) ?(?P<a>.+)", "§ / {a}"),
        (r"(?:(?:raised )?to the power(?: of)?|raised to|\^|\*\*) ?(?P<a>.+)", "§ ** {a}"),
        (r"squared", "§ ** 2"),
        (r"cubed", "§ ** 3"),
    )
]


def _verb(text: str) -> str | None:
    for regex, template in _VERBS:
        match = regex.fullmatch(text)
        if not match:
            continue
        parts: dict[str, str] = {}
        for name, raw in match.groupdict().items():
            if template == "{a}" and not regex.pattern.startswith("take"):
                raw = raw if " of " in raw else f"sum of {raw}"
            found = translate(raw)
            if found is None:
                break
            parts[name] = _atom(found[0])
        else:
            expression = template.format(**parts)
            if check(expression) is not None:
                return expression
    return None


def calculation(text: str) -> Expr | None:
    """The calculator expression a request asks for, or None when it is not arithmetic."""
    text = text.lower()
    for afterword in _AFTERWORDS:  # "what's 3.5 * 4 again": the sum is the same
        if text.endswith(afterword):
            text = text[: -len(afterword)].rstrip()
            break
    if "§" in text:
        return None
    candidates = [m["e"] for m in [_CALC_PREFIX.fullmatch(text)] if m]
    candidates += [m["e"] for m in (r.fullmatch(text) for r in _CALC_SUFFIX) if m]
    for candidate in candidates:
        found = translate(candidate)
        if found and (found[1] or "§" not in found[0]):
            return Expr(found[0])
        verb = _verb(candidate)
        if verb:
            return Expr(verb)
    verb = _verb(text)
    if verb:
        return Expr(verb)
    found = translate(text)
    if found and found[1] and not NOT_SUMS.fullmatch(text):
        return Expr(found[0], bare=True)
    return None
