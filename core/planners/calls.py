"""`call NAME.tool …` for the offline planner: an MCP tool called without an LLM.

After the tool's name comes either one JSON object or `key=value` pairs. A value ends at
whitespace unless it is a JSON string in double quotes; a value that parses as JSON is that
JSON, otherwise it is a string; `$N` is kept whole and resolved when the step runs. `and` /
`then` split a request only outside quotes and braces, so a call composes with the rest
("call jira.create title="x and y" and add a todo to follow up"): the other parts go to the
pattern planner as usual. Whether the tool exists and its arguments fit its schema is checked
after planning (core.requests.check_plan), before anything runs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from core.plan import History, Plan, PlannedStep
from core.planners.pattern.answers import help_text
from core.references import REFERENCE
from core.tool import Tool
from core.tools import REGISTRY

CALL = re.compile(r"call\s+(?P<tool>[a-z0-9_-]+\.[A-Za-z0-9_.\-/]+)(?:\s+(?P<rest>.*))?",
                  re.IGNORECASE | re.DOTALL)  # fmt: skip
SPLIT = re.compile(r"\s+(?:and|then)\s+", re.IGNORECASE)
PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_\-]*)=("(?:[^"\\]|\\.)*"|\S*)')
QUOTES = str.maketrans({"“": '"', "”": '"'})  # what Slack and phones make of a typed "
# what every request holding a call holds (a part starting "call NAME."): most requests do
# not, and are told so without being cut into parts
MAYBE_CALL = re.compile(r"(?:^|\s)call\s+[a-z0-9_-]+\.", re.IGNORECASE)
Planner = Callable[[str, History | None], Plan]


def parts(text: str) -> list[str]:
    """The request cut at `and` / `then` outside double quotes and braces/brackets."""
    found, depth, quoted, start, index = [], 0, False, 0, 0
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth = max(0, depth - 1)
        elif depth == 0 and char.isspace():
            match = SPLIT.match(text, index)
            if match:
                found.append(text[start:index])
                start = index = match.end()
                continue
        index += 1
    found.append(text[start:])
    return [part.strip() for part in found if part.strip()]


def has_call(text: str) -> bool:
    if not MAYBE_CALL.search(text):
        return False
    return any(CALL.fullmatch(part) for part in parts(text.translate(QUOTES)))


def _value(raw: str) -> Any:
    if REFERENCE.fullmatch(raw):
        return raw  # a whole `$N`: the core resolves it when the step runs
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def arguments(rest: str) -> dict[str, Any] | str:
    """The arguments after the tool's name, or why they cannot be read."""
    rest = rest.strip()
    if not rest:
        return {}
    if rest.startswith("{"):
        try:
            value = json.loads(rest)
        except json.JSONDecodeError as error:
            return f"the arguments are not a valid JSON object ({error.msg})"
        return value if isinstance(value, dict) else "the arguments must be a JSON object"
    found: dict[str, Any] = {}
    position = 0
    while position < len(rest):
        match = PAIR.match(rest, position)
        if match is None:
            word = rest[position:].split()[0]
            return f'"{word}" is not key=value (quote a value with spaces in double quotes)'
        found[match.group(1)] = _value(match.group(2))
        position = match.end()
        while position < len(rest) and rest[position].isspace():
            position += 1
    return found


def _renumber(step: PlannedStep, offset: int) -> PlannedStep:
    """A step of the pattern planner's, planned alone, placed after `offset` earlier steps:
    its own `$N` references shift with it."""
    referable = REGISTRY[step.tool].reference_args if step.tool in REGISTRY else ()
    if not offset or not referable:
        return step
    args = dict(step.args)
    for name in referable:
        if isinstance(args.get(name), str):
            args[name] = REFERENCE.sub(
                lambda m: m.group(0) if m.group(1) == "prev" else f"${int(m.group(1)) + offset}",
                args[name],
            )
    return step.model_copy(update={"args": args})


def with_tools_in_help(plan: Plan, tools: Mapping[str, Tool]) -> Plan:
    """The pattern planner's help, with the MCP tools this requester may call listed after it."""
    mcp = [tool for tool in tools.values() if tool.source != "built-in"]
    if plan.steps or not plan.answer or help_text() not in plan.answer or not mcp:
        return plan
    lines = [f"• call {tool.name} — {tool.description or 'no description'}" for tool in mcp[:30]]
    more = [f"… and {len(mcp) - 30} more (crane tools)"] if len(mcp) > 30 else []
    listing = "\n".join(["Tools from MCP servers (call NAME.tool key=value …):", *lines, *more])
    return plan.model_copy(update={"answer": f"{plan.answer}\n\n{listing}"})


def plan(text: str, history: History | None, pattern: Planner) -> Plan:
    """Plan a request holding at least one `call`; the other parts through `pattern`."""
    steps: list[PlannedStep] = []
    others: list[str] = []

    def flush() -> Plan | None:
        if others:
            planned = pattern(" and ".join(others), history)
            others.clear()
            if not planned.steps:
                return planned  # not understood, or a question: nothing runs
            steps.extend(_renumber(step, len(steps)) for step in planned.steps)
        return None

    for part in parts(text.translate(QUOTES)):
        call = CALL.fullmatch(part)
        if call is None:
            others.append(part)
            continue
        refused = flush()
        if refused is not None:
            return refused
        args = arguments(call.group("rest") or "")
        if isinstance(args, str):
            return Plan(answer=f"I can't call {call.group('tool')}: {args}. Nothing was run.")
        server, _, tool = call.group("tool").partition(".")
        steps.append(PlannedStep(tool=f"{server.lower()}.{tool}", args=args))
    refused = flush()
    return refused if refused is not None else Plan(steps=steps)
