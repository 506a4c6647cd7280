"""The offline planner: plain words in, an explicit Plan of tool steps out, by patterns alone.

Safety first — a wrong action is worse than none:
- a message splits hard on ";", new lines and ", then"; inside a part, softly on " and ",
  " then ", ", " and sentence ends, but only where every side is a request understood here;
- a todo title never ends before a delete ("add a todo to X and delete todo 1" is one title);
- anything not understood, ambiguous or unsupported gives zero steps and an answer instead.
Arithmetic in words ("15% of 80", "divide it by 2") becomes a calculator expression string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from core.plan import History, Plan, PlannedStep
from core.planners.arithmetic import Expr, calculation, check
from core.planners.references import (
    Ask,
    Target,
    earlier_value,
    parse_target,
    title_target,
    todo_numbers,
)

HELP_TEXT = (
    "I can do calculations and keep your todo list. Try:\n"
    '• calculate 2+3 (or "what is 15% of 80")\n'
    "• add a todo to buy milk\n"
    "• list my todos\n"
    "• complete todo 2\n"
    "• delete todo 1\n"
    '• follow-ups like "add 10 to that" or "mark it done"'
)
UNSUPPORTED = (
    "Acting on all todos at once isn't supported, so I haven't changed anything. "
    'Do them one at a time, e.g. "delete todo 1" or "complete todo 2".'
)
ASK_TITLE = 'What should the todo say? For example: "add a todo to buy milk".'
NO_FACTORIALS = (
    "The calculator can't do factorials (like 5!). It knows + - * / // % ** ^, parentheses, "
    "sqrt, abs, round, min, max, floor, ceil, pi and e."
)

_F = re.IGNORECASE
_MAX_SOFT_SPLITS = 12  # more " and "s than this in one part: keep the part whole

# --- normalising and splitting ---------------------------------------------------------------

_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r"\s*\n\s*")
_MENTION = re.compile(r"^(?:<@\w+(?:\|[^>]*)?>[\s,:]*)+")
_END = re.compile(r"[\s?.!]+$")
_HARD = re.compile(r" ?[;\n][ ;\n]*| ?[,.] ?(?:and )?(?:then|after that)\b[ ,:]*", _F)
_QUOTED_SPAN = re.compile(r'"[^"\n]*"|“[^”\n]*”')
_SOFT = re.compile(r",? (?:and then|and also|and|then|also|&) |, |[.?!] ", _F)
_LEAD = re.compile(
    r"^(?:(?:please|pls|plz|kindly|ok(?:ay)?|so|now|and|also|then|next|finally|just|hey|hi|hello"
    r"|thanks|thank you|great|cool|perfect|nice"
    r"|yo|@?crane|(?:can|could|would|will) (?:you|u)(?: please)?|i(?: would|'d)? like (?:you )?to"
    r"|i (?:want|need) you to|i want to|let'?s|go ahead and|help me|after that|what about"
    r"|how about)\b[\s,:!]*)+",
    _F,
)
_TRAIL = re.compile(
    # "please" ends a request only after a comma: "remind me to say please" keeps its title
    r"(?:\s*,\s*(?:please|pls|plz|thanks|thank you|thx|ty|cheers))?[\s.!?,;:]*$",
    _F,
)
_FACTORIAL = re.compile(r"\d!")
_GREETING = re.compile(
    r"(?:hi|hello|hey|yo|hiya|howdy|good (?:morning|afternoon|evening)|thanks|thank you|thx|ty"
    r"|cheers|help|what can you do|who are you)(?: there)?(?:,? crane)?",
    _F,
)


def _normalize(text: str) -> str:
    text = _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()
    return _END.sub("", _MENTION.sub("", text))


def _clean(piece: str) -> str:
    return _TRAIL.sub("", _LEAD.sub("", piece.strip()))


# --- todos -------------------------------------------------------------------------------------

_TODOS = r"(?:(?:to-?do|to do|task) (?:list|items)|to-?dos|to dos|todo|tasks|list|reminders)"
_LIST = re.compile(
    r"(?:(?P<verb>list|show|display|view|see|get|give|print|read|tell|fetch|pull up|bring up"
    r"|check|what (?:are|is|was|were)|what's|whats|what're)(?: (?:me|out|up|back))? "
    r"(?:(?:what(?:'s| is) )?(?:on|in) )?)?"
    r"(?P<all>(?:all|every(?:thing)?) (?:of )?(?:(?:on|in) )?)?(?P<my>(?:my|the|our|your) )?"
    r"(?P<state>(?:open|pending|current|remaining|outstanding|active|unfinished|incomplete"
    r"|completed|done|finished|closed|checked[- ]off) )?"
    + _TODOS
    + r"(?P<incl> (?:including|incl\.?|with|and|plus|even|also) (?:the )?"
    r"(?:done|completed|finished|closed|checked[- ]off)(?: ones?)?(?: (?:ones|too|as well))?)?"
    r"(?: (?:please|again|now|too|so far|for today|today|for now|right now))?",
    _F,
)
_LIST_ALL = re.compile(
    r"(?:list|show|display)(?: me)? (?:all|everything)(?: (?:including|with) (?:done|completed)"
    r"(?: ones)?)?",
    _F,
)
_LIST_OTHER = re.compile(
    r"(?:what (?:do|should|must) i (?:have|need|got)|what(?:'ve| have) i got) to do"
    r"(?: today| now| next)?"
    r"|what(?:'s| is) left(?: to do)?(?: on my list)?"
    r"|(?:do i have )?any(?:thing)? (?:left )?(?:to do|to-?dos|tasks)(?: left)?"
    r"|how many (?:to-?dos|tasks|things) (?:do i have|are (?:there|left|open|on my list))(?: left)?"
    r"|remind me (?:of|about|what(?:'s| is| are)?(?: on)?) (?:my|the) " + _TODOS + r"(?: are| is)?"
    r"|(?:what|which) (?:to-?dos|tasks) do i have"
    r"|remind me what (?:i (?:need|have) to do|(?:is|'s) (?:left|on my list)"
    r"|my (?:to-?dos|tasks) are)",
    _F,
)
_DONE_STATES = frozenset({"completed", "done", "finished", "closed", "checked off", "checked-off"})
_BULK = re.compile(
    r"(?:delete|remove|erase|clear|wipe|purge|drop|trash|empty|reset|get rid of|complete|finish"
    r"|mark|check off|tick off|cross off|close) (?:out )?(?:all|every|everything|each|both"
    r"|the whole|my whole|my entire|the entire)\b.*"
    r"|(?:clear|wipe|empty|reset|purge)(?: out)? (?:(?:my|the|all) )?"
    r"(?:to-?dos|tasks|(?:(?:to-?do|task) )?list|everything)(?: out)?"
    r"|(?:delete|remove|erase|complete|finish) (?:my|the) (?:to-?dos|tasks)",
    _F,
)
_COMPLETE = (
    re.compile(
        r"(?:complete|finish|finished|close|resolve|done(?: with)?|i(?: have|'ve| just)? "
        r"(?:finished|completed)|i(?:'m| am) done with|(?:check|tick|cross|strike|mark) off"
        r"|cross out|mark (?:as )?(?:done|complete|completed|finished):?) (?P<t>.+)",
        _F,
    ),
    re.compile(
        r"(?:mark|set|flag|check|tick|cross) (?P<t>.+?) (?:as |to )?(?:done|complete|completed"
        r"|finished|checked(?: off)?|resolved|closed|off)",
        _F,
    ),
)
_DONE_IS = re.compile(
    r"(?P<t>.+?) (?:(?:is|was|has been) )?(?:now )?(?:done|complete|completed|finished)", _F
)
_DELETE = re.compile(
    r"(?P<verb>delete|remove|erase|trash|discard|get rid of|throw (?:away|out)|del) (?P<t>.+)", _F
)
_GET = re.compile(
    r"(?:show|get|view|display|open|read|see|fetch|look up|pull up|bring up|print|describe"
    r"|what(?:'s| is| was)|whats|tell me about|details (?:of|for|on|about)|info (?:on|about|for))"
    r"(?: me)? (?:(?:the )?details (?:of|for|on) )?(?P<t>.+)",
    _F,
)
_TODO_ALONE = re.compile(r"(?P<t>(?:to-?do|task) ?(?:number |no\.? ?)?#? ?\d{1,9})", _F)

_ADD_VERB = (
    r"(?:add|create|make|put|save|set(?: up)?|log|record|jot(?: down)?|write(?: down)?|insert"
    r"|enter|new)"
)
_ADD_NOUN = r"(?:(?:to-?do|to do) item|to-?do|to do|task|item|reminder|entry|note)"
_LIST_NOUN = r"(?:(?:to-?do|to do|task) list|to-?dos|to dos|tasks|list|reminders|to-?do)"
_ARTICLE = r"(?:(?:a|an|one|another|the|this|my) )?(?:new )?"
_TITLE_SEP = (
    r"(?: ?[:\-–—] ?| (?:to|for|of|that says|which says|saying|called|named|titled|about|reading)"
    r" ?:? ?| )(?P<title>.+)"
)
_ADD = (
    re.compile(
        rf"{_ADD_VERB} (?:me )?{_ARTICLE}{_ADD_NOUN}(?: (?:to|on|in|onto) (?:my|the) {_LIST_NOUN})?"
        + _TITLE_SEP,
        _F | re.S,
    ),
    re.compile(rf"(?:new )?{_ADD_NOUN} ?[:\-–—] ?(?P<title>.+)", _F | re.S),
    re.compile(  # "… and another one to buy eggs", "… and a todo to buy eggs"
        rf"(?:another|one more|(?:a|an) (?:new )?{_ADD_NOUN})(?: (?:one|{_ADD_NOUN}))?"
        r"(?: ?[:\-–—] ?| (?:to|for|saying|called) )(?P<title>.+)",
        _F | re.S,
    ),
    re.compile(rf"new {_ADD_NOUN} (?P<title>.+)", _F | re.S),
    re.compile(
        r"(?:add|put|write|stick|pop|jot down|note down) (?P<title>.+?) (?:to|on|onto|in|into) "
        rf"(?:my|the|our) {_LIST_NOUN}",
        _F | re.S,
    ),
    re.compile(
        r"(?:add|put|save|make|create|set) (?P<title>.+?) as (?:a |an |my )?(?:new )?"
        r"(?:to-?do|task|reminder)",
        _F | re.S,
    ),
    re.compile(
        r"(?:remind me|don'?t (?:let me )?forget|do not (?:let me )?forget|note to self)"
        r"(?: ?[:\-–—] ?| (?:to|about|that i (?:need|have) to|that|of) | )(?P<title>.+)"
        r"|(?:i (?:need|have|want) to )?remember to (?P<also>.+)"
        r"|(?:jot|note|write)(?: down)? ?[:\-–—] ?(?P<noted>.+)",
        _F | re.S,
    ),
)
_ADD_EMPTY = re.compile(  # an add with no title, even when a joining word is there to start one
    rf"(?:{_ADD_VERB} (?:me )?{_ARTICLE}{_ADD_NOUN}|remind me|new {_ADD_NOUN}"
    r"|don'?t (?:let me )?forget|do not (?:let me )?forget|note to self"
    r"|(?:i (?:need|have|want) to )?remember)"
    r"(?: (?:to|for|of|that says|which says|saying|called|named|titled|about|reading|that"
    r"|that i (?:need|have) to))?",
    _F,
)
_ADD_MANY = re.compile(
    rf"(?:{_ADD_VERB} (?:me )?(?:(?:these|the following|some|a few|few|multiple|several|\d+|two"
    r"|three|four|five|six|seven|eight|nine|ten) )?(?:new )?"
    r"(?:to-?dos|to dos|tasks|items|reminders)"
    rf"(?: (?:to|on) (?:my|the) {_LIST_NOUN})?(?: ?[:\-–—] ?| (?:to )?|$)"
    r"|(?:new )?(?:to-?dos|tasks) ?[:\-–—] ?"
    r"|(?:add|put) (?:(?:these|the following|this|them) )?"
    rf"(?:(?:to|on|onto) (?:my|the) {_LIST_NOUN}) ?[:\-–—] ?)(?P<rest>.*)",
    _F | re.S,
)
_TIME_ONLY = re.compile(
    r"(?:(?:for|at|in|on|by) )?(?:\d{1,2}(?::\d\d)? ?(?:am|pm|a\.m|p\.m)?|noon|midnight|tonight"
    r"|today|tomorrow|this (?:morning|afternoon|evening)"
    r"|\d+ ?(?:min(?:ute)?s?|hours?|days?|weeks?))",
    _F,
)
_BULLET = re.compile(r"^(?:[-*•·]|\d{1,3}[.)])\s+")
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "`": "`"}


def _title(raw: str) -> str:
    """The user's words as typed: only outer quotes and trailing full stops go."""
    title = _BULLET.sub("", raw.strip()).strip()
    if len(title) >= 2 and _QUOTES.get(title[0]) == title[-1]:
        title = title[1:-1].strip()
    return title.rstrip(".").strip()


def _balanced(title: str) -> bool:
    return title.count('"') % 2 == 0 and title.count("“") == title.count("”")


# --- arithmetic --------------------------------------------------------------------------------


# --- units: what one piece of a message asks for -------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Unit:
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


def _add_todo(title: str) -> _Unit:
    if not title or _TIME_ONLY.fullmatch(title) or _no_words(title):
        return _Unit("ask", text=ASK_TITLE)  # "set a reminder for 5pm": no words to keep
    return _Unit("step", tool="add_todo", args={"title": title}, title=True)


class _Parser:
    """Parses one message; memoises chains so every suffix is parsed once."""

    def __init__(self, history: History | None) -> None:
        self.history = history
        self.memo: dict[tuple[str, bool, bool], tuple[_Unit, ...] | None] = {}

    def chain(
        self, text: str, bare_ok: bool, title_first: bool = False
    ) -> tuple[_Unit, ...] | None:
        """Units for a part of a message: soft splits only where every side is understood."""
        key = (text, bare_ok, title_first)
        if key not in self.memo:
            self.memo[key] = self._chain(text, bare_ok, title_first)
        return self.memo[key]

    def _chain(self, text: str, bare_ok: bool, title_first: bool) -> tuple[_Unit, ...] | None:
        first: Callable[[str], _Unit | None] = (
            (lambda piece: _add_todo(_title(piece)) if _title(piece) else None)
            if title_first
            else (lambda piece: self.single(piece, bare_ok))
        )
        whole = first(text)
        if whole is not None and not whole.title:
            return (whole,)  # "complete todo 2 and 3", "the sum of 3 and 4": one request
        for match in islice(_SOFT.finditer(text), _MAX_SOFT_SPLITS):
            unit = first(text[: match.start()])
            if unit is None or not unit.solid:
                continue
            if unit.title and not _balanced(unit.args["title"]):
                continue  # the separator is inside a quoted title
            rest = self.chain(text[match.end() :], bare_ok=unit.kind == "calc")
            if rest is None or not all(r.solid for r in rest):
                continue
            if unit.title and any(r.destructive for r in rest):
                continue  # "add a todo to X and delete todo 1": a title, not an order
            return (unit, *rest)
        return None if whole is None else (whole,)

    def single(self, piece: str, bare_ok: bool) -> _Unit | None:
        """What one piece asks for, or None when it is not a request understood here."""
        text = _clean(piece)
        if not text:
            return None
        if _BULK.fullmatch(text):
            return _Unit("unsupported", text=UNSUPPORTED)
        match = _LIST.fullmatch(text)
        if match and not (bare_ok or match["verb"] or match["my"]):
            match = None  # "… and open tasks" ends a title only when it reads as a request
        if match or _LIST_OTHER.fullmatch(text) or _LIST_ALL.fullmatch(text):
            include_done = bool(_LIST_ALL.fullmatch(text))
            if match:
                state = (match["state"] or "").strip().lower()
                include_done = bool(
                    match["incl"] or state in _DONE_STATES or (match["all"] and not state)
                )
            return _Unit("step", tool="list_todos", args={"include_done": include_done})
        return self._todo_action(text, bare_ok) or self._add(text) or self._calc(text, bare_ok)

    def _todo_action(self, text: str, bare_ok: bool) -> _Unit | None:
        for regex in _COMPLETE:
            match = regex.fullmatch(text)
            if match and (unit := self._target_unit("complete_todo", match["t"])):
                return unit
        match = _DONE_IS.fullmatch(text)
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target and target.numbers:
                return _Unit("todo", tool="complete_todo", target=target)
        match = _DELETE.fullmatch(text)
        if match:
            # "remove 5" may be arithmetic; only "delete 5" is clear enough without "todo".
            bare_number = match["verb"].lower() == "delete"
            if unit := self._target_unit("delete_todo", match["t"], bare_number):
                return unit
        match = _GET.fullmatch(text) or (_TODO_ALONE.fullmatch(text) if bare_ok else None)
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target:
                return _Unit("todo", tool="get_todo", target=target)
        return None

    def _target_unit(self, tool: str, phrase: str, bare_number: bool = True) -> _Unit | None:
        target: Target | Ask | None = parse_target(phrase, bare_number=bare_number)
        if target is None:
            target = title_target(phrase, self.history)
        if isinstance(target, Ask):
            return _Unit("ask", text=target.text)
        return None if target is None else _Unit("todo", tool=tool, target=target)

    @staticmethod
    def _add(text: str) -> _Unit | None:
        if _ADD_EMPTY.fullmatch(text):  # "add a todo to": not a todo titled "to"
            return _Unit("ask", text=ASK_TITLE)
        for regex in _ADD:
            match = regex.fullmatch(text)
            if match:
                # Each pattern sets one group: the title, whatever its name.
                return _add_todo(_title(next(v for v in match.groupdict().values() if v)))
        return None

    @staticmethod
    def _calc(text: str, bare_ok: bool) -> _Unit | None:
        found = calculation(text)
        if found is None or (found.bare and not bare_ok):
            return None
        return _Unit("calc", tool="calculator", expr=found)


# --- the plan --------------------------------------------------------------------------------


def _lone_number(unit: _Unit) -> bool:
    return unit.expr is not None and check(unit.expr.text) is False


def _resolve(units: list[_Unit], history: History | None) -> Plan:
    for unit in units:
        if unit.kind in ("unsupported", "ask"):
            return Plan(answer=unit.text)
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
            steps.extend(PlannedStep(tool=unit.tool, args={"number": n}) for n in numbers)
    return Plan(steps=steps)


def _segments(text: str) -> list[tuple[bool, str]]:
    """Hard-split parts, each with whether a list separator (";" or a new line) preceded it."""
    parts: list[tuple[bool, str]] = []
    start, listed = 0, False
    quoted = [m.span() for m in _QUOTED_SPAN.finditer(text)] if '"' in text or "“" in text else []
    for match in _HARD.finditer(text):
        if any(a < match.start() < b for a, b in quoted):
            continue  # add a todo "eat; sleep": one title
        parts.append((listed, text[start : match.start()]))
        listed = not any(c.isalpha() for c in match.group())
        start = match.end()
    parts.append((listed, text[start:]))
    return parts


def _not_understood(parser: _Parser, part: str, alone: bool) -> str:
    """Say which part was not understood (or just what Crane can do, if nothing was)."""
    units = [(piece, parser.single(piece, True)) for piece in _SOFT.split(part) if piece.strip()]
    if any(unit is not None and not unit.solid for _, unit in units):
        return UNSUPPORTED
    unknown = [piece for piece, unit in units if unit is None]
    if alone and len(unknown) == len(units):
        return HELP_TEXT
    part = unknown[0] if unknown and len(units) > 1 else part
    quoted = part if len(part) <= 80 else part[:77] + "…"
    return f"Sorry, I didn't understand \"{quoted}\", so I haven't done anything.\n\n{HELP_TEXT}"


def plan(text: str, history: History | None = None) -> Plan:
    """Plan the steps for one request; zero steps with an answer when nothing safe applies."""
    normalized = _normalize(text)
    if not normalized or _GREETING.fullmatch(normalized):
        return Plan(answer=HELP_TEXT)
    parser = _Parser(history)
    segments = [(listed, part) for listed, part in _segments(normalized) if part.strip()]
    units: list[_Unit] = []
    index = 0
    while index < len(segments):
        part = segments[index][1]
        many = _ADD_MANY.fullmatch(_clean(part))
        if many:
            items = [many["rest"]]
            while index + 1 < len(segments) and segments[index + 1][0]:
                index += 1
                items.append(segments[index][1])
            items = [item for item in items if _title(item)]
            if not items:
                return Plan(answer=ASK_TITLE)
            for item in items:
                found = parser.chain(item, bare_ok=False, title_first=True)
                units.extend(found or ())
        else:
            found = parser.chain(part, bare_ok=True)
            if found is None:
                return Plan(answer=_not_understood(parser, part, alone=len(segments) == 1))
            units.extend(found)
        index += 1
    if not units:
        return Plan(answer=HELP_TEXT)
    if _FACTORIAL.search(text) and any(_lone_number(unit) for unit in units):
        return Plan(answer=NO_FACTORIALS)  # "what is 5!" asks for 120, not 5
    return _resolve(units, history)
