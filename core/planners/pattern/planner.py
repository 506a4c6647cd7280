"""The offline planner: plain words in, an explicit Plan of tool steps out, by patterns alone.

Safety first — a wrong action is worse than none: anything not understood, ambiguous or
unsupported gives zero steps and an answer instead. The pieces: splitting.py cuts a message,
phrases.py/titles.py/calculation.py read one piece, units.py chains the pieces, and
references.py/targets.py resolve "it", "that", "the first one" and titles into arguments.
"""

from __future__ import annotations

import re

from core.plan import History, Plan, PlannedStep
from core.planners import calls
from core.planners.pattern import titles
from core.planners.pattern.answers import ASK_TITLE, HELP_TEXT, NO_FACTORIALS, UNSUPPORTED, Ask
from core.planners.pattern.arithmetic import check
from core.planners.pattern.references import earlier_value, todo_numbers
from core.planners.pattern.splitting import GREETING, SOFT, normalize, segments
from core.planners.pattern.talk import asks_gerunds
from core.planners.pattern.titles import clean_title
from core.planners.pattern.units import Parser, Unit

_FACTORIAL = re.compile(r"\d!")


def _lone_number(unit: Unit) -> bool:
    return unit.expr is not None and check(unit.expr.text) is False


def _resolve(units: list[Unit], history: History | None) -> Plan:
    for unit in units:
        if unit.kind in ("unsupported", "ask"):
            return Plan(answer=unit.text, private=unit.private)
    steps: list[PlannedStep] = []
    for unit in units:
        if unit.kind == "step":
            steps.append(PlannedStep(tool=unit.tool, args=dict(unit.args)))
        elif unit.kind == "calc" and unit.expr is not None:
            expression = unit.expr.text
            if unit.expr.uses_earlier:
                earlier = earlier_value(steps, history)
                if isinstance(earlier, Ask):
                    return Plan(answer=earlier.text)
                expression = expression.replace("§", earlier)
            steps.append(PlannedStep(tool="calculator", args={"expression": expression}))
        elif unit.kind == "todo" and unit.target is not None:
            numbers = todo_numbers(unit.target, steps, history)
            if isinstance(numbers, Ask):
                return Plan(answer=numbers.text)
            # the titles of todos named by their words, shown with the plan
            notes: dict[int | str, str] = dict(
                zip(unit.target.numbers, unit.target.notes, strict=False)
            )
            steps.extend(
                PlannedStep(tool=unit.tool, args={"number": n}, note=notes.get(n)) for n in numbers
            )
    return Plan(steps=steps)


def _not_understood(parser: Parser, part: str, alone: bool) -> str:
    """Say which part was not understood (or just what Crane can do, if nothing was)."""
    units = [(piece, parser.single(piece, True)) for piece in SOFT.split(part) if piece.strip()]
    if any(unit is not None and not unit.solid for _, unit in units):
        return UNSUPPORTED
    units = [(piece, unit) for piece, unit in units if unit is None or unit.kind != "filler"]
    unknown = [piece for piece, unit in units if unit is None]
    if alone and len(unknown) == len(units):
        return HELP_TEXT
    part = unknown[0] if unknown and len(units) > 1 else part
    quoted = part if len(part) <= 80 else part[:77] + "…"
    return f"Sorry, I didn't understand \"{quoted}\", so I haven't done anything.\n\n{HELP_TEXT}"


def plan(text: str, history: History | None = None) -> Plan:
    """Plan the steps for one request; zero steps with an answer when nothing safe applies."""
    if calls.has_call(text):  # `call NAME.tool …` parts: core.planners.calls, the rest here
        return calls.plan(text, history, plan)
    normalized = normalize(text)
    if not normalized or GREETING.fullmatch(normalized):
        return Plan(answer=HELP_TEXT)
    parser = Parser(history, gerunds="ing " in normalized and asks_gerunds(normalized))
    parts = [(listed, part) for listed, part in segments(normalized) if part.strip()]
    units: list[Unit] = []
    index = 0
    while index < len(parts):
        part = parts[index][1]
        many = titles.ADD_MANY.fullmatch(parser.clean(part))
        if many:
            items = [many["rest"]]
            while index + 1 < len(parts) and parts[index + 1][0]:
                index += 1
                items.append(parts[index][1])
            items = [item for item in items if clean_title(item)]
            if not items:
                return Plan(answer=ASK_TITLE)
            for item in items:
                found = parser.chain(item, bare_ok=False, title_first=True)
                units.extend(found or ())
        else:
            found = parser.chain(part, bare_ok=True)
            if found is None:
                return Plan(answer=_not_understood(parser, part, alone=len(parts) == 1))
            units.extend(found)
        index += 1
    if all(unit.kind == "filler" for unit in units):
        return Plan(answer=HELP_TEXT)
    if _FACTORIAL.search(text) and any(_lone_number(unit) for unit in units):
        return Plan(answer=NO_FACTORIALS)  # "what is 5!" asks for 120, not 5
    return _resolve(units, history)
