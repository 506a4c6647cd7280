"""Arithmetic in words → a calculator expression string ("15% of 80" → "(15/100)*80").

Only text that becomes a genuine arithmetic expression is accepted; dates, phone numbers and
anything with stray words are not calculations. "§" in an `Expr` stands for an earlier result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.planners.pattern import money
from core.planners.pattern.numbers import OPERAND as _OPND
from core.planners.pattern.numbers import plain_amounts, spelled_out


@dataclass(frozen=True)
class Expr:
    """A calculator expression in which "§" stands for an earlier result ("that")."""

    text: str
    bare: bool = False  # typed without a verb ("2+3"): never split off after a todo title

    @property
    def uses_earlier(self) -> bool:
        return "§" in self.text


_SEP = r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)"
_UNICODE = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-", "√": " sqrt ", "²": "**2"})
_TRIM = re.compile(
    r"^(?:the\s+)?(?:(?:answer|result|value|solution|total|cost|price)\s+(?:to|of|for)\s+)?"
    r"|\s*(?:=|equals?(?:\s+to)?|is\s+equal\s+to|for\s+me|please|exactly)?\s*\??$"
)
_REF = re.compile(
    r"\b(?:(?:the|my|our)\s+)?(?:(?:previous|last|prior|earlier|current|latest)\s+)?"
    r"(?:result|answer|output|outcome)\b(?!\s+of\b)"
    r"|\b(?:the|that|this)\s+(?:total|number|value|sum|one)\b(?!\s+of\b)|\b(?:it|that|this|ans)\b"
)
_LIST_FN = re.compile(
    r"\b(?:the\s+)?(?P<fn>sum|total|product|average|mean|maximum|max|minimum|min|larger|largest"
    r"|bigger|biggest|greater|greatest|higher|highest|smaller|smallest|lesser|least|lower|lowest"
    rf"|difference|quotient)\s+(?:of|between)\s+(?P<items>{_OPND}(?:{_SEP}{_OPND})+)"
)
_ITEM = re.compile(_OPND)
_MAXES = frozenset(
    ("maximum", "max", "larger", "largest", "bigger", "biggest", "greater", "greatest", "higher",
     "highest")
)  # fmt: skip
_REWRITES = [  # (words that must appear, pattern, replacement): cheap checks skip most of them
    (("of",), rf"({_OPND})\s*(?:%|percent\b|per\s*cent\b)\s*of\s+({_OPND})", r"(\1/100)*\2"),
    (("of",), r"\b(?:the\s+)?(?:square\s+root|sqrt)\s+of\b", " sqrt "),
    (("abs",), r"\b(?:the\s+)?absolute\s+value\s+of\b|\babs\s+of\b", " abs "),
    (("floor",), r"\b(?:the\s+)?floor\s+of\b", " floor "),
    (("ceil",), r"\b(?:the\s+)?ceil(?:ing)?\s+of\b", " ceil "),
    (("round",), r"\bround(?:ed)?\s+(?:off\s+)?(?:of\s+)?(?=[\d.(§-])", " round "),
    (("half",), rf"\bhalf\s+of\s+({_OPND})", r"(\1 / 2)"),
    (("of",), rf"(\d+\s*/\s*\d+)\s+of\s+({_OPND})", r"(\1)*\2"),
    (
        ("times", "multiplied", "x"),
        r"\b(?:multiplied\s+by|times)\b|(?<=[\d)§])\s*x\s*(?=[\d(§.])",
        " * ",
    ),
    (("divided", "over"), r"\b(?:divided\s+by|over)\b", " / "),
    (("plus", "added"), r"\b(?:plus|added\s+to)\b", " + "),
    (("more",), rf"({_OPND})\s+more\s+than\s+({_OPND})", r"(\2 + \1)"),
    (("less",), rf"({_OPND})\s+less\s+than\s+({_OPND})", r"(\2 - \1)"),
    (("off",), rf"({_OPND})\s*(?:%|percent\b)\s*off\s+({_OPND})", r"(\2 * (1 - \1/100))"),
    (("minus",), r"\bminus\b", " - "),
    (("mod",), r"\bmod(?:ulo)?\b", " % "),
    (("to",), r"\b(?:raised\s+)?to\s+the\s+(\d+)(?:st|nd|rd|th)(?:\s+power)?\b", r" ** \1"),
    (("to",), r"\b(?:raised\s+)?to\s+the\s+power(?:\s+of)?\b|\braised\s+to\b", " ** "),
    (("squared",), r"\bsquared\b", " ** 2"),
    (("cubed",), r"\bcubed\b", " ** 3"),
    (("negative",), r"\bnegative\s+", " -"),
    (
        ("sqrt", "abs", "round", "floor", "ceil"),
        rf"\b(sqrt|abs|round|floor|ceil)\s+({_OPND})",
        r"\1(\2)",
    ),
]
_REWRITES[1:1] = money.REWRITES  # after "15% of 80", before "plus" and "times" take the words
_COMPILED_REWRITES = [(words, re.compile(p), r) for words, p, r in _REWRITES]
_IMPLICIT_TIMES = re.compile(r"(?<=[\d)])\s*(?=\()")
_LETTER = re.compile(r"[a-z]")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*|\.\d+)|(?P<op>\*\*|//|[-+*/%^])|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<comma>,)|(?P<name>[a-z]+)|(?P<ref>§))"
)
_FUNCTIONS = frozenset({"sqrt", "abs", "round", "min", "max", "floor", "ceil"})
_CONSTANTS = frozenset({"pi", "e"})
# Dates and phone numbers look like sums and differences; they are not calculations.
NOT_SUMS = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|\d{3}-\d{4}|\d{3}-\d{3}-\d{4}")


def _list_fn(match: re.Match[str]) -> str:
    fn, items = match["fn"], _ITEM.findall(match["items"])
    if fn in ("sum", "total"):
        return "(" + " + ".join(items) + ")"
    if fn == "product":
        return "(" + " * ".join(items) + ")"
    if fn in ("average", "mean"):
        return f"(({' + '.join(items)}) / {len(items)})"
    if fn in ("difference", "quotient") and len(items) == 2:
        return f"({items[0]} {'-' if fn == 'difference' else '/'} {items[1]})"
    if fn in ("difference", "quotient"):
        return match.group()
    return ("max(" if fn in _MAXES else "min(") + ", ".join(items) + ")"


def check(text: str) -> bool | None:
    """None unless `text` is well-formed arithmetic; else whether it has an operator or function."""
    position, expect_operand, operators = 0, True, False
    stack: list[bool] = []  # True: a function's parentheses (commas allowed)
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return None
        position, kind, token = match.end(), match.lastgroup, match.group().strip()
        if expect_operand:
            if kind in ("num", "ref") or token in _CONSTANTS:
                expect_operand = False
            elif token in _FUNCTIONS and text.startswith("(", position):
                stack.append(True)
                position += 1
                operators = True
            elif kind == "lp":
                stack.append(False)
            elif token not in ("-", "+"):
                return None
        elif kind == "op":
            expect_operand, operators = True, True
        elif kind == "rp" and stack:
            stack.pop()
        elif kind == "comma" and stack and stack[-1]:
            expect_operand = True
        else:
            return None
    return None if expect_operand or stack else operators


def translate(raw: str) -> tuple[str, bool] | None:
    """Words to a calculator expression (lowercase in), and whether it has an operator."""
    text = _TRIM.sub("", raw.strip()).translate(_UNICODE)
    letters = _LETTER.search(text)
    if letters:
        text = spelled_out(_REF.sub(" § ", text))
    text = plain_amounts(text)  # after spelling out: "five dollars" is an amount too
    if letters or "%" in text:
        if " of " in text or "between" in text:
            text = _LIST_FN.sub(_list_fn, text)
        for words, regex, replacement in _COMPILED_REWRITES:
            if any(map(text.__contains__, words)):
                text = regex.sub(replacement, text)
    if "(" in text:
        text = _IMPLICIT_TIMES.sub(" * ", text)
    text = " ".join(text.split())
    operators = check(text)
    return None if operators is None else (text, operators)
