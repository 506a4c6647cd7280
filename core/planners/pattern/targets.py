"""Which todo a phrase names: "todo 2", "2 and 3", "the first one", "it", or its title.

Reading only: turning a Target into a todo number (against this plan and the conversation)
is core.planners.pattern.references.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.plan import History
from core.planners.pattern.answers import ASK_TODO, Ask
from core.planners.pattern.lexicon import TODO_NOUN

_F = re.IGNORECASE


@dataclass(frozen=True)
class Target:
    """Which todo(s) a request means: numbers, a position in the last listing, or "it"."""

    numbers: tuple[int, ...] = ()
    position: int = 0  # in the last listing, from 1; negative counts from the end
    it: bool = False  # "it", "that one", "the one I just added"
    on_list: bool = False  # "number 2 on my list": a number, or the 2nd one shown? Both must agree
    notes: tuple[str, ...] = ()  # titles of todos named by their words, one per number
    named: bool = False  # named by its words: never the end of a todo title before it


_NOUN = TODO_NOUN
_NUMBERS = re.compile(
    rf"(?:(?:the|my)\s+)?(?P<noun>{_NOUN}\s*)?(?P<mark>(?:number|num|no\.?)\s*|\#\s*)?"
    r"(?P<nums>\d{1,9}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)"
    rf"(?:{_NOUN}\s*)?(?:(?:number|num|no\.?)\s*|\#\s*)?\d{{1,9}}){{0,19}})",
    _F,
)
_SPLIT_NUMBERS = re.compile(r"\d+")
_SMALL_NUMBERS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty",
)  # fmt: skip
_WORD_NUMBER = re.compile(  # "todo three", "number two" — never "the first one"
    rf"\b((?:to-?dos?|tasks?|items?|number|no\.?|\#)\s*)({'|'.join(_SMALL_NUMBERS)})\b", _F
)
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "top": 1, "last": -1, "bottom": -1, "penultimate": -2,
}  # fmt: skip
_POSITION = re.compile(
    r"(?:the\s+)?(?:very\s+)?(?:(?P<second_last>second[- ](?:to[- ])?last)|(?P<word>"
    + "|".join(_ORDINALS)
    + rf")|(?P<n>\d{{1,3}})(?:st|nd|rd|th))(?:\s+(?:one|{_NOUN}))?"
    rf"(?:\s+(?:on|in|from|of)\s+(?:the|my)\s+(?:(?:to-?do\s+)?list|{_NOUN}))?",
    _F,
)
_IT = re.compile(
    rf"it|that|this|that\s+one|this\s+one|(?:that|this|the)\s+{_NOUN}"
    r"|(?:the\s+)?(?:(?:last|latest|newest|most\s+recent)\s+)?(?:one|todo|task)\s+(?:i|we)\s+"
    r"(?:just\s+)?(?:added|created|made)"
    r"|the\s+(?:new|newest|latest)\s+(?:one|todo|task)",
    _F,
)
_PLACE = re.compile(
    r"\s+(?:from|off|on|in|out\s+of)\s+(?:my|the)\s+(?:(?:to-?do\s+|task\s+)?list|to-?dos|tasks)$",
    _F,
)
_QUOTED = re.compile(r"[\"“'‘](?P<title>.+)[\"”'’]")
_NAMED = re.compile(
    r"(?:the\s+)?(?:to-?do|task|one|item|reminder)\s+(?:called|named|titled|saying|that\s+says)\s+"
    r"(?P<title>.+)",
    _F,
)
_ABOUT = re.compile(  # "the one about milk": a unique part of a title
    r"(?:the\s+)?(?:to-?do|task|one|item|reminder)\s+(?:about|for|to|with)\s+(?P<title>.+)", _F
)


def parse_target(text: str, *, bare_number: bool = True, it: bool = True) -> Target | None:
    """The todo(s) a phrase names, or None; `bare_number` allows "complete 2" without "todo"."""
    stripped = text.strip()
    text = _PLACE.sub("", stripped)
    on_list = text != stripped
    text = _WORD_NUMBER.sub(lambda m: m[1] + str(_SMALL_NUMBERS.index(m[2].lower()) + 1), text)
    match = _NUMBERS.fullmatch(text)
    if match and (bare_number or match.group("noun") or match.group("mark")):
        numbers = tuple(dict.fromkeys(int(n) for n in _SPLIT_NUMBERS.findall(match["nums"])))
        return Target(numbers=numbers, on_list=on_list and not match.group("noun"))
    match = _POSITION.fullmatch(text)
    if match:
        if match.group("second_last"):
            return Target(position=-2)
        word = match.group("word")
        position = _ORDINALS[word.lower()] if word else int(match.group("n"))
        return Target(position=position) if position else None
    if it and _IT.fullmatch(text):
        return Target(it=True)
    return None


def strip_place(text: str) -> str:
    """The phrase without "from my list" / "on my todos" at its end."""
    return _PLACE.sub("", text)


def _words(title: str) -> str:
    return " ".join(title.split()).rstrip(".").casefold()


def title_target(text: str, history: History | None) -> Target | Ask | None:
    """A todo named by its title ("mark 'buy milk' done", "the one about milk"), among todos
    added earlier in the conversation. None when none fits: the phrase is not understood."""
    if history is None:
        return None
    text = _PLACE.sub("", text.strip())
    named = _QUOTED.fullmatch(text) or _NAMED.fullmatch(text)
    about = None if named else _ABOUT.fullmatch(text)
    title = _words(found["title"] if (found := named or about) else text)
    if not title:
        return None
    deleted = {s.todo_number for s in history.steps if s.tool == "delete_todo"}
    deleted |= {s.args.get("number") for s in history.steps if s.tool == "delete_todo"}
    numbers = {
        s.todo_number
        for s in history.steps
        if s.tool == "add_todo"
        and isinstance(s.todo_number, int)
        and s.todo_number not in deleted
        and isinstance(s.args.get("title"), str)
        and (title in _words(s.args["title"]) if about else title == _words(s.args["title"]))
    }
    if len(numbers) > 1:
        return Ask(f'More than one todo matches "{title}". {ASK_TODO}')
    return Target(numbers=(numbers.pop(),)) if numbers else None
