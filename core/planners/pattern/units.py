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
from core.planners.pattern import lists, naming, phrases, rules, titles
from core.planners.pattern.answers import ASK_TITLE, UNSUPPORTED, Ask
from core.planners.pattern.arithmetic import Expr
from core.planners.pattern.calculation import calculation
from core.planners.pattern.splitting import MAX_SOFT_SPLITS, soft_splits
from core.planners.pattern.talk import base_form, clean, filler
from core.planners.pattern.targets import Target, parse_target, title_target
from core.planners.pattern.titles import balanced, clean_title

PRONOUNS = frozenset({"it", "that", "this", "them", "those", "these", "one"})


@dataclass(frozen=True, eq=False)
class Unit:
    # "step" | "calc" | "todo" | "ask" | "unsupported" | "filler" (only talk) | "adds" (several
    # todos at once) | "same" (an add of "that": what the message just said)
    kind: str
    tool: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    expr: Expr | None = None
    target: Target | None = None
    text: str = ""
    title: bool = False  # free text (a todo title, a tool rule's words) that a soft split may end
    weak: bool = False  # "no todo matches …": a soft split may still find the real requests
    private: bool = False  # an "ask" quoting the user's own todo titles

    @property
    def solid(self) -> bool:
        return self.kind != "unsupported"

    @property
    def binds_title(self) -> bool:
        """A todo title never ends right before this: a delete, a todo named by its words."""
        named = self.target is not None and self.target.named
        return self.tool == "delete_todo" or named or self.weak


def _no_words(title: str) -> bool:
    """Only punctuation, spaces or control characters: nothing a person would call a title."""
    return all(unicodedata.category(char)[0] in "PZC" for char in title)


def _words(args: dict[str, Any]) -> list[str]:
    """The free text among a step's arguments (a title, a tool rule's words)."""
    return [value for value in args.values() if isinstance(value, str)]


def _add_todo(title: str) -> Unit:
    if not title or titles.TIME_ONLY.fullmatch(title) or _no_words(title):
        return Unit("ask", text=ASK_TITLE)  # "set a reminder for 5pm": no words to keep
    return Unit("step", tool="add_todo", args={"title": title}, title=True)


class Parser:
    """Parses one message; memoises chains so every suffix is parsed once."""

    def __init__(self, history: History | None, gerunds: bool = False) -> None:
        self.history = history
        self.gerunds = gerunds  # "how about adding … and listing …": every piece may be one
        self.cleaned: dict[str, str] = {}
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
        if whole is not None and not (whole.title or whole.weak):
            return (whole,)  # "complete todo 2 and 3", "the sum of 3 and 4": one request
        for match in islice(soft_splits(text).finditer(text), MAX_SOFT_SPLITS):
            unit = first(text[: match.start()])
            if unit is None or not unit.solid:
                continue
            if match.group() == " " and unit.kind != "calc":
                continue  # no joining word: only a calculation goes on ("… split between 3")
            if unit.title and not all(balanced(v) for v in _words(unit.args)):
                continue  # the separator is inside a quoted title
            rest = self.chain(text[match.end() :], bare_ok=unit.kind == "calc")
            if rest is None or not all(r.solid for r in rest):
                continue
            if unit.title and any(r.binds_title for r in rest):
                continue  # "add a todo to X and delete todo 1": a title, not an order
            return (unit, *rest)
        return None if whole is None else (whole,)

    def clean(self, piece: str) -> str:
        """The piece without talk around it; each piece is cleaned once per message."""
        if piece not in self.cleaned:
            text = clean(piece)
            self.cleaned[piece] = base_form(text) if self.gerunds else text
        return self.cleaned[piece]

    def single(self, piece: str, bare_ok: bool) -> Unit | None:
        """What one piece asks for, or None when it is not a request understood here."""
        text = self.clean(piece)
        if not text:  # only talk ("thanks!", "hi crane"): nothing to do, nothing to stop a plan
            return Unit("filler") if filler(piece) else None
        ruled = rules.tool_rule(text)  # a tool's own rules (core.tool.Tool.patterns) come first
        if ruled is not None:
            tool, args = ruled
            return Unit("step", tool=tool, args=args, title=bool(_words(args)))
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
        todo = self._todo_action(text, bare_ok)
        if todo is not None and not todo.weak:
            return todo
        return self._add(text) or self._calc(text, bare_ok) or todo

    def _todo_action(self, text: str, bare_ok: bool) -> Unit | None:
        for regex in phrases.COMPLETE:
            match = regex.fullmatch(text)
            if match and (unit := self._target_unit("complete_todo", match["t"], match["verb"])):
                return unit
        match = phrases.DONE_IS.fullmatch(text)
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target and (target.numbers or target.position):  # "the second one is done"
                return Unit("todo", tool="complete_todo", target=target)
            # "the report is done" reads as done only for a whole title or a said "todo";
            # "the milk is finished" is about milk.
            exact = not naming.has_noun(match["t"])
            if unit := self._named("complete_todo", match["t"], exact_only=exact):
                return unit
        match = phrases.DELETE.fullmatch(text)
        if match:
            # "remove 5" may be arithmetic; only "delete 5" is clear enough without "todo".
            bare_number = match["verb"].lower() == "delete"
            if unit := self._target_unit("delete_todo", match["t"], match["verb"], bare_number):
                return unit
        match = phrases.GET.fullmatch(text)
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target:
                return Unit("todo", tool="get_todo", target=target)
            unit = self._named("get_todo", match["t"], verb=match["verb"])
            # A question that names no todo ("what's the weather") is not about todos at all.
            if unit and not (unit.weak and not naming.has_noun(match["t"])):
                return unit
        match = phrases.TODO_ALONE.fullmatch(text) if bare_ok else None
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target:
                return Unit("todo", tool="get_todo", target=target)
        return None

    def _target_unit(
        self, tool: str, phrase: str, verb: str, bare_number: bool = True
    ) -> Unit | None:
        target: Target | Ask | None = parse_target(phrase, bare_number=bare_number)
        if target is None:
            return self._named(tool, phrase, verb=verb)
        if isinstance(target, Ask):
            return Unit("ask", text=target.text)
        return Unit("todo", tool=tool, target=target)

    def _named(
        self, tool: str, phrase: str, verb: str = "", exact_only: bool = False
    ) -> Unit | None:
        """A todo named by its words: among the user's todos, or (when the caller did not look
        them up) among those added earlier in this conversation."""
        history = self.history
        if history is None:
            return None
        if history.todos is None:
            found = title_target(phrase, history) if tool != "get_todo" else None
        elif phrases.NEEDS_NOUN.fullmatch(verb) and not naming.said_todo(phrase):
            return None
        else:
            found = naming.match(phrase, history.todos, tool, exact_only=exact_only)
        if isinstance(found, Ask):
            return Unit("ask", text=found.text, weak=found.weak, private=found.private)
        return None if found is None else Unit("todo", tool=tool, target=found)

    @staticmethod
    def _add(text: str) -> Unit | None:
        if titles.ADD_EMPTY.fullmatch(text):  # "add a todo to": not a todo titled "to"
            return Unit("ask", text=ASK_TITLE)
        for form, regex in enumerate(titles.ADD):
            match = regex.fullmatch(text)
            if match:
                # Each pattern sets one group: the title, whatever its name.
                raw = next(v for v in match.groupdict().values() if v)
                title = clean_title(raw)
                if titles.quoted(raw):
                    return _add_todo(title)  # quoted: one title, whatever is inside
                return Parser._titles(title, onto_list=form == titles.ONTO_LIST)
        return None

    @staticmethod
    def _titles(title: str, onto_list: bool) -> Unit:
        """One todo, several ("… and to call the vet", "add a, b and c to my list"), or a
        question when a singular "a todo" is followed by what reads as several tasks."""
        first = title[: title.find(" ")].lower()
        inner = Parser._add(title) if first in titles.ADD_STARTS else None
        if inner is not None:
            return inner  # "don't forget to add a todo to buy stamps"
        if title.lower() in PRONOUNS:
            return Unit("same")  # "…, can you add that as a todo?": what was just said
        if "," not in title and " and " not in title:
            return _add_todo(title)  # the common case: one title, nothing to split
        items = [clean_title(item) for item in lists.several(title, plural=False)]
        if len(items) > 1 and (onto_list or lists.AND_TO.search(title)):
            return Unit("adds", args={"titles": items})
        if len(items) > 1 and lists.looks_like_tasks(items):
            # weak: a soft split may still read it ("add a todo to X, then list my todos")
            return Unit("ask", text=lists.ASK_SEVERAL.format(n=len(items)), weak=True)
        return _add_todo(title)

    @staticmethod
    def _calc(text: str, bare_ok: bool) -> Unit | None:
        found = calculation(text)
        if found is None or (found.bare and not bare_ok):
            return None
        return Unit("calc", tool="calculator", expr=found)
