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
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from core.plan import History, Plan, PlannedStep
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
    r"|i (?:want|need) you to|i want to|let'?s|go ahead and|help me|after that)\b[\s,:!]*)+",
    _F,
)
_TRAIL = re.compile(
    r"(?:[\s,]+(?:please|pls|plz)|\s*,\s*(?:thanks|thank you|thx|ty|cheers))?[\s.!?,;:]*$", _F
)
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
    r"(?:(?:list|show|display|view|see|get|give|print|read|tell|fetch|pull up|bring up|check"
    r"|what (?:are|is|was|were)|what's|whats|what're)(?: (?:me|out|up|back))? "
    r"(?:(?:what(?:'s| is) )?(?:on|in) )?)?"
    r"(?P<all>(?:all|every(?:thing)?) (?:of )?(?:(?:on|in) )?)?(?:(?:my|the|our|your) )?"
    r"(?P<state>(?:open|pending|current|remaining|outstanding|active|unfinished|incomplete"
    r"|completed|done|finished|closed|checked[- ]off) )?"
    + _TODOS
    + r"(?P<incl> (?:including|incl\.?|with|and|plus|even|also) (?:the )?"
    r"(?:done|completed|finished|closed|checked[- ]off)(?: ones?)?(?: (?:ones|too|as well))?)?"
    r"(?: (?:please|again|now|too|so far))?",
    _F,
)
_LIST_ALL = re.compile(
    r"(?:list|show|display)(?: me)? (?:all|everything)(?: (?:including|with) (?:done|completed)"
    r"(?: ones)?)?",
    _F,
)
_LIST_OTHER = re.compile(
    r"what (?:do|should|must) i (?:have|need|got) to do(?: today| now| next)?"
    r"|what(?:'s| is) left(?: to do)?(?: on my list)?"
    r"|(?:do i have )?any(?:thing)? (?:left )?(?:to do|to-?dos|tasks)(?: left)?"
    r"|how many (?:to-?dos|tasks|things) (?:do i have|are (?:there|left|open|on my list))(?: left)?"
    r"|remind me (?:of|about|what(?:'s| is| are)?(?: on)?) (?:my|the) " + _TODOS + r"(?: are| is)?"
    r"|(?:what|which) (?:to-?dos|tasks) do i have",
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
    r"(?P<t>.+?) (?:is|was|has been) (?:now )?(?:done|complete|completed|finished)", _F
)
_DELETE = re.compile(
    r"(?:delete|remove|erase|trash|discard|get rid of|throw (?:away|out)|del|rm) (?P<t>.+)", _F
)
_GET = re.compile(
    r"(?:show|get|view|display|open|read|see|fetch|look up|pull up|bring up|print|describe"
    r"|what(?:'s| is| was)|whats|tell me about|details (?:of|for|on|about)|info (?:on|about|for))"
    r"(?: me)? (?:(?:the )?details (?:of|for|on) )?(?P<t>.+)",
    _F,
)
_TODO_ALONE = re.compile(r"(?P<t>(?:to-?do|task) ?(?:number |no\.? ?)?#? ?\d{1,9})", _F)

_ADD_VERB = r"(?:add|create|make|put|save|set(?: up)?|log|record|jot(?: down)?|write(?: down)?|insert|enter|new)"
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
        r"(?:remind me|remember|don'?t (?:let me )?forget|do not (?:let me )?forget|note to self)"
        r"(?: ?[:\-–—] ?| (?:to|about|that i (?:need|have) to|that|of) | )(?P<title>.+)",
        _F | re.S,
    ),
)
_ADD_EMPTY = re.compile(
    rf"(?:{_ADD_VERB} (?:me )?{_ARTICLE}{_ADD_NOUN}|remind me|new {_ADD_NOUN})", _F
)
_ADD_MANY = re.compile(
    rf"(?:{_ADD_VERB} (?:me )?(?:(?:these|the following|some|a few|few|multiple|several|\d+|two"
    r"|three|four|five|six|seven|eight|nine|ten) )?(?:new )?(?:to-?dos|to dos|tasks|items|reminders)"
    rf"(?: (?:to|on) (?:my|the) {_LIST_NOUN})?(?: ?[:\-–—] ?| |$)"
    r"|(?:new )?(?:to-?dos|tasks) ?[:\-–—] ?"
    rf"|(?:add|put) (?:(?:these|the following|this|them) )?(?:(?:to|on|onto) (?:my|the) {_LIST_NOUN})"
    r" ?[:\-–—] ?)(?P<rest>.*)",
    _F | re.S,
)
_TIME_ONLY = re.compile(
    r"(?:(?:for|at|in|on|by) )?(?:\d{1,2}(?::\d\d)? ?(?:am|pm|a\.m|p\.m)?|noon|midnight|tonight"
    r"|today|tomorrow|this (?:morning|afternoon|evening)|\d+ ?(?:min(?:ute)?s?|hours?|days?|weeks?))",
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


@dataclass(frozen=True)
class Expr:
    """A calculator expression in which "§" stands for an earlier result ("that")."""

    text: str
    bare: bool = False  # typed without a verb ("2+3"): never split off after a todo title

    @property
    def uses_earlier(self) -> bool:
        return "§" in self.text


_OPND = r"(?:-\s*)?(?:\d+(?:\.\d+)?|\.\d+|§|\bpi\b|\be\b|[a-z]+\([^()]*\)|\([^()]*\))"
_SEP = r"(?:\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)"
_UNICODE = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-", "√": " sqrt ", "²": "**2"})
_CURRENCY = re.compile(r"[$€£]")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")
_TRIM = re.compile(
    r"^(?:the\s+)?(?:(?:answer|result|value|solution)\s+(?:to|of|for)\s+)?"
    r"|\s*(?:=|equals?(?:\s+to)?|is\s+equal\s+to|for\s+me|please|exactly)?\s*\??$"
)
_REF = re.compile(
    r"\b(?:(?:the|my|our)\s+)?(?:(?:previous|last|prior|earlier|current|latest)\s+)?"
    r"(?:result|answer|output|outcome)\b(?!\s+of\b)"
    r"|\b(?:the|that|this)\s+(?:total|number|value|sum|one)\b(?!\s+of\b)|\b(?:it|that|this|ans)\b"
)
_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_WORD_VALUES = {w: i for i, w in enumerate(_SMALL)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_WORD = "|".join(sorted([*_WORD_VALUES, *_SCALES], key=len, reverse=True))
_NUMBER_WORDS = re.compile(rf"\b(?:{_WORD})(?:[\s-]+(?:{_WORD}))*\b")
_POINT = re.compile(r"(\d+)\s+point\s+(\d+)")
_LIST_FN = re.compile(
    r"\b(?:the\s+)?(?P<fn>sum|total|product|average|mean|maximum|max|minimum|min|larger|largest"
    r"|bigger|biggest|greater|greatest|higher|highest|smaller|smallest|lesser|least|lower|lowest"
    rf"|difference|quotient)\s+(?:of|between)\s+(?P<items>{_OPND}(?:{_SEP}{_OPND})+)"
)
_ITEM = re.compile(_OPND)
_MAXES = frozenset(
    "maximum max larger largest bigger biggest greater greatest higher highest".split()
)
_REWRITES = [  # (words that must appear, pattern, replacement): cheap checks skip most of them
    (("of",), rf"({_OPND})\s*(?:%|percent\b|per\s*cent\b)\s*of\s+({_OPND})", r"(\1/100)*\2"),
    (("of",), r"\b(?:the\s+)?(?:square\s+root|sqrt)\s+of\b", " sqrt "),
    (("abs",), r"\b(?:the\s+)?absolute\s+value\s+of\b|\babs\s+of\b", " abs "),
    (("floor",), r"\b(?:the\s+)?floor\s+of\b", " floor "),
    (("ceil",), r"\b(?:the\s+)?ceil(?:ing)?\s+of\b", " ceil "),
    (("round",), r"\bround(?:ed)?\s+(?:off\s+)?(?:of\s+)?(?=[\d.(§-])", " round "),
    (("half",), rf"\bhalf\s+of\s+({_OPND})", r"(\1 / 2)"),
    (("times", "multiplied", "x"), r"\b(?:multiplied\s+by|times)\b|(?<=[\d)§])\s*x\s*(?=[\d(§.])", " * "),
    (("divided", "over"), r"\b(?:divided\s+by|over)\b", " / "),
    (("plus", "added"), r"\b(?:plus|added\s+to)\b", " + "),
    (("more",), rf"({_OPND})\s+more\s+than\s+({_OPND})", r"(\2 + \1)"),
    (("less",), rf"({_OPND})\s+less\s+than\s+({_OPND})", r"(\2 - \1)"),
    (("minus",), r"\bminus\b", " - "),
    (("mod",), r"\bmod(?:ulo)?\b", " % "),
    (("to",), r"\b(?:raised\s+)?to\s+the\s+(\d+)(?:st|nd|rd|th)(?:\s+power)?\b", r" ** \1"),
    (("to",), r"\b(?:raised\s+)?to\s+the\s+power(?:\s+of)?\b|\braised\s+to\b", " ** "),
    (("squared",), r"\bsquared\b", " ** 2"),
    (("cubed",), r"\bcubed\b", " ** 3"),
    (("negative",), r"\bnegative\s+", " -"),
    (("sqrt", "abs", "round", "floor", "ceil"), rf"\b(sqrt|abs|round|floor|ceil)\s+({_OPND})", r"\1(\2)"),
]
_COMPILED_REWRITES = [(words, re.compile(p), r) for words, p, r in _REWRITES]
_IMPLICIT_TIMES = re.compile(r"(?<=[\d)])\s*(?=\()")
_LETTER = re.compile(r"[a-z]")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*|\.\d+)|(?P<op>\*\*|//|[-+*/%^])|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<comma>,)|(?P<name>[a-z]+)|(?P<ref>§))"
)
_FUNCTIONS = frozenset({"sqrt", "abs", "round", "min", "max", "floor", "ceil"})
_CONSTANTS = frozenset({"pi", "e"})
_ATOM = re.compile(r"\d+(?:\.\d+)?|\.\d+|§|pi|e|[a-z]+\([^()]*\)|\([^()]*\)")
_NOT_SUMS = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|\d{3}-\d{4}|\d{3}-\d{3}-\d{4}")


def _words(match: re.Match[str]) -> str:
    total = current = 0
    for word in re.split(r"[\s-]+", match.group()):
        if word in _WORD_VALUES:
            current += _WORD_VALUES[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _SCALES[word]
            current = 0
    return str(total + current)


def _list_fn(match: re.Match[str]) -> str:
    fn, items = match["fn"], _ITEM.findall(match["items"])
    if fn in ("sum", "total"):
        return "(" + " + ".join(items) + ")"
    if fn == "product":
        return "(" + " * ".join(items) + ")"
    if fn in ("average", "mean"):
        return f"(({' + '.join(items)}) / {len(items)})"
    if fn in ("difference", "quotient") and len(items) == 2:
        return f"({items[0]} {'-' if fn == 'difference' else '/'} {items[1]})"
    if fn in ("difference", "quotient"):
        return match.group()
    return ("max(" if fn in _MAXES else "min(") + ", ".join(items) + ")"


def _check(text: str) -> bool | None:
    """None unless `text` is well-formed arithmetic; else whether it has an operator or function."""
    position, expect_operand, operators = 0, True, False
    stack: list[bool] = []  # True: a function's parentheses (commas allowed)
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return None
        position, kind, token = match.end(), match.lastgroup, match.group().strip()
        if expect_operand:
            if kind in ("num", "ref") or token in _CONSTANTS:
                expect_operand = False
            elif token in _FUNCTIONS and text.startswith("(", position):
                stack.append(True)
                position += 1
                operators = True
            elif kind == "lp":
                stack.append(False)
            elif token not in ("-", "+"):
                return None
        elif kind == "op":
            expect_operand, operators = True, True
        elif kind == "rp" and stack:
            stack.pop()
        elif kind == "comma" and stack and stack[-1]:
            expect_operand = True
        else:
            return None
    return None if expect_operand or stack else operators


def _translate(raw: str) -> tuple[str, bool] | None:
    """Words to a calculator expression (lowercase in), and whether it has an operator."""
    text = _CURRENCY.sub("", _TRIM.sub("", raw.strip()).translate(_UNICODE))
    if "," in text and "(" not in text:
        text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text)
    if _LETTER.search(text):
        text = _REF.sub(" § ", text)
        if _NUMBER_WORDS.search(text):
            text = _POINT.sub(r"\1.\2", _NUMBER_WORDS.sub(_words, text))
        if " of " in text or "between" in text:
            text = _LIST_FN.sub(_list_fn, text)
        for words, regex, replacement in _COMPILED_REWRITES:
            if any(word in text for word in words):
                text = regex.sub(replacement, text)
    if "(" in text:
        text = _IMPLICIT_TIMES.sub(" * ", text)
    text = " ".join(text.split())
    operators = _check(text)
    return None if operators is None else (text, operators)


def _atom(text: str) -> str:
    return text if _ATOM.fullmatch(text) else f"({text})"


_CALC_PREFIX = re.compile(
    r"(?:calculate|calc|compute|evaluate|eval|solve|work out|figure out|find|determine|tell me"
    r"|give me|show me|what(?:'s| is| are| was| would be| will be)|whats|how much (?:is|are"
    r"|would be)|how much's|do the math(?: on| for)?|quick math|math)\s*(?::\s*)?(?P<e>.+)"
)
_CALC_SUFFIX = (
    re.compile(
        r"(?:tell me )?what (?:does|do|is|would|will) (?P<e>.+?) (?:equal|equals|make|come to"
        r"|give(?: you| me)?|add up to|be|total)(?: to)?"
    ),
    re.compile(r"(?:tell me )?what (?P<e>.+?) (?:is|equals|makes|comes to|would be)"),
)
_PERCENT = r" ?(?:%|percent|per cent)"
_VERBS = [
    (re.compile(p), template)
    for p, template in (
        (r"add (?P<a>.+?) (?:to|onto) (?P<b>.+)", "{b} + {a}"),
        (r"(?:subtract|take(?: away)?|deduct|remove) (?P<a>.+?) from (?P<b>.+)", "{b} - {a}"),
        (r"(?:multiply|times) (?P<a>.+?) (?:by|with|times|and) (?P<b>.+)", "{a} * {b}"),
        (r"divide (?P<a>.+?) by (?P<b>.+)", "{a} / {b}"),
        (r"divide (?P<a>.+?) into (?P<b>.+)", "{b} / {a}"),
        (
            rf"(?:increase|raise|bump(?: up)?) (?P<a>.+?) by (?P<b>.+?){_PERCENT}",
            "{a} * (1 + {b} / 100)",
        ),
        (
            rf"(?:decrease|reduce|lower|cut|drop) (?P<a>.+?) by (?P<b>.+?){_PERCENT}",
            "{a} * (1 - {b} / 100)",
        ),
        (r"(?:increase|raise|bump(?: up)?) (?P<a>.+?) by (?P<b>.+)", "{a} + {b}"),
        (r"(?:decrease|reduce|lower|cut|drop) (?P<a>.+?) by (?P<b>.+)", "{a} - {b}"),
        (
            r"raise (?P<a>.+?) to (?:the )?(?:power (?:of )?)?(?P<b>.+?)(?:(?:st|nd|rd|th)? power)?",
            "{a} ** {b}",
        ),
        (r"double (?P<a>.+)", "{a} * 2"),
        (r"triple (?P<a>.+)", "{a} * 3"),
        (r"quadruple (?P<a>.+)", "{a} * 4"),
        (r"(?:halve|half) (?P<a>.+)", "{a} / 2"),
        (r"square (?!root)(?P<a>.+)", "{a} ** 2"),
        (r"cube (?!root)(?P<a>.+)", "{a} ** 3"),
        (r"negate (?P<a>.+)", "-{a}"),
        (r"take (?P<a>.+ of .+)", "{a}"),
        (r"(?:add|sum|total)(?: up)? (?P<a>.+(?:,| and | & ).+)", "{a}"),
        # Continuing from an earlier result: "add 10", "times 3", "squared".
        (r"(?:add|plus|\+) ?(?P<a>.+?)(?: more)?", "§ + {a}"),
        (r"(?:subtract|minus|take away|deduct) ?(?P<a>.+)", "§ - {a}"),
        (r"(?:multiply by|multiplied by|times|\*) ?(?P<a>.+)", "§ * {a}"),
        (r"(?:divide by|divided by|over|/) ?(?P<a>.+)", "§ / {a}"),
        (r"(?:(?:raised )?to the power(?: of)?|raised to|\^|\*\*) ?(?P<a>.+)", "§ ** {a}"),
        (r"squared", "§ ** 2"),
        (r"cubed", "§ ** 3"),
    )
]


def _verb(text: str) -> str | None:
    for regex, template in _VERBS:
        match = regex.fullmatch(text)
        if not match:
            continue
        parts: dict[str, str] = {}
        for name, raw in match.groupdict().items():
            if template == "{a}" and not regex.pattern.startswith("take"):
                raw = raw if " of " in raw else f"sum of {raw}"
            found = _translate(raw)
            if found is None:
                break
            parts[name] = _atom(found[0])
        else:
            expression = template.format(**parts)
            if _check(expression) is not None:
                return expression
    return None


def calculation(text: str) -> Expr | None:
    """The calculator expression a request asks for, or None when it is not arithmetic."""
    text = text.lower()
    if "§" in text:
        return None
    candidates = [m["e"] for m in [_CALC_PREFIX.fullmatch(text)] if m]
    candidates += [m["e"] for m in (r.fullmatch(text) for r in _CALC_SUFFIX) if m]
    for candidate in candidates:
        found = _translate(candidate)
        if found and (found[1] or "§" not in found[0]):
            return Expr(found[0])
        verb = _verb(candidate)
        if verb:
            return Expr(verb)
    verb = _verb(text)
    if verb:
        return Expr(verb)
    found = _translate(text)
    if found and found[1] and not _NOT_SUMS.fullmatch(text):
        return Expr(found[0], bare=True)
    return None


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


def _add_todo(title: str) -> _Unit:
    if not title or _TIME_ONLY.fullmatch(title):
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
        if match or _LIST_OTHER.fullmatch(text) or _LIST_ALL.fullmatch(text):
            include_done = bool(_LIST_ALL.fullmatch(text))
            if match:
                state = (match["state"] or "").strip().lower()
                include_done = bool(
                    match["incl"] or state in _DONE_STATES or (match["all"] and not state)
                )
            return _Unit("step", tool="list_todos", args={"include_done": include_done})
        return self._todo_action(text) or self._add(text) or self._calc(text, bare_ok)

    def _todo_action(self, text: str) -> _Unit | None:
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
        if match and (unit := self._target_unit("delete_todo", match["t"])):
            return unit
        match = _GET.fullmatch(text) or _TODO_ALONE.fullmatch(text)
        if match:
            target = parse_target(match["t"], bare_number=False, it=False)
            if target:
                return _Unit("todo", tool="get_todo", target=target)
        return None

    def _target_unit(self, tool: str, phrase: str) -> _Unit | None:
        target: Target | Ask | None = parse_target(phrase)
        if target is None:
            target = title_target(phrase, self.history)
        if isinstance(target, Ask):
            return _Unit("ask", text=target.text)
        return None if target is None else _Unit("todo", tool=tool, target=target)

    @staticmethod
    def _add(text: str) -> _Unit | None:
        for regex in _ADD:
            match = regex.fullmatch(text)
            if match:
                return _add_todo(_title(match["title"]))
        if _ADD_EMPTY.fullmatch(text):
            return _Unit("ask", text=ASK_TITLE)
        return None

    @staticmethod
    def _calc(text: str, bare_ok: bool) -> _Unit | None:
        found = calculation(text)
        if found is None or (found.bare and not bare_ok):
            return None
        return _Unit("calc", tool="calculator", expr=found)


# --- the plan --------------------------------------------------------------------------------


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
    return _resolve(units, history)
