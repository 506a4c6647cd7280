"""Money talk → plain arithmetic the user can check in the plan: "20% tip on €60" → "60 * 20 / 100",
"250 plus 7% tax" → "250 + 250 * 7 / 100", "split 120 between 4 people" → "120 / 4",
"3 tickets at $12.50 each" → "3 * 12.50". Amounts arrive here already plain (numbers.py).
"""

from __future__ import annotations

from core.planners.pattern.numbers import OPERAND as _O

_PCT = r"\s*(?:%|percent\b|per\s*cent\b)"
# A share of an amount: what it is called. "tip", "7% tax", "a 10% discount".
_SHARE = (
    r"(?:tip|tax|sales\s+tax|vat|gst|discount|fee|commission|interest|markup|gratuity"
    r"|service(?:\s+charge)?|surcharge|deposit|rebate|cashback|cash\s+back|bonus|raise)"
)
_ADDED = r"(?:tip|tax|sales\s+tax|vat|gst|fee|commission|interest|markup|gratuity"
_ADDED += r"|service(?:\s+charge)?|surcharge|raise|bonus)"
_TAKEN = r"(?:discount|rebate|reduction|off)"
_BILL = r"(?:\s+(?:bill|meal|check|cheque|dinner|lunch|order|purchase|total|tab|price))?"
_A = r"(?:(?:an?|the)\s+)?"
_PEOPLE = (
    r"(?: (?:people|persons|ppl|folks|friends|guests|colleagues|roommates|flatmates|parts|shares"
    r"|ways|equal (?:parts|shares)|of us))?"
)
_EACH = r"(?:each(?:\s+one)?|apiece|a\s+piece|per\s+(?:item|ticket|person|piece|unit|one|head))"

_P = ("%", "percent", "cent")
# (words that must appear, pattern, replacement), run by arithmetic.translate in this order.
REWRITES = [
    (_P, rf"\b{_A}({_O}){_PCT}\s+{_SHARE}\s+(?:on|of|for)\s+{_A}({_O}){_BILL}",
     r"\2 * \1 / 100"),
    (_P, rf"\b{_A}{_SHARE}\s+(?:on|of|for)\s+{_A}({_O}){_BILL}\s+at\s+({_O}){_PCT}",
     r"\1 * \2 / 100"),
    (_P, rf"({_O})\s*(?:\+|plus\b|with\b|including\b|incl\.?|and\b)\s*{_A}({_O}){_PCT}"
         rf"\s+{_ADDED}\b", r"\1 + \1 * \2 / 100"),
    (_P, rf"({_O})\s*(?:\+|plus)\s*({_O}){_PCT}(?!\s*[\w(.§])", r"\1 + \1 * \2 / 100"),
    (_P, rf"({_O})\s+(?:with|after|less|minus)\s+{_A}({_O}){_PCT}\s+{_TAKEN}\b",
     r"\1 - \1 * \2 / 100"),
    (_P, rf"({_O})\s*(?:-|minus|less)\s*({_O}){_PCT}(?!\s*[\w(.§])", r"\1 - \1 * \2 / 100"),
    (("each", "apiece", "piece", "per"),
     rf"\b(\d+)\s+(?:(?:[a-z]+\s+){{0,3}}?(?:at|for|@|costing|priced\s+at)|x|\*|times|@)\s+"
     rf"({_O})\s*{_EACH}\b", r"\1 * \2"),
]  # fmt: skip

_SPLIT = (
    r"split (?:up )?(?:the |a |an |our |this )?(?:(?:bill|check|cost|total|tab|price|amount) "
    r"(?:of )?)?(?P<a>.+?)(?: (?!between|among|amongst|by|into|across|with|evenly|equally)"
    r"[a-z]+)?(?: (?:evenly|equally))?"
)
_ON = r"(?:(?:it|that|this|the (?:total|bill|result|rest|lot)) )?(?:up )?(?:evenly |equally )?"
# (pattern, template) verbs for calculation.py, before its generic ones; "§" is "that".
VERBS = [
    # continuing a calculation: "…, split between 3", "… then split it 4 ways"
    (rf"split {_ON}(?:between|among|amongst|by|into|across|with) (?P<b>\S+?){_PEOPLE}", "§ / {b}"),
    (rf"split {_ON}(?P<b>\S+) ways", "§ / {b}"),
    (rf"{_SPLIT} (?:between|among|amongst|by|into|across|with) (?P<b>.+?){_PEOPLE}", "{a} / {b}"),
    (rf"{_SPLIT} (?P<b>\S+) ways", "{a} / {b}"),
    (rf"divide (?P<a>.+?) (?:evenly |equally )?(?:between|among|amongst|by) (?P<b>.+?){_PEOPLE}",
     "{a} / {b}"),
    (rf"(?:add|plus|include|put on|\+) {_A}(?P<a>\S+?){_PCT}(?: {_ADDED})? (?:to|on|onto) "
     r"(?P<b>.+)", "{b} + {b} * {a} / 100"),
    (rf"(?:add|plus|include|\+) {_A}(?P<a>\S+?){_PCT}(?: {_ADDED})?", "§ + § * {a} / 100"),
    (rf"(?:take|knock|subtract|deduct|apply) {_A}(?P<a>\S+?){_PCT}(?: {_TAKEN})? (?:off|from|to) "
     r"(?P<b>.+)", "{b} - {b} * {a} / 100"),
    (rf"(?:take|knock|subtract|deduct|apply) {_A}(?P<a>\S+?){_PCT}(?: {_TAKEN})?(?: off)?",
     "§ - § * {a} / 100"),
]  # fmt: skip
