"""How people type in Slack, made plain before any rule reads it: curly quotes and apostrophes,
Slack markup (*bold*, _italics_, ~strike~, `code`) and emoji (Unicode and :shortcode:). Links,
mentions and entities are the bot's to make readable (bot/markup.py) before a request gets here.

Only decoration goes: the words, numbers and operators stay as typed, so a todo title keeps the
user's own characters (markup aside). "2*3*4" and "2 ** 10" are arithmetic, not bold: markup
opens only after a space or the start and closes only before a space, punctuation or the end.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'"})
# Markup around a span, as Slack draws it: the marks hug the words inside them.
_MARKUP = re.compile(
    r"(?<![\w*_~`])(?P<m>```|`|\*|_|~)(?=\S)(?P<inner>[^\n]*?\S)(?P=m)(?![\w*_~`])"
)
_SHORTCODE = re.compile(r"(?<![\w:]):[a-z][a-z0-9_+-]*:(?::skin-tone-\d:)?(?![\w:])", re.I)
_MARK = re.compile(r"[*_~`]")
_SPACES = re.compile(r"[^\S\n]{2,}")
# Characters that draw emoji: pictographs and symbols, their joiners, selectors and tones.
_EMOJI_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")


def _emoji(char: str) -> bool:
    code = ord(char)
    if char in _EMOJI_JOINERS or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True
    if code < 0x2190:
        return False  # letters, digits, punctuation, currency and arithmetic signs stay
    return unicodedata.category(char) == "So"


CURLY = frozenset(_QUOTES)


def _drop_emoji(text: str) -> str:
    return "".join(" " if _emoji(char) else char for char in text)


def _unmark(match: re.Match[str]) -> str:
    inner = match["inner"]
    if match["m"] in "*_" and not any(char.isalnum() for char in inner):
        return match.group()  # "* 2 *" is not bold text
    return inner


def plain(text: str, fold_quotes: bool = True) -> str:
    """The message as its words: no curly quotes, markup or emoji.
    Folding quotes changes no length, so `fold_quotes=False` gives the same text position for
    position with the user's own quotes (for titles, which keep them)."""
    if not text.isascii():
        text = _drop_emoji(text.translate(_QUOTES) if fold_quotes else text)
    if ":" in text:
        text = _SHORTCODE.sub(" ", text)
    if _MARK.search(text):
        for _ in range(3):  # nested marks: *_bold italics_*
            unmarked = _MARKUP.sub(_unmark, text)
            if unmarked == text:
                break
            text = unmarked
    return _SPACES.sub(" ", text) if "  " in text else text
