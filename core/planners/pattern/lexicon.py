"""The planner's own words — the verbs and nouns its rules are written in — and typo tolerance
over them alone: "calcualte", "adda todo", "complete tdo 1", "wat is 6 x 7".

A word is corrected only when it is one edit (a letter added, dropped, changed or two swapped)
from exactly one of these words, is not itself a common word, and stands among the first words
of a clause, where commands are — never inside a title further on, never a number.
"""

from __future__ import annotations

from functools import lru_cache

# The words for a todo, in every rule that names one ("todo 2", "the gym task", "2 items").
TODO_NOUN = r"(?:to-?dos?|to\s+dos?|tasks?|items?|reminders?|entry|entries)"
# One-word verbs that take a todo away, shared by the delete rule and typo tolerance.
DELETE_VERBS = (
    "delete", "remove", "erase", "trash", "discard", "del", "drop", "scratch", "ditch", "nix",
    "bin",
)  # fmt: skip
VERBS = frozenset(
    (
        "add", "create", "remind", "remember", "complete", "finish", "finished", "mark", "done",
        "list", "show", "calculate", "compute", "evaluate", "what", "whats", "much", "split",
        "divide", "multiply", "subtract", "check", "tick", "cross", "clear", "display", "forget",
        "work", "figure", *DELETE_VERBS,
    )
)  # fmt: skip
NOUNS = frozenset(
    (
        "todo", "todos", "task", "tasks", "reminder", "reminders", "item", "items", "number",
        "percent", "between", "people", "each", "discount", "please", "times",
    )
)  # fmt: skip
# Slack shorthand for the words above, read as the word itself.
SHORTHAND = {"wat": "what", "wats": "whats", "pls": "please", "plz": "please"}
# Everyday words one edit from a command word: never "corrected".
_REAL = frozenset(
    (
        "that", "hat", "chat", "at", "what", "lost", "mist", "last", "fist", "lust", "dome",
        "bone", "gone", "none", "tone", "one", "shot", "snow", "slow", "shop", "odd", "ads", "dad",
        "tad", "mad", "had", "bad", "sad", "pad", "lad", "rad", "wad", "fad", "gad", "much",
        "such", "mach", "mark", "park", "dark", "bark", "lark", "task", "mask", "cask", "bask",
        "each", "reach", "beach", "peach", "teach", "item", "items", "times", "tiles", "tides",
        "dine", "dune", "lone", "done", "tick", "lick", "kick", "pick", "sick", "wick", "nick",
        "rick", "check", "cheek", "list", "fork", "word", "worm", "pork", "cork", "wore",
        "wok", "wonk", "gust", "bust", "dust", "must", "rust", "just", "plus", "todo", "split",
        "spit", "spilt", "sole", "show", "how", "shoe", "slow", "ship", "shin",
    )
)  # fmt: skip
_KNOWN = VERBS | NOUNS


def _deletes(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


# Every known word under itself and each of its one-letter-shorter forms: a word one edit away
# shares one of these keys with it, so a lookup finds the few candidates without a scan.
_NEAR: dict[str, set[str]] = {}
for _word in _KNOWN:
    for _key in _deletes(_word):
        _NEAR.setdefault(_key, set()).add(_word)
_HEAD = 3  # the words of a clause where its command is: "calcualte …", "pls adda todo …"
_CLAUSE_ENDS = (",", ";", ":", ".", "!", "?")
_PUNCTUATION = ",;:.!?\"'()"


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by exactly one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


@lru_cache(maxsize=4096)  # the same few words come back in every conversation
def fix_word(word: str) -> str | None:
    """The command word a typo stands for, or None."""
    lower = word.lower()
    if lower in SHORTHAND:
        return SHORTHAND[lower]
    if lower in _KNOWN or lower in _REAL or "'" in lower:
        return None
    candidates = set().union(*(_NEAR.get(key, ()) for key in _deletes(lower)))
    found = {
        known
        for known in candidates
        # A typo keeps the first letter ("ask" is no "task"), and a letter more or less at the
        # end is an inflection ("deleted", "lists"), not a typo — but for "add", whose
        # one-letter-longer forms are typos ("adda todo"); other three-letter words ("del",
        # "bin") are too close to everyday ones.
        if _one_edit(lower, known)
        and known[0] == lower[0]
        and (len(known) >= 4 or known == "add" == lower[:3])
        and (known == "add" or (lower[:-1] != known and known[:-1] != lower))
    }
    return found.pop() if len(found) == 1 else None


def fix_typos(text: str) -> str | None:
    """The text with the command words of each clause's first words spelled right; None when
    nothing was corrected."""
    words = text.split(" ")
    in_clause, changed = 0, False
    for index, word in enumerate(words):
        bare = word.strip(_PUNCTUATION)
        if in_clause < _HEAD and len(bare) >= 3 and bare.isalpha():
            fixed = fix_word(bare)
            if fixed is not None and fixed != bare.lower():
                words[index] = word.replace(bare, fixed, 1)
                changed = True
        in_clause = 0 if word.endswith(_CLAUSE_ENDS) or word in ("and", "then") else in_clause + 1
    return " ".join(words) if changed else None
