"""The offline pattern planner (see planner.py): `plan(text, history)` → Plan."""

from core.planners.pattern.answers import help_text
from core.planners.pattern.planner import plan

__all__ = ["help_text", "plan"]
