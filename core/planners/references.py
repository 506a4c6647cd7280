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
    """Which todo(s) a request means; exactly one of the fields says it."""

    numbers: tuple[int, ...] = ()
    position: int = 0  # in the last listing, from 1; negative counts from the end
    it: bool = False  # "it", "that one", "the one I just added"


_NOUN = r"(?:to-?dos?|to\s+dos?|tasks?|items?|reminders?|entry|entries)"
_NUMBERS = re.compile(
    rf"(?:(?:the|my)\s+)?(?P<noun>{_NOUN}\s*)?(?P<mark>(?:number|num|no\.?)\s*|\#\s*)?"
    r"(?P<nums>\d{1,9}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)\#?\d{1,9}){0,19})",
    _F,
)
_SPLIT_NUMBERS = re.compile(r"\d+")
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
    r"|(?:the\s+)?(?:one|todo|task)\s+(?:i|we)\s+(?:just\s+)?(?:added|created|made)"
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


def parse_target(text: str, *, bare_number: bool = True, it: bool = True) -> Target | None:
    """The todo(s) a phrase names, or None; `bare_number` allows "complete 2" without "todo"."""
    text = _PLACE.sub("", text.strip())
    match = _NUMBERS.fullmatch(text)
    if match and (bare_number or match.group("noun") or match.group("mark")):
        numbers = tuple(dict.fromkeys(int(n) for n in _SPLIT_NUMBERS.findall(match["nums"])))
        return Target(numbers=numbers)
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


def _same_title(a: str, b: str) -> bool:
    return " ".join(a.split()).rstrip(".").casefold() == " ".join(b.split()).rstrip(".").casefold()


def title_target(text: str, history: History | None) -> Target | Ask | None:
    """A todo named by its title ("mark 'buy milk' done"), found among todos added earlier.

    None when no earlier todo has that title, so the phrase counts as not understood.
    """
    if history is None:
        return None
    text = _PLACE.sub("", text.strip())
    match = _QUOTED.fullmatch(text) or _NAMED.fullmatch(text)
    title = match.group("title") if match else text
    deleted = {s.todo_number for s in history.steps if s.tool == "delete_todo"}
    deleted |= {s.args.get("number") for s in history.steps if s.tool == "delete_todo"}
    found = [
        s.todo_number
        for s in history.steps
        if s.tool == "add_todo"
        and isinstance(s.todo_number, int)
        and s.todo_number not in deleted
        and isinstance(s.args.get("title"), str)
        and _same_title(s.args["title"], title)
    ]
    if not found:
        return None
    if len(set(found)) > 1:
        return Ask(f'More than one todo is called "{title}". {ASK_TODO}')
    return Target(numbers=(found[0],))


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
        return list(target.numbers)
    found: int | str | Ask
    if target.position:
        found = _by_position(target.position, planned, history)
    else:
        found = _it(planned, history)
    return found if isinstance(found, Ask) else [found]


def _literal(value: float) -> str:
    text = str(value)
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
            return _literal(value)
    return Ask(ASK_NUMBER)
