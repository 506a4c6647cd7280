"""Splitting one message into the pieces that may each be a request.

A message splits hard on ";", new lines and ", then" (never inside a quoted title); inside a
part, the soft separators (" and ", " then ", ", ", sentence ends) are only candidates: the
units parser splits there only where every side is a request understood on its own.
"""

from __future__ import annotations

import re

_F = re.IGNORECASE
MAX_SOFT_SPLITS = 12  # more " and "s than this in one part: keep the part whole

_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_MENTION = re.compile(r"^(?:<@\w+(?:\|[^>]*)?>[\s,:]*)+")
_END = re.compile(r"[\s?.!]+$")
_HARD = re.compile(r" ?[;\n][ ;\n]*| ?[,.] ?(?:and )?(?:then|after that)\b[ ,:]*", _F)
_QUOTED_SPAN = re.compile(r'"[^"\n]*"|“[^”\n]*”')
SOFT = re.compile(r",? (?:and then|and also|and|then|also|&) |, |[.?!] ", _F)
# A calculation may go on without a joining word: "3 tickets at $20 each split between 2",
# "$200 less 15% discount plus 8% tax" — candidates like the others, kept only where both
# sides are understood; looked for only in text that can hold them.
SOFT_CALC = re.compile(
    SOFT.pattern + r"| (?=split\b)| (?=(?:plus|less|minus|with) (?:an? )?[\d.]+ ?(?:%|percent))",
    _F,
)


def soft_splits(text: str) -> re.Pattern[str]:
    """The soft separators to try in this text."""
    return SOFT_CALC if "split" in text or "%" in text or "percent" in text else SOFT


GREETING = re.compile(
    r"(?:hi|hello|hey|yo|hiya|howdy|good (?:morning|afternoon|evening)|thanks|thank you|thx|ty"
    r"|cheers|help|what can you do|who are you)(?: there)?(?:,? crane)?",
    _F,
)


def normalize(text: str) -> str:
    """One space between words, no leading mention, no trailing punctuation."""
    text = _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()
    return _END.sub("", _MENTION.sub("", text))


def segments(text: str) -> list[tuple[bool, str]]:
    """Hard-split parts, each with whether a list separator (";" or a new line) preceded it."""
    parts: list[tuple[bool, str]] = []
    start, listed = 0, False
    quoted = [m.span() for m in _QUOTED_SPAN.finditer(text)] if '"' in text or "“" in text else []
    for match in _HARD.finditer(text):
        if any(a < match.start() < b for a, b in quoted):
            continue  # add a todo "eat; sleep": one title
        parts.append((listed, text[start : match.start()]))
        listed = not any(c.isalpha() for c in match.group())
        start = match.end()
    parts.append((listed, text[start:]))
    return parts
