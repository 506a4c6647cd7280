"""The offline pattern planner (see planner.py): `plan(text, history)` → Plan."""

from core.planners.pattern.answers import HELP_TEXT
from core.planners.pattern.planner import plan

__all__ = ["HELP_TEXT", "plan"]
