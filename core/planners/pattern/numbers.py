"""Numbers as people write them → digits: "one hundred twenty three", "€1,299.99", "60 euros".

A comma groups thousands only in that shape (1,299 or 1,299.99) and never inside a function's
parentheses, so `max(1,299)` keeps its two arguments. Currency signs, codes and words around a
number go: the calculator works on amounts, not money.
"""

from __future__ import annotations

import re

# One operand of an expression in the making: a number, an earlier result (§), a constant, a
# function call or a parenthesised group.
OPERAND = r"(?:-\s*)?(?:\d+(?:\.\d+)?|\.\d+|§|\bpi\b|\be\b|[a-z]+\([^()]*\)|\([^()]*\))"
_CURRENCY = re.compile(
    r"[$€£¥₹]"
    r"|(?<=[\d.])\s*(?:dollars?|bucks?|euros?|pounds?|quid|yen|rupees?|francs?|usd|eur|gbp|chf"
    r"|cad|aud|jpy|inr)\b"
    r"|\b(?:usd|eur|gbp|chf|cad|aud|jpy|inr)\s*(?=[\d.])"
)
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")
_SMALL = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_WORD_VALUES = {w: i for i, w in enumerate(_SMALL)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_WORD = "|".join(sorted([*_WORD_VALUES, *_SCALES], key=len, reverse=True))
_NUMBER_WORDS = re.compile(rf"\b(?:{_WORD})(?:[\s-]+(?:{_WORD}))*\b")
_POINT = re.compile(r"(\d+)\s+point\s+(\d+)")


def _in_calls(text: str) -> bytearray:
    """For each position, 1 when it sits inside the parentheses of a call such as max(…)."""
    inside, stack, last = bytearray(len(text)), [False], ""
    for index, char in enumerate(text):
        if char == "(":
            stack.append(stack[-1] or last.isalpha())
        elif char == ")" and len(stack) > 1:
            stack.pop()
        inside[index] = stack[-1]
        if not char.isspace():
            last = char
    return inside


def plain_amounts(text: str) -> str:
    """Currency gone, thousands ungrouped: "€1,299.99" → "1299.99" (lowercase in)."""
    text = _CURRENCY.sub("", text)
    if "," not in text:
        return text
    inside = _in_calls(text) if "(" in text else None
    return _THOUSANDS.sub(
        lambda m: m.group() if inside and inside[m.start()] else m.group().replace(",", ""), text
    )


def _words(match: re.Match[str]) -> str:
    total = current = 0
    for word in re.split(r"[\s-]+", match.group()):
        if word in _WORD_VALUES:
            current += _WORD_VALUES[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _SCALES[word]
            current = 0
    return str(total + current)


def spelled_out(text: str) -> str:
    """Number words as digits: "one hundred twenty three point five" → "123.5"."""
    if _NUMBER_WORDS.search(text):
        return _POINT.sub(r"\1.\2", _NUMBER_WORDS.sub(_words, text))
    return text
