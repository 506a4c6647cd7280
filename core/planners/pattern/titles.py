"""The phrase rules for adding todos, and the title they keep: the user's words as typed."""

from __future__ import annotations

import re

_F = re.IGNORECASE

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
ADD = (
    re.compile(
        rf"{_ADD_VERB} (?:me )?{_ARTICLE}{_ADD_NOUN}(?: for me)?"
        rf"(?: (?:to|on|in|onto) (?:my|the) {_LIST_NOUN})?(?: for me)?" + _TITLE_SEP,
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
# The first words of an add request: a title starting otherwise is not one wrapped in another
# ("don't forget to add a todo to …").
ADD_STARTS = frozenset(
    ("add", "create", "make", "put", "save", "set", "log", "record", "jot", "write", "insert",
     "enter", "new", "remind", "don't", "dont", "do", "note", "remember", "i", "another", "a",
     "an", "one", "todo", "to-do", "task", "item", "reminder", "stick", "pop")
)  # fmt: skip
ONTO_LIST = 4  # the form of ADD that names the list, not a todo: "add X, Y and Z to my todos"
ADD_EMPTY = re.compile(  # an add with no title, even when a joining word is there to start one
    rf"(?:{_ADD_VERB} (?:me )?{_ARTICLE}{_ADD_NOUN}(?: for me)?|remind me|new {_ADD_NOUN}"
    r"|don'?t (?:let me )?forget|do not (?:let me )?forget|note to self"
    r"|(?:i (?:need|have|want) to )?remember)"
    r"(?: (?:to|for|of|that says|which says|saying|called|named|titled|about|reading|that"
    r"|that i (?:need|have) to))?",
    _F,
)
ADD_MANY = re.compile(
    rf"(?:{_ADD_VERB} (?:me )?(?:(?:these|the following|some|a few|few|multiple|several"
    r"|(?P<count>\d+|two|three|four|five|six|seven|eight|nine|ten)) )?(?:new )?"
    r"(?:to-?dos|to dos|tasks|items|reminders)"
    rf"(?: (?:to|on) (?:my|the) {_LIST_NOUN})?(?: (?:for|about))?(?: ?[:\-–—] ?| (?:to )?|$)"
    r"|(?:new )?(?:to-?dos|tasks) ?[:\-–—] ?"
    r"|(?:add|put) (?:(?:these|the following|this|them) )?"
    rf"(?:(?:to|on|onto) (?:my|the) {_LIST_NOUN}) ?[:\-–—] ?)(?P<rest>.*)",
    _F | re.S,
)
TIME_ONLY = re.compile(
    r"(?:(?:for|at|in|on|by) )?(?:\d{1,2}(?::\d\d)? ?(?:am|pm|a\.m|p\.m)?|noon|midnight|tonight"
    r"|today|tomorrow|this (?:morning|afternoon|evening)"
    r"|\d+ ?(?:min(?:ute)?s?|hours?|days?|weeks?))",
    _F,
)
_BULLET = re.compile(r"^(?:[-*•·]|\d{1,3}[.)])\s+")
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "`": "`"}


def clean_title(raw: str) -> str:
    """The user's words as typed: only outer quotes and trailing full stops go."""
    title = _BULLET.sub("", raw.strip()).strip()
    if len(title) >= 2 and _QUOTES.get(title[0]) == title[-1]:
        title = title[1:-1].strip()
    return title.rstrip(".").strip()


def quoted(raw: str) -> bool:
    """Whether the whole title was typed inside quotes."""
    text = raw.strip()
    return len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]


def balanced(title: str) -> bool:
    return title.count('"') % 2 == 0 and title.count("“") == title.count("”")
