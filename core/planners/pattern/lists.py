"""Several todos in one request: "add todos: eggs, bread and butter", "add buy eggs, buy bread
and call mom to my todos", "remind me to buy milk and to call the vet".

A list said to be several (a plural noun, a count, a repeated "to") splits at its commas and its
last "and"; a list after a singular "a todo" stays one title ("buy eggs, bread and butter"),
unless every item reads as a task of its own ("call mom, buy bread and pay rent"), which is
asked about rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# A comma between digits groups thousands ("2,000 sheets"): it separates nothing.
_COMMAS = re.compile(r"\s*(?:(?<!\d),|,(?!\d))\s*(?:and\s+|&\s+)?")
_LAST_AND = re.compile(r"\s+(?:and|&)\s+(?!.*\s(?:and|&)\s)")
_EVERY_AND = re.compile(r"\s+(?:and|&)\s+")
AND_TO = re.compile(r",?\s+and\s+(?:also\s+)?to\s+")
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


def count_of(word: str | None) -> int | None:
    """The number of todos a request says it holds ("two todos", "3 tasks"), if it says one."""
    if not word:
        return None
    word = word.lower()
    return int(word) if word.isdigit() else _COUNTS.get(word)


def list_items(text: str, request_follows: Callable[[str], bool]) -> list[str]:
    """The items after "add todos:": its commas and its last "and" split it, unless what follows
    that "and" is a request of its own ("…, bread and list my todos")."""
    if AND_TO.search(text) or _COMMAS.search(text):
        items = several(text, plural=False, keep_last=True)
        last = items[-1]
        if not request_follows(last):
            items[-1:] = [part.strip() for part in _LAST_AND.split(last, maxsplit=1)]
        return items
    return [text] if request_follows(text) else several(text, plural=True)


def several(text: str, plural: bool, keep_last: bool = False) -> list[str]:
    """The items of a list of todos; one item when it is not a list."""
    if AND_TO.search(text):
        return [item for item in AND_TO.split(text) if item.strip()]
    if _COMMAS.search(text):
        items = _COMMAS.split(text)
        if not keep_last:
            items[-1:] = _LAST_AND.split(items[-1], maxsplit=1)
    elif plural:
        items = _EVERY_AND.split(text)
    else:
        return [text]
    return [item.strip() for item in items if item.strip()]


def looks_like_tasks(items: list[str]) -> bool:
    """Whether every item of a comma list is a task of its own (a verb and its object), not
    the parts of one ("buy eggs, bread and butter")."""
    return len(items) > 1 and all(len(item.split()) >= 2 for item in items)


ASK_SEVERAL = (
    'Is that one todo or {n} separate ones? Say "add todos: …" with the items separated by '
    '";" for several, or put the title in quotes for one.'
)
ASK_COUNT = (
    'You said {said} todos but I count {found} — which should I add? Separate them with ";", '
    'e.g. "add todos: buy eggs; call mom".'
)
