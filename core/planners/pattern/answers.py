"""What the pattern planner says instead of acting: help, refusals and questions."""

from __future__ import annotations

from dataclasses import dataclass

from core.planners.pattern.rules import tool_examples

FOLLOW_UPS = '• follow-ups like "add 10 to that" or "mark it done"'


def help_text() -> str:
    """What Crane can do, from the tools' own examples: said when nothing was understood."""
    lines = []
    for first, *more in tool_examples():
        also = " (or " + ", ".join(f'"{example}"' for example in more) + ")" if more else ""
        lines.append(f"• {first}{also}")
    return "\n".join(["Here is what I can do. Try:", *lines, FOLLOW_UPS])


UNSUPPORTED = (
    "Acting on all todos at once isn't supported, so I haven't changed anything. "
    'Do them one at a time, e.g. "delete todo 1" or "complete todo 2".'
)
ASK_TITLE = 'What should the todo say? For example: "add a todo to buy milk".'
NO_FACTORIALS = (
    "The calculator can't do factorials (like 5!). It knows + - * / // % ** ^, parentheses, "
    "sqrt, abs, round, min, max, floor, ceil, pi and e."
)

ASK_TODO = (
    'Which todo do you mean? Tell me its number, e.g. "complete todo 2" '
    '(say "list my todos" to see the numbers).'
)
ASK_NUMBER = (
    "I don't have an earlier result to use — what number should I use? "
    'For example: "calculate 5 + 10".'
)


@dataclass(frozen=True)
class Ask:
    """Zero steps: ask the user this instead of guessing."""

    text: str
    weak: bool = False  # "no todo matches …": another reading of the words may still apply
    private: bool = False  # it quotes the user's own todo titles
