"""What a request points at: a todo ("todo 2", "it", "the first one") or an earlier result ("that").

The pattern planner resolves conversation references here into literal arguments, or into
``$N`` for a step of the same plan (see core.references for how ``$N`` is filled in at run time).
Whatever cannot be pinned down becomes a question for the user (`Ask`), never a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.plan import History, PlannedStep, PriorStep

_F = re.IGNORECASE
TODO_TOOLS = frozenset({"add_todo", "list_todos", "get_todo", "complete_todo", "delete_todo"})

ASK_TODO = (
    'Which todo do you mean? Tell me its number, e.g. "complete todo 2" '
    '(say "list my todos" to see the numbers).'
)
ASK_NUMBER = (
    "I don't have an earlier result to use — what number should I use? "
    'For example: "calculate 5 + 10".'
)


@dataclass(frozen=True)
class Ask:
    """Zero steps: ask the user this instead of guessing."""

    text: str


@dataclass(frozen=True)
class Target:
    """Which todo(s) a request means: numbers, a position in the last listing, or "it"."""

    numbers: tuple[int, ...] = ()
    position: int = 0  # in the last listing, from 1; negative counts from the end
    it: bool = False  # "it", "that one", "the one I just added"
    on_list: bool = False  # "number 2 on my list": a number, or the 2nd one shown? Both must agree


_NOUN = r"(?:to-?dos?|to\s+dos?|tasks?|items?|reminders?|entry|entries)"
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


def _listing(history: History | None) -> PriorStep | None:
    for step in reversed(history.steps if history else []):
        if step.tool == "list_todos":
            return step
    return None


def _ordinal(position: int) -> str:
    if position == -1:
        return "last"
    if position < 0:
        return "second to last"
    suffix = "th" if 10 <= position % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(position % 10)
    return f"{position}{suffix or 'th'}"


def _by_position(
    position: int, planned: Sequence[PlannedStep], history: History | None
) -> int | Ask:
    if any(s.tool in ("list_todos", "add_todo") for s in planned):
        # The user has not seen what this plan will add or list: "the first one" is ambiguous.
        return Ask(ASK_TODO)
    listing = _listing(history)
    if listing is None or listing.todo_numbers is None:
        return Ask(
            "Which todo do you mean? I haven't shown you a list in this conversation yet — "
            'say "list my todos", or give its number, e.g. "complete todo 2".'
        )
    numbers = listing.todo_numbers
    index = position - 1 if position > 0 else len(numbers) + position
    if not 0 <= index < len(numbers):
        shown = f"{len(numbers)} todo{'s' if len(numbers) != 1 else ''}"
        return Ask(
            f"Which todo do you mean? Your last list showed {shown}, so there is no "
            f'{_ordinal(position)} one. Tell me its number, e.g. "complete todo 2".'
        )
    return numbers[index]


def _it(planned: Sequence[PlannedStep], history: History | None) -> int | str | Ask:
    for index in range(len(planned), 0, -1):
        step = planned[index - 1]
        if step.tool == "add_todo":
            return f"${index}"  # add_todo's value is the new todo's number
        if step.tool in ("get_todo", "complete_todo", "delete_todo"):
            number: int | str = step.args["number"]
            return number
        if step.tool == "list_todos":
            return Ask(ASK_TODO)
    for prior in reversed(history.steps if history else []):
        if prior.tool not in TODO_TOOLS:
            continue
        if prior.todo_number is not None:
            return prior.todo_number
        if prior.todo_numbers is not None and len(prior.todo_numbers) == 1:
            return prior.todo_numbers[0]
        if prior.tool == "delete_todo" and isinstance(prior.args.get("number"), int):
            number = prior.args["number"]
            return number
        break
    return Ask(ASK_TODO)


def todo_numbers(
    target: Target, planned: Sequence[PlannedStep], history: History | None
) -> list[int | str] | Ask:
    """The `number` argument(s) for a todo step: ints, or ``$N`` for a todo this plan adds."""
    if target.numbers:
        listing = _listing(history)
        shown = listing.todo_numbers if listing and listing.todo_numbers else []
        number = target.numbers[0]
        ambiguous = target.on_list and len(target.numbers) == 1 and 0 < number <= len(shown)
        if ambiguous and shown[number - 1] != number:
            return Ask(
                f"Do you mean todo #{number}, or the {_ordinal(number)} one on your last "
                f'list (#{shown[number - 1]})? Say "todo {number}" or "the '
                f'{_ordinal(number)} one".'
            )
        return list(target.numbers)
    found: int | str | Ask
    if target.position:
        found = _by_position(target.position, planned, history)
    else:
        found = _it(planned, history)
    return found if isinstance(found, Ask) else [found]


def _literal(value: float) -> str | None:
    try:
        text = str(value)
    except ValueError:  # an int too long to print: no calculator result is that big
        return None
    if "e" in text or "E" in text:
        text = format(Decimal(repr(value)), "f")
    return f"({text})" if value < 0 else text


def earlier_value(planned: Sequence[PlannedStep], history: History | None) -> str | Ask:
    """What "that"/"it" means in arithmetic: this plan's last calculation (``$N``), else the
    conversation's last calculator result as a literal. Anything else is ambiguous."""
    for index in range(len(planned), 0, -1):
        if planned[index - 1].tool == "calculator":
            return f"${index}"
    if planned:
        return Ask(ASK_NUMBER)  # "add a todo … and double it": not a number to work with
    for prior in reversed(history.steps if history else []):
        if prior.tool == "calculator":
            value = prior.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                break
            if isinstance(value, float) and not math.isfinite(value):
                break
            return _literal(value) or Ask(ASK_NUMBER)
    return Ask(ASK_NUMBER)
