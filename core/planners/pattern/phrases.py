"""The phrase rules for acting on todos that exist: list, complete, delete, show, and the
"all at once" requests that are refused. Each rule is a full-match pattern over one cleaned piece;
the todo it names (group ``t``) is read by core.planners.pattern.targets."""

from __future__ import annotations

import re

from core.planners.pattern.lexicon import DELETE_VERBS

_F = re.IGNORECASE

_TODOS = r"(?:(?:to-?do|to do|task) (?:list|items)|to-?dos|to dos|todo|tasks|list|reminders)"
LIST = re.compile(
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
LIST_ALL = re.compile(
    r"(?:list|show|display)(?: me)? (?:all|everything)(?: (?:including|with) (?:done|completed)"
    r"(?: ones)?)?",
    _F,
)
LIST_OTHER = re.compile(
    r"(?:what (?:do|should|must) i (?:still |else )?(?:have|need|got)"
    r"|what(?:'ve| have) i (?:still )?got) (?:left )?to do"
    r"(?: today| now| next)?"
    r"|what(?:'s| is) left(?: to do)?(?: on my list)?"
    r"|(?:do i have )?any(?:thing)? (?:left )?(?:to do|to-?dos|tasks)(?: left)?"
    r"|(?:is there |do i have )?any(?:thing)?(?: (?:left|else|still|remaining))? (?:on|in) "
    r"(?:my|the) (?:to-?do |task )?list"
    r"|how many (?:to-?dos|tasks|things) (?:do i have|are (?:there|left|open|on my list))(?: left)?"
    r"|remind me (?:of|about|what(?:'s| is| are)?(?: on)?) (?:my|the) " + _TODOS + r"(?: are| is)?"
    r"|(?:what|which) (?:to-?dos|tasks) do i have"
    r"|remind me what (?:i (?:need|have) to do|(?:is|'s) (?:left|on my list)"
    r"|my (?:to-?dos|tasks) are)",
    _F,
)
DONE_STATES = frozenset({"completed", "done", "finished", "closed", "checked off", "checked-off"})
BULK = re.compile(
    r"(?:delete|remove|erase|clear|wipe|purge|drop|trash|empty|reset|get rid of|complete|finish"
    r"|mark|check off|tick off|cross off|close) (?:out )?(?:all|every|everything|each|both"
    r"|the whole|my whole|my entire|the entire)\b.*"
    r"|(?:clear|wipe|empty|reset|purge)(?: out)? (?:(?:my|the|all) )?"
    r"(?:to-?dos|tasks|(?:(?:to-?do|task) )?list|everything)(?: out)?"
    r"|(?:delete|remove|erase|complete|finish) (?:my|the) (?:to-?dos|tasks)",
    _F,
)
COMPLETE = (
    re.compile(
        r"(?P<verb>complete|finish|finished|close|resolve|done(?: with)?"
        r"|i(?: have|'ve)?(?: just| already)? (?:finished|completed)"
        r"|i(?:'m| am)(?: all)? (?:done|finished) with|(?:check|tick|cross|strike|mark) off"
        r"|cross out|mark (?:as )?(?:done|complete|completed|finished):?) (?P<t>.+)",
        _F,
    ),
    re.compile(
        r"(?P<verb>mark|set|flag|check|tick|cross) (?P<t>.+?) (?:as |to )?(?:done|complete"
        r"|completed|finished|checked(?: off)?|resolved|closed|off)",
        _F,
    ),
)
DONE_IS = re.compile(
    r"(?P<t>.+?) (?:(?:is|are|was|were|has been|have been) )?(?:now )?(?:all )?"
    r"(?:done|complete|completed|finished)",
    _F,
)
DELETE = re.compile(
    rf"(?P<verb>{'|'.join(DELETE_VERBS)}|get rid of|throw (?:away|out)) (?P<t>.+)", _F
)
GET = re.compile(
    r"(?P<verb>show|get|view|display|open|read|see|fetch|look up|pull up|bring up|print|describe"
    r"|what(?:'s| is| was)|whats|tell me about|details (?:of|for|on|about)|info (?:on|about|for))"
    r"(?: me)? (?:(?:the )?(?:details|status) (?:of|for|on) )?(?P<t>.+)",
    _F,
)
# Verbs that also name things people do away from their list ("close the window", "throw out
# the milk", "get milk"): a todo is named by words after them only with "todo/task/item" said.
NEEDS_NOUN = re.compile(
    r"close|resolve|trash|discard|get rid of|throw (?:away|out)|get|read|see|fetch|print|open"
    r"|drop|scratch|ditch|nix|bin"
    r"|what(?:'s| is| was)|whats|tell me about",
    _F,
)
TODO_ALONE = re.compile(r"(?P<t>(?:to-?do|task) ?(?:number |no\.? ?)?#? ?\d{1,9})", _F)
