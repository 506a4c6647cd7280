"""The offline planner: plain words in, an explicit Plan of tool steps out, by patterns alone.

Safety first — a wrong action is worse than none: anything not understood, ambiguous or
unsupported gives zero steps and an answer instead. The pieces, in reading order:
texture.py makes Slack typing plain (markup, emoji, curly quotes); people.py declines another
person's list; corrections.py re-plans the last calculation with one number changed;
splitting.py cuts a message, talk.py strips the words around a request, phrases.py/titles.py/
calculation.py read one piece (with lists.py for several todos at once), units.py chains the
pieces; references.py/targets.py resolve "it", "that", "the first one" and titles into
arguments, asking when more than one fits. What is still not understood is read once more
with typos in the planner's own words (lexicon.py) spelled right.
"""

from __future__ import annotations

import re

from core.plan import History, Plan, PlannedStep
from core.planners import calls
from core.planners.pattern import lists, titles
from core.planners.pattern.answers import ASK_TITLE, NO_FACTORIALS, UNSUPPORTED, Ask, help_text
from core.planners.pattern.arithmetic import check
from core.planners.pattern.corrections import ASK_WHICH_NUMBER, corrected
from core.planners.pattern.lexicon import fix_typos
from core.planners.pattern.people import OTHERS_LIST, about_someone_else
from core.planners.pattern.references import earlier_value, todo_numbers
from core.planners.pattern.splitting import GREETING, SOFT, normalize, segments
from core.planners.pattern.talk import asks_gerunds
from core.planners.pattern.texture import CURLY, plain
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
        if unit.kind == "adds":
            several = unit.args["titles"]
            steps.extend(PlannedStep(tool="add_todo", args={"title": t}) for t in several)
        elif unit.kind == "same" and not (steps and steps[-1].tool == "add_todo"):
            return Plan(answer=ASK_TITLE)
        elif unit.kind == "step":
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


def _add_many(parser: Parser, items: list[str], count: int | None) -> list[Unit] | Ask:
    """The units of "add todos: …": one todo per item, and any request chained after them."""
    if len(items) == 1 and not titles.quoted(items[0]):
        items = lists.list_items(items[0], lambda text: _request_follows(parser, text))
    items = [item for item in items if clean_title(item)]
    if not items:
        return Ask(ASK_TITLE)
    units: list[Unit] = []
    for item in items:
        units.extend(parser.chain(item, bare_ok=False, title_first=True) or ())
    added = sum(unit.tool == "add_todo" for unit in units)
    if count is not None and added != count:
        return Ask(lists.ASK_COUNT.format(said=count, found=added))
    return units


def _request_follows(parser: Parser, text: str) -> bool:
    found = parser.chain(text, bare_ok=False, title_first=True)
    return found is not None and len(found) > 1


def _not_understood(parser: Parser, part: str, alone: bool) -> str:
    """Say which part was not understood (or just what Crane can do, if nothing was)."""
    units = [(piece, parser.single(piece, True)) for piece in SOFT.split(part) if piece.strip()]
    if any(unit is not None and not unit.solid for _, unit in units):
        return UNSUPPORTED
    units = [(piece, unit) for piece, unit in units if unit is None or unit.kind != "filler"]
    unknown = [piece for piece, unit in units if unit is None]
    if alone and len(unknown) == len(units):
        return help_text()
    part = unknown[0] if unknown and len(units) > 1 else part
    quoted = part if len(part) <= 80 else part[:77] + "…"
    return f"Sorry, I didn't understand \"{quoted}\", so I haven't done anything.\n\n{help_text()}"


def plan(text: str, history: History | None = None) -> Plan:
    """Plan the steps for one request; zero steps with an answer when nothing safe applies."""
    if calls.has_call(text):  # `call NAME.tool …` parts: core.planners.calls, the rest here
        return calls.plan(text, history, plan)
    normalized = normalize(plain(text))
    found = _plan(normalized, text, history)
    if found.steps and not text.isascii() and any(chr(c) in text for c in CURLY):
        return _own_quotes(found, normalized, normalize(plain(text, fold_quotes=False)))
    if found.steps or not _not_read(found.answer) or GREETING.fullmatch(normalized):
        return found  # a typo is looked for only in what was not understood
    spelled = fix_typos(normalized)  # only what was not understood is read again, spelled right
    if spelled is None:
        return found
    again = _plan(spelled, text, history)
    lowered = normalized.lower()
    titles_typed = all(
        step.args["title"].lower() in lowered for step in again.steps if step.tool == "add_todo"
    )
    return again if again.steps and titles_typed else found


def _own_quotes(found: Plan, folded: str, typed: str) -> Plan:
    """Titles, and any words a tool's rule took, with the user's own apostrophes back ("call
    Ana’s dentist"): the rules read the folded text, which matches the typed one position for
    position (words not found as typed, like a calculation, are left as planned)."""
    for step in found.steps:
        for name, words in step.args.items():
            at = folded.find(words) if isinstance(words, str) else -1
            if isinstance(words, str) and at >= 0:
                step.args[name] = typed[at : at + len(words)]
    return found


def _not_read(answer: str | None) -> bool:
    return answer is not None and (answer.endswith(help_text()) or answer.startswith("No todo"))


def _plan(normalized: str, text: str, history: History | None) -> Plan:
    if not normalized or GREETING.fullmatch(normalized):
        return Plan(answer=help_text())
    if about_someone_else(normalized):
        return Plan(answer=OTHERS_LIST)
    if history and history.requests and (again := corrected(normalized, history)) is not None:
        # a previous request that was itself a correction ("what about 20%") would be
        # corrected again and again: ask for the whole calculation instead
        if again and corrected(normalize(plain(again)), history) is None:
            return plan(again, history)
        return Plan(answer=ASK_WHICH_NUMBER)
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
            found_many = _add_many(parser, items, lists.count_of(many["count"]))
            if isinstance(found_many, Ask):
                return Plan(answer=found_many.text)
            units.extend(found_many)
        else:
            found = parser.chain(part, bare_ok=True)
            if found is None:
                return Plan(answer=_not_understood(parser, part, alone=len(parts) == 1))
            units.extend(found)
        index += 1
    if all(unit.kind == "filler" for unit in units):
        return Plan(answer=help_text())
    if _FACTORIAL.search(text) and any(_lone_number(unit) for unit in units):
        return Plan(answer=NO_FACTORIALS)  # "what is 5!" asks for 120, not 5
    return _resolve(units, history)
