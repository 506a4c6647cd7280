"""Everyday talk around a request: greetings, politeness, openers, thanks.

They never change what is planned and never end up in a todo title unless inside it: an opener
goes only from the start of a piece, politeness only from its end, and a closing word stays when
the word before it shows it belongs to the title ("remind me to say please", "… cover for me").
"""

from __future__ import annotations

import re

_F = re.IGNORECASE

_GREET = (
    r"hi|hello|hey|heya|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day)|morning"
    r"|evening"
)
_THANKS = (
    r"thanks(?: (?:a lot|a bunch|so much|very much|again|in advance))?"
    r"|thank you(?: (?:so much|very much|again|in advance))?|thx|ty|cheers|much appreciated"
    r"|(?:that'?s|that is) (?:all|it)|(?:you'?re|you are) (?:the best|a star)"
)
_ASK = (  # asking for something, not the something itself
    r"please|pls|plz|kindly|(?:can|could|would|will) (?:you|u)(?: (?:please|kindly|just))?"
    r"|please (?:can|could|would) you|would you be so kind as to|be so kind as to"
    r"|i(?: would|'d)? like (?:you )?to|i(?:'d| would) love (?:it )?if you (?:could|would)"
    r"|i(?:'d| would) appreciate (?:it )?if you (?:could|would)|i (?:want|need) you to"
    r"|i want to|let'?s|go ahead and|help me|do me a fav(?:ou|o)r and|for me|you can|just|quickly"
    r"|if (?:possible|you (?:can|could|would|don'?t mind))|(?:could you )?be a dear and"
    r"|do you think (?:you )?(?:could|can)(?: you)?"
    r"|(?:any|is there (?:any )?) chance you (?:could|can)"
    r"|i was wondering if you (?:could|would)|(?:can|could|may) i ask you to"
    r"|i(?:'d| would) be grateful if you (?:could|would)|would you care to"
)
_OPEN = (  # turn-taking words before a request or a follow-up; longer phrases first
    r"sorry to (?:bother|bug|ask)(?: you)?(?:,? but)?|(?:when|whenever) (?:you|u) (?:can|get a"
    r" (?:chance|sec|second|moment|minute))|before i forget|quick q(?:uestion)?|nvm|fyi|lmk"
    r"|let me know|(?:do|does) (?:you|u|anyone) (?:happen to )?know|any idea|i (?:just )?need"
    r"(?! to\b)|basically|i meant|i mean|oops|hey there|question|q"
    r"|ok(?:ay)?|okie|so|now|and|also|then|next|finally|oh|ah|um+|uh+|hmm+|btw|by the way"
    r"|one more thing|another thing|quick one|quick question|real quick|actually|anyway|alright"
    r"|all right|right|well|sure|yes|yeah|yep|great|cool|perfect|nice|awesome|after that"
    r"|what about|how about|@?crane|dear crane|never ?mind|no worries|sounds good|good (?:job|work)"
    r"|well done|sorry|excuse me|pardon|oh wait|wait|lol|haha|hah|ha|erm|er+|uhm|ugh|oops|whoops"
    r"|welp|gosh"
)
# A piece that is only this talk is nothing to do and nothing to stop a plan ("…, thanks!").
# "wait", "sorry", "never mind", "actually" are left out: after a request they take it back.
_FILLER = re.compile(
    rf"(?:(?:{_GREET}|{_THANKS}|please|pls|plz|ok(?:ay)?|great|cool|perfect|nice|awesome"
    r"|sounds good|good (?:job|work)|well done|no worries|yes|yeah|yep|sure|@?crane"
    r"|[:;]-?[)(dp]|<3)(?: there)?[\s,.!?;:—–-]*)+",
    _F,
)
_GERUND_TAKERS = re.compile(
    r"(?:(?:would|do|will) (?:you|u) )?mind|how about|what about|(?:please )?try|consider", _F
)
# One opener at a time, so the last one is known (it decides whether a gerund follows).
_LEAD_ONE = re.compile(
    rf"(?:{_GERUND_TAKERS.pattern}|{_ASK}|{_GREET}|{_THANKS}|{_OPEN})"
    r"(?: there)?\b[\s,:;!.—–-]*",
    _F,
)
_TAIL = re.compile(
    rf"(?P<sep>[\s,.!?;:—–-]*)(?P<word>\b(?:please|pls|plz|kindly|for me|{_THANKS}"
    r"|if you (?:can|could|would|don'?t mind)|when you (?:can|get a (?:chance|moment|minute))"
    r"|crane)|[:;]-?[)(dp]|<3)[\s.!?,;:]*$",
    _F,
)
# A closing word stays in a title after a word of saying a few words back ("tell Ana thanks"),
# or right after a determiner or adjective ("write a thank you"), or, for "for me", right after a
# verb that takes it ("cover for me").
_SAYING = frozenset(
    (
        "say", "said", "says", "saying", "write", "writes", "writing", "send", "sends", "sending",
        "text", "tell", "reply", "type", "sign", "email", "message", "wish", "shout", "print",
    )
)  # fmt: skip
_BEFORE_THANKS = frozenset(
    ("a", "an", "the", "my", "our", "your", "his", "her", "their", "big", "quick", "proper",
     "little", "no", "with", "special", "heartfelt", "personal", "short")
)  # fmt: skip
_BEFORE_FOR_ME = frozenset(
    (
        "wait", "waits", "waiting", "cover", "covering", "pay", "paying", "vote", "voting",
        "sign", "care", "stand", "fill", "look", "ask", "cook", "shop", "pray", "root", "it",
        "that", "this", "them", "something", "anything", "one", "some",
    )
)  # fmt: skip
# The gerunds of the verbs that start requests here: "would you mind adding …" → "add …".
_VERBS = tuple(
    (
        "add", "create", "make", "put", "save", "set", "log", "record", "jot", "write", "insert",
        "enter", "list", "show", "display", "view", "see", "get", "give", "print", "read", "tell",
        "fetch", "pull", "bring", "check", "complete", "finish", "close", "resolve", "tick",
        "cross", "strike", "mark", "delete", "remove", "erase", "trash", "discard", "throw",
        "calculate", "compute", "evaluate", "solve", "work", "figure", "find", "determine",
        "multiply", "divide", "subtract", "take", "double", "triple", "halve", "square", "cube",
        "split", "increase", "raise", "decrease", "reduce", "lower", "cut", "drop", "note",
        "remind", "clear"
    )
)  # fmt: skip
_DOUBLED = frozenset({"put", "jot", "set", "get", "cut", "split", "drop", "log"})


def _gerund(verb: str) -> str:
    if verb in _DOUBLED:
        return verb + verb[-1] + "ing"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


_BASES = {_gerund(verb): verb for verb in _VERBS}
_FIRST_WORD = re.compile(r"[a-z]+", _F)


def _lead(text: str) -> tuple[str, bool]:
    """The text after its openers, and whether the last asked for a gerund ("would you mind")."""
    gerund_next = False
    while match := _LEAD_ONE.match(text):
        if not match.end():
            break
        taker = _GERUND_TAKERS.fullmatch(match.group().rstrip(" ,:;!.—–-"))
        gerund_next = gerund_next or bool(taker)
        text = text[match.end() :]
    return text, gerund_next


def base_form(text: str) -> str:
    """ "adding a todo …" → "add a todo …", for the verbs requests start with; else unchanged."""
    word = _FIRST_WORD.match(text)
    base = _BASES.get(word.group().lower()) if word else None
    return base + text[word.end() :] if word and base else text


def asks_gerunds(text: str) -> bool:
    """Whether the message opens with words that take gerunds: "how about adding … and listing
    …" — its later requests may then be gerunds too."""
    return _lead(text.strip())[1]


def _strip_lead(text: str) -> str:
    text, gerund_next = _lead(text)
    return base_form(text) if gerund_next else text


def filler(piece: str) -> bool:
    """Only greetings, thanks or agreement: nothing to do, and nothing to stop a plan."""
    return bool(_FILLER.fullmatch(piece.strip()))


def _belongs(word: str, before: list[str]) -> bool:
    """Whether a closing `word` is the title's own: "say please", "cover for me"."""
    if word == "for me":
        return before[-1] in _BEFORE_FOR_ME
    if word == "crane":  # "photograph the crane": only "thanks crane" is talk
        return before[-1] not in ("thanks", "thank", "you", "thx", "ty", "cheers", "hi", "hey")
    return before[-1] in _BEFORE_THANKS or any(w in _SAYING for w in before[-3:])


_WINDOW = 80  # the longest closing phrase with its punctuation fits: the search stays linear


# The last word of every closing phrase above: most pieces end otherwise and skip the search.
_LAST_WORDS = frozenset(
    (
        "please", "pls", "plz", "kindly", "me", "thanks", "you", "thx", "ty", "cheers",
        "appreciated", "all", "it", "best", "star", "advance", "much", "lot", "bunch", "again",
        "can", "could", "would", "mind", "chance", "moment", "minute", "crane",
    )
)  # fmt: skip
_EMOTICON_END = re.compile(r"(?:[:;]-?[)(dp]|<3)$", _F)


def _strip_tail(text: str) -> str:
    while True:
        text = text.rstrip(" \t.!?,;:")
        last = text[text.rfind(" ") + 1 :].lower()
        if last not in _LAST_WORDS and not _EMOTICON_END.search(last):
            return text  # the common case: no closing talk, no search
        start = max(0, len(text) - _WINDOW)
        match = _TAIL.search(text, start)
        if match is None:
            return text
        before = text[max(0, match.start() - _WINDOW) : match.start()].lower().split()
        if not before:
            return "" if match.start() - _WINDOW <= 0 else text
        # Punctuation before it marks talk; without, it may be the title's own words.
        if not match["sep"].strip() and _belongs(match["word"].lower(), before):
            return text
        text = text[: match.start()]


def clean(piece: str) -> str:
    """A piece without the talk around it: "hi crane, could you … for me? thanks!" → "…"."""
    return _strip_tail(_strip_lead(piece.strip()))
