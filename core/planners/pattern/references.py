"""What a request points at: a todo ("todo 2", "it", "the first one") or an earlier result ("that").

The pattern planner resolves conversation references here into literal arguments, or into
``$N`` for a step of the same plan (see core.references for how ``$N`` is filled in at run time).
Whatever cannot be pinned down becomes a question for the user (`Ask`), never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from core.plan import History, PlannedStep, PriorStep
from core.planners.pattern.answers import ASK_NUMBER, ASK_TODO, Ask
from core.planners.pattern.targets import Target

TODO_TOOLS = frozenset({"add_todo", "list_todos", "get_todo", "complete_todo", "delete_todo"})


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


def last_turn(history: History | None) -> list[PriorStep]:
    """The steps of the latest earlier request that did something: what "it" can mean."""
    steps = history.steps if history else []
    if not steps:
        return []
    turn = steps[-1].turn
    if turn is None:
        return steps[-1:]
    index = len(steps)
    while index and steps[index - 1].turn == turn:
        index -= 1
    return steps[index:]


def _todos_of(prior: PriorStep) -> set[int]:
    if prior.todo_number is not None:
        return {prior.todo_number}
    if prior.todo_numbers is not None:
        return set(prior.todo_numbers)  # a listing: every todo it showed
    number = prior.args.get("number") if prior.tool == "delete_todo" else None
    return {number} if isinstance(number, int) else set()


def _it(planned: Sequence[PlannedStep], history: History | None) -> int | str | Ask:
    """The one todo "it" can mean; a question when none, or more than one, fits."""
    for index in range(len(planned), 0, -1):
        step = planned[index - 1]
        if step.tool == "add_todo":
            if index > 1 and planned[index - 2].tool == "add_todo":
                return Ask(ASK_TODO)  # "add eggs and bread and mark it done": which?
            return f"${index}"  # add_todo's value is the new todo's number
        if step.tool in ("get_todo", "complete_todo", "delete_todo"):
            number: int | str = step.args["number"]
            return number
        if step.tool == "list_todos":
            return Ask(ASK_TODO)
    turn = last_turn(history)
    if not turn or turn[-1].tool not in TODO_TOOLS:
        return Ask(ASK_TODO)  # the last result is a number: "delete that" is not about a todo
    candidates: set[int] = set()
    for prior in turn:
        if prior.tool in TODO_TOOLS:
            candidates |= _todos_of(prior)
    return candidates.pop() if len(candidates) == 1 else Ask(ASK_TODO)


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
    # Only a calculator result is a number to work with: a todo step in between is no candidate.
    for prior in reversed(history.steps if history else []):
        if prior.tool == "calculator":
            value = prior.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                break
            if isinstance(value, float) and not math.isfinite(value):
                break
            return _literal(value) or Ask(ASK_NUMBER)
    return Ask(ASK_NUMBER)
