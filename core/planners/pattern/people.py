"""Requests about another person's list: refused politely, never done on the requester's own.

Crane keeps each user's own todos; "add milk to @sam's list", "remind Jake to send the slides"
or "a todo for Maria to review the PR" would otherwise land on the requester's list as a todo
nobody meant for it.
"""

from __future__ import annotations

import re

OTHERS_LIST = (
    "I can only keep your own todo list, so I haven't done anything — I can't add to, read or "
    'change anyone else\'s. To keep it on your own list, say e.g. "add a todo to ask Sam to …".'
)

_PERSON = r"(?:<@\w+(?:\|[^>]*)?>|@[\w.-]+|(?-i:[A-Z][a-z]+))"
_OWN = r"(?:my|our|the|this|that|it|one|what|who|let|there|here|everyone|today|tomorrow)"
_LIST = r"(?:(?:to-?do|to do|task|shopping|reminder)s? )?(?:list|to-?dos|to dos|tasks|reminders)\b"
_POSSESSIVE = re.compile(
    rf"(?:<@\w+(?:\|[^>]*)?>|@[\w.-]+|\b(?!{_OWN}\b)[a-z][\w.-]*)'s? {_LIST}", re.IGNORECASE
)
_THEIRS = re.compile(rf"\b(?:his|her|their) {_LIST}", re.IGNORECASE)
_REMIND = re.compile(
    rf"^(?:(?!remind\b|to\b)[\w@']+[\s,!:]+){{0,4}}remind (?!me\b|myself\b|us\b){_PERSON}"
    r" (?:to|about|that)\b",
    re.IGNORECASE,
)
_FOR = re.compile(
    rf"\b(?:to-?do|task|reminder) for (?:{_PERSON}|(?:my|our) [a-z]+) to \w", re.IGNORECASE
)


def about_someone_else(text: str) -> bool:
    """Whether the request is about another person's list rather than the requester's own."""
    lower = text.lower()
    return bool(
        ("'" in text and _POSSESSIVE.search(text))
        or (("his " in lower or "her " in lower) and _THEIRS.search(text))
        or ("remind" in lower and _REMIND.search(text))
        or (" for " in lower and _FOR.search(text))
    )
