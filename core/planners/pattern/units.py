"""Units: what one piece of a message asks for — a step, a calculation, an action on a todo
to be resolved, a question, or something refused — and the parser that finds them.

Soft splits happen only where every side is a request understood here; a todo title never
ends before a delete ("add a todo to X and delete todo 1" is one title).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from core.plan import History
from core.planners.pattern import phrases, titles
from core.planners.pattern.answers import ASK_TITLE, UNSUPPORTED, Ask
from core.planners.pattern.arithmetic import Expr
from core.planners.pattern.calculation import calculation
from core.planners.pattern.splitting import MAX_SOFT_SPLITS, SOFT, clean
from core.planners.pattern.targets import Target, parse_target, title_target
from core.planners.pattern.titles import balanced, clean_title


@dataclass(frozen=True, eq=False)
class Unit:
    kind: str  # "step" | "calc" | "todo" | "ask" | "unsupported"
    tool: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    expr: Expr | None = None
    target: Target | None = None
    text: str = ""
    title: bool = False  # free text that a soft split may end

    @property
    def solid(self) -> bool:
        return self.kind != "unsupported"

    @property
    def destructive(self) -> bool:
        return self.tool == "delete_todo"


def _no_words(title: str) -> bool:
    """Only punctuation, spaces or control characters: nothing a person would call a title."""
    return all(unicodedata.category(char)[0] in "PZC" for char in title)


def _add_todo(title: str) -> Unit:
    if not title or titles.TIME_ONLY.fullmatch(title) or _no_words(title):
        return Unit("ask", text=ASK_TITLE)  # "set a reminder for 5pm": no words to keep
    return Unit("step", tool="add_todo", args={"title": title}, title=True)


class Parser:
    """Parses one message; memoises chains so every suffix is parsed once."""

    def __init__(self, history: History | None) -> None:
        self.history = history
        self.memo: dict[tuple[str, bool, bool], tuple[Unit, ...] | None] = {}

    def chain(self, text: str, bare_ok: bool, title_first: bool = False) -> tuple[Unit, ...] | None:
        """Units for a part of a message: soft splits only where every side is understood."""
        key = (text, bare_ok, title_first)
        if key not in self.memo:
            self.memo[key] = self._chain(text, bare_ok, title_first)
        return self.memo[key]

    def _chain(self, text: str, bare_ok: bool, title_first: bool) -> tuple[Unit, ...] | None:
        first: Callable[[str], Unit | None] = (
            (lambda piece: _add_todo(clean_title(piece)) if clean_title(piece) else None)
            if title_first
            else (lambda piece: self.single(piece, bare_ok))
        )
        whole = first(text)
        if whole is not None and not whole.title:
            return (whole,)  # "complete todo 2 and 3", "the sum of 3 and 4": one request
        for match in islice(SOFT.finditer(text), MAX_SOFT_SPLITS):
            unit = first(text[: match.start()])
            if unit is None or not unit.solid:
                continue
            if unit.title and not balanced(unit.args["title"]):
                continue  # the separator is inside a quoted title
            rest = self.chain(text[match.end() :], bare_ok=unit.kind == "calc")
            if rest is None or not all(r.solid for r in rest):
                continue
            if unit.title and any(r.destructive for r in rest):
                continue  # "add a todo to X and delete todo 1": a title, not an order
            return (unit, *rest)
        return None if whole is None else (whole,)

    def single(self, piece: str, bare_ok: bool) -> Unit | None:
        """What one piece asks for, or None when it is not a request understood here."""
        text = clean(piece)
        if not text:
            return None
        if phrases.BULK.fullmatch(text):
            return Unit("unsupported", text=UNSUPPORTED)
        match = phrases.LIST.fullmatch(text)
        if match and not (bare_ok or match["verb"] or match["my"]):
            match = None  # "… and open tasks" ends a title only when it reads as a request
        if match or phrases.LIST_OTHER.fullmatch(text) or phrases.LIST_ALL.fullmatch(text):
            include_done = bool(phrases.LIST_ALL.fullmatch(text))
            if match:
                state = (match["state"] or "").strip().lower()
                include_done = bool(
                    match["incl"] or state in phrases.DONE_STATES or (match["all"] and not state)
                )
            return Unit("step", tool="list_todos", args={"include_done": include_done})
        return self._todo_action(text, bare_ok) or self._add(text) or self._calc(text, bare_ok)

    def _todo_action(self, text: str, bare_ok: bool) -> Unit | None:
        for regex in phrases.COMPLETE:
            match = regex.fullmatch(text)
            if match and (unit := self._target_unit("complete_todo", match["t"])):
                return unit
        match = phrases.DONE_IS.fullmatch(text)
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target and target.numbers:
                return Unit("todo", tool="complete_todo", target=target)
        match = phrases.DELETE.fullmatch(text)
        if match:
            # "remove 5" may be arithmetic; only "delete 5" is clear enough without "todo".
            bare_number = match["verb"].lower() == "delete"
            if unit := self._target_unit("delete_todo", match["t"], bare_number):
                return unit
        match = phrases.GET.fullmatch(text) or (
            phrases.TODO_ALONE.fullmatch(text) if bare_ok else None
        )
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target:
                return Unit("todo", tool="get_todo", target=target)
        return None

    def _target_unit(self, tool: str, phrase: str, bare_number: bool = True) -> Unit | None:
        target: Target | Ask | None = parse_target(phrase, bare_number=bare_number)
        if target is None:
            target = title_target(phrase, self.history)
        if isinstance(target, Ask):
            return Unit("ask", text=target.text)
        return None if target is None else Unit("todo", tool=tool, target=target)

    @staticmethod
    def _add(text: str) -> Unit | None:
        if titles.ADD_EMPTY.fullmatch(text):  # "add a todo to": not a todo titled "to"
            return Unit("ask", text=ASK_TITLE)
        for regex in titles.ADD:
            match = regex.fullmatch(text)
            if match:
                # Each pattern sets one group: the title, whatever its name.
                return _add_todo(clean_title(next(v for v in match.groupdict().values() if v)))
        return None

    @staticmethod
    def _calc(text: str, bare_ok: bool) -> Unit | None:
        found = calculation(text)
        if found is None or (found.bare and not bare_ok):
            return None
        return Unit("calc", tool="calculator", expr=found)
