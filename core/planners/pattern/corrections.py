"""A follow-up that corrects one number of the previous calculation: "what about 20%?",
"actually make it 5 people", "what about on $80" — the previous request is planned again with
that number changed. Which number is told by what comes with it (%, a word such as "people",
a currency sign, "on"); when that leaves more than one, Crane asks instead of guessing.
"""

from __future__ import annotations

import re

from core.plan import History
from core.planners.pattern.references import last_turn

ASK_WHICH_NUMBER = (
    "Which number of your last calculation should I change? Say the whole calculation again, "
    'e.g. "split 120 between 5 people".'
)
_LEAD = (
    r"(?:no|nope|sorry|oops|actually|wait|hmm|ok|i meant|i mean|what about|how about|and"
    r"|what if it(?:'s| is| were)|make (?:it|that)|change (?:it|that) to|same (?:thing )?"
    r"(?:but )?(?:with|for)|try|instead|rather)"
)
_CORRECTION = re.compile(
    rf"(?:{_LEAD}[\s,!.]+)+(?P<prep>(?:with|for|on|at|to|of) )?(?P<cur>[$€£] ?)?"
    r"(?P<value>\d[\d,]*(?:\.\d+)?)(?: ?(?P<unit>%|percent|[a-z]+))?(?: instead| then)?",
    re.IGNORECASE,
)
# A number of the previous request, with the word before it and what it counts (not a word
# that joins it to the next number: "120 between 4").
_JOINING = r"(?:between|among|amongst|by|into|on|of|at|for|with|and|to|plus|minus|times|over|less)"
_NUMBER = re.compile(
    r"(?P<pre>(?:[a-z]+ )?[$€£]? ?)(?P<value>\d[\d,]*(?:\.\d+)?)"
    rf"(?: ?(?P<unit>%|percent|(?!{_JOINING}\b)[a-z]+))?",
    re.IGNORECASE,
)
_SAME_KIND = {
    "ppl": "people", "persons": "people", "folks": "people", "guys": "people", "ways": "people",
    "percent": "%",
}  # fmt: skip


_SHARED_BY = ("between ", "among ", "amongst ", "by ", "into ")


def _kind(unit: str | None) -> str:
    word = (unit or "").lower()
    return _SAME_KIND.get(word, word)


def _kind_of(number: re.Match[str]) -> str:
    """What a number of the previous request counts: "4 people", "20%", or, after "split …
    between", people even when unsaid."""
    kind = _kind(number["unit"])
    if kind not in ("", "people") or not number["pre"].lower().startswith(_SHARED_BY):
        return kind
    return "people"


def corrected(text: str, history: History | None) -> str | None:
    """The previous calculation with one number changed, "" when it is unclear which, or None
    when the text is not such a correction."""
    match = _CORRECTION.fullmatch(text)
    if match is None or history is None:
        return None
    turn = last_turn(history)
    if not turn or turn[-1].tool != "calculator" or turn[-1].turn is None:
        return None
    previous = history.requests[turn[-1].turn]
    numbers = list(_NUMBER.finditer(previous))
    unit, prep = _kind(match["unit"]), (match["prep"] or "").strip().lower()
    fits = [
        number
        for number in numbers
        if (not unit or _kind_of(number) == unit)
        and (not match["cur"] or any(sign in number["pre"] for sign in "$€£"))
        and (not prep or number["pre"].lower().startswith(prep + " "))
    ]
    if unit and not any(_kind_of(number) == unit for number in numbers):
        return None  # "and 5 more": not a number of the previous request, but a new step
    if len(fits) != 1:
        return ""
    start, end = fits[0].span("value")
    return previous[:start] + match["value"] + previous[end:]
