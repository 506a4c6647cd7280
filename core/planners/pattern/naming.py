"""A todo named by its words — "complete call the plumber", "remove the gym todo", "I finished
the report" — resolved against the requesting user's own todos.

A todo matches when every remaining word of the phrase (articles, possessives and "todo/item/
task" dropped) is a whole word of its title, case-insensitive. An exact title beats partial
matches; one match acts on its number, several ask which, none says so. A phrase with no word
that could name anything ("finish up"), or one that reads as a question or a negation, names
nothing: the request is then not understood, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from core.plan import Todo
from core.planners.pattern.answers import Ask
from core.planners.pattern.lexicon import TODO_NOUN
from core.planners.pattern.targets import Target, strip_place

_F = re.IGNORECASE
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_TODO_WORD = re.compile(r"\bto-?dos?\b|\bto dos?\b", _F)
_QUOTED = re.compile(r"[\"“'‘](?P<title>.+)[\"”'’]")
_CONNECTOR = re.compile(
    r"(?:the\s+)?(?:to-?do|task|one|item|reminder|entry)\s+(?:called|named|titled|saying"
    r"|that\s+says|about|for|with)\s+(?P<title>.+)",
    _F,
)
_DROPPED = frozenset(
    (
        "a", "an", "the", "my", "our", "your", "this", "that", "these", "those", "todo", "todos",
        "task", "tasks", "item", "items", "reminder", "reminders", "one", "ones", "entry"
    )
)  # fmt: skip
# Words that cannot name a todo alone: "finish up" names nothing, "complete 2 forms" does.
_FUNCTION = frozenset(
    (
        "up", "off", "out", "in", "on", "at", "to", "for", "of", "with", "by", "from", "into",
        "onto", "over", "it", "its", "them", "me", "i", "you", "we", "he", "she", "they", "his",
        "her", "their", "us", "him", "and", "or", "but", "so", "then", "now", "too", "also",
        "all", "both", "each", "every", "some", "any", "again", "please", "thanks", "today",
        "yet", "already", "just", "still", "is", "are", "was", "were", "be", "been", "am", "i'm",
        "we're", "it's", "there", "here", "everything", "anything", "something", "nothing",
        "stuff", "things", "lot", "rest"
    )
)  # fmt: skip
# A phrase opening with these asks or supposes something; one holding a negation refuses it.
_QUESTION = frozenset(
    (
        "is", "are", "was", "were", "did", "do", "does", "have", "has", "had", "should", "shall",
        "can", "could", "will", "would", "may", "might", "must", "how", "why", "what", "when",
        "where", "who", "which", "whether", "if", "unless"
    )
)  # fmt: skip
_NEGATION = re.compile(
    r"\b(?:not|never|no|don'?t|doesn'?t|didn'?t|isn'?t|wasn'?t|haven'?t|hasn'?t|won'?t"
    r"|wouldn'?t|shouldn'?t|can'?t|cannot)\b|n't\b",
    _F,
)
# "todo 2, wait": a number was said; whatever else is there, it is not a title.
_NUMBERED = re.compile(r"\b(?:to-?dos?|tasks?|items?|number|no\.?)\s*#?\s*\d|#\s*\d", _F)
_NOUN = re.compile(rf"\b{TODO_NOUN}\b", _F)
_SHOWN = 10  # an ambiguous question lists at most this many todos


@lru_cache(maxsize=4096)  # titles are matched again on every request naming a todo
def words(text: str) -> tuple[str, ...]:
    """The words that must appear in a title, lowercased, in order."""
    found = _WORD.findall(_TODO_WORD.sub(" ", text).casefold())
    return tuple(word for word in found if word not in _DROPPED)


def has_noun(text: str) -> bool:
    """Whether the phrase says it is a todo ("the gym todo", "the flights item")."""
    return bool(_NOUN.search(text))


def said_todo(text: str) -> bool:
    """Whether the phrase says it is a todo, by a noun or by the list it is on ("… from my
    list"): what a verb with other meanings ("drop", "close") needs before naming one."""
    return has_noun(text) or strip_place(text) != text


def _phrase(text: str) -> str:
    text = strip_place(text.strip())
    found = _QUOTED.fullmatch(text) or _CONNECTOR.fullmatch(text)
    return (found["title"] if found else text).strip()


def _quoted(todos: Sequence[Todo]) -> str:
    shown = ", ".join(f'#{todo.number} "{todo.title}"' for todo in todos[:_SHOWN])
    return shown + (f" and {len(todos) - _SHOWN} more" if len(todos) > _SHOWN else "")


_AND = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*", _F)


def match(
    text: str, todos: Sequence[Todo], tool: str, exact_only: bool = False
) -> Target | Ask | None:
    """The todo(s) `text` names among `todos` (open ones, or any for "show"); None: not a name.
    With `exact_only`, only a whole title counts and anything else is not a name. "X and Y"
    names two todos only when no title holds all of its words and each part names one."""
    phrase = _phrase(text)
    found = _one(phrase, todos, tool, exact_only)
    if not (isinstance(found, Ask) and found.weak) or not _AND.search(phrase):
        return found
    parts = [_one(_phrase(part), todos, tool, exact_only) for part in _AND.split(phrase)]
    if any(part is None or (isinstance(part, Ask) and part.weak) for part in parts):
        return found
    for part in parts:
        if isinstance(part, Ask):
            return part
    named: dict[int, str] = {}  # in the order said, each todo once
    for part in parts:
        if isinstance(part, Target):
            named.update(zip(part.numbers, part.notes, strict=True))
    return Target(numbers=tuple(named), notes=tuple(named.values()), named=True)


def _one(phrase: str, todos: Sequence[Todo], tool: str, exact_only: bool) -> Target | Ask | None:
    wanted = words(phrase)
    if not wanted or wanted[0] in _QUESTION or _NEGATION.search(phrase):
        return None
    if _NUMBERED.search(phrase):
        return None
    if all(word in _FUNCTION or word.isdigit() for word in wanted):
        return None
    needed = set(wanted)
    found = [todo for todo in todos if needed <= set(words(todo.title))]
    exact = [todo for todo in found if words(todo.title) == wanted]
    if exact_only and not exact:
        return None
    found = exact or found
    usable = found if tool == "get_todo" else [todo for todo in found if not todo.done]
    if len(usable) == 1:
        todo = usable[0]
        return Target(numbers=(todo.number,), notes=(todo.title,), named=True)
    if len(usable) > 1:
        verb = {"complete_todo": "complete", "delete_todo": "delete"}.get(tool, "show")
        return Ask(
            f'More than one todo matches "{phrase}": {_quoted(usable)}. Which one? '
            f'Say its number, e.g. "{verb} todo {usable[0].number}".',
            private=True,
        )
    if found:
        return Ask(
            f'No open todo matches "{phrase}" — {_quoted(found)} is already done, '
            "so I haven't changed anything.",
            weak=True,
            private=True,
        )
    return Ask(
        f'No todo matches "{phrase}", so I haven\'t changed anything. '
        'Say "list my todos" to see them and their numbers.',
        weak=True,
    )
