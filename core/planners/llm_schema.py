"""What the model may answer, and how an answer becomes a validated Plan.

The response schema is generated from the tool registry (names, descriptions, input models), in
the form OpenAI's strict structured outputs accept: steps are an `anyOf` of one
`{tool: <name>, args: <that tool's arguments>}` object per tool, every property required,
`additionalProperties: false` everywhere, no defaults, no `oneOf`, no `$ref`. Constraints the
strict subset does not take (lengths, bounds) are left to validation: every answer is checked
against the tools' real input models, so the schema only guides the model and never replaces
the check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal, Union, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from core.errors import InvalidInput
from core.plan import Plan, PlannedStep
from core.references import REFERENCE, check_references
from core.tool import Tool
from core.tools import REGISTRY

MAX_STEPS = 20
SCHEMA_NAME = "crane_plan"
_FORBID = ConfigDict(extra="forbid")
_KEEP = frozenset({"type", "properties", "items", "anyOf", "enum", "description"})
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")

STEPS_HELP = "The tool calls to run, in order. Empty when nothing should be done."
ANSWER_HELP = (
    "Null when there are steps. With no steps: a short question back when the request is "
    "ambiguous, or what you can do when the request is outside these tools."
)


class Refused(Exception):
    """The answer names a tool that exists but not for this requester: nothing runs."""

    def __init__(self, tool: str) -> None:
        super().__init__(tool)
        self.tool = tool


class InvalidPlan(Exception):
    """The model's answer is not a plan Crane can run; `errors` say why, for the re-ask."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _args_model(tool: Tool) -> type[BaseModel]:
    """The input model as the LLM sees it: same fields, all required, references allowed."""
    fields: dict[str, Any] = {}
    for name, info in tool.input_model.model_fields.items():
        annotation: Any = info.annotation
        description = info.description or ""
        if description and not description.endswith("."):
            description += "."
        if name in tool.reference_args:
            if annotation is str:
                description += ' May use "$N" for step N\'s result in this plan.'
            else:
                annotation = annotation | str
                description += ' Or the string "$N": step N\'s result in this plan.'
        fields[name] = (annotation, Field(description=description.strip() or None))
    return create_model(f"{_camel(tool.name)}Args", __config__=_FORBID, **fields)


@cache
def response_model(tools: tuple[Tool, ...]) -> type[BaseModel]:
    """The answer's pydantic model: steps (one object shape per tool) and an answer."""
    shapes = [
        create_model(
            f"{_camel(tool.name)}Step",
            __config__=_FORBID,
            __doc__=tool.description + (" Destructive." if tool.destructive else ""),
            tool=(cast(Any, Literal)[tool.name], ...),
            args=(_args_model(tool), ...),
        )
        for tool in tools
    ]
    step: Any = cast(Any, Union)[tuple(shapes)]
    steps: Any = cast(Any, list)[step]
    return create_model(
        "CranePlan",
        __config__=_FORBID,
        steps=(steps, Field(description=STEPS_HELP)),
        answer=(str | None, Field(description=ANSWER_HELP)),
    )


def _strict(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref") or (
        node["allOf"][0].get("$ref") if len(node.get("allOf", ())) == 1 else None
    )
    if isinstance(ref, str):  # inline: strict mode refuses $ref with sibling keys
        siblings = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
        return _strict({**defs[ref.rsplit("/", 1)[-1]], **siblings}, defs)
    out: dict[str, Any] = {"enum": [node["const"]]} if "const" in node else {}
    for key, value in node.items():
        key = "anyOf" if key == "oneOf" else key
        if key == "properties":
            out[key] = {name: _strict(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out[key] = _strict(value, defs)
        elif key == "anyOf":
            out[key] = [_strict(sub, defs) for sub in value]
        elif key in _KEEP:
            out[key] = value
    if out.get("type") == "object":
        out.setdefault("properties", {})
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


@cache
def strict_schema(tools: tuple[Tool, ...] = tuple(REGISTRY.values())) -> dict[str, Any]:
    """The JSON schema for `response_format={"type": "json_schema", ... "strict": True}`."""
    raw = response_model(tools).model_json_schema()
    defs = raw.pop("$defs", {})
    return _strict(raw, defs)


def with_mcp(base: dict[str, Any], shapes: list[dict[str, Any]]) -> dict[str, Any]:
    """The built-ins' strict schema with these MCP tools' step shapes added to the choices."""
    if not shapes:
        return base
    steps = base["properties"]["steps"]
    items = steps["items"]
    choices = [*items["anyOf"]] if "anyOf" in items else [items]
    new_steps = {**steps, "items": {"anyOf": [*choices, *shapes]}}
    return {**base, "properties": {**base["properties"], "steps": new_steps}}


def _load(content: str) -> Any:
    text = _FENCE.sub("", content.strip())  # JSON and plain modes: models like code fences
    try:
        return json.loads(text)
    except ValueError:
        start, end = text.find("{"), text.rfind("}")
        try:
            return json.loads(text[start : end + 1]) if 0 <= start < end else json.loads(text)
        except ValueError as error:
            raise InvalidPlan([f"the answer is not valid JSON ({error})"]) from None


def _mcp_step(where: str, tool: Tool, raw: Any) -> PlannedStep | list[str]:
    """An MCP tool's step: its arguments (object or JSON string) against its real schema."""
    from core.planners.llm_mcp import arguments

    args = arguments(tool, raw)
    if isinstance(args, str):
        return [f"{where} ({tool.name}): {args}"]
    if tool.check is not None:
        try:
            tool.check(args)
        except InvalidInput as error:
            return [f"{where}: {error}"]
    return PlannedStep(tool=tool.name, args=args)


def _step(
    position: int, raw: Any, tools: Mapping[str, Tool], hidden: frozenset[str] = frozenset()
) -> PlannedStep | list[str]:
    where = f"step {position}"
    if not isinstance(raw, dict) or not isinstance(raw.get("tool"), str):
        return [f'{where}: must be an object {{"tool": ..., "args": {{...}}}}']
    name = raw["tool"]
    if "." in name and name.partition(".")[0].lower() in hidden:
        raise Refused(name)
    tool = tools.get(name)
    if tool is None:
        names = ", ".join(list(tools)[:40]) + (", …" if len(tools) > 40 else "")
        return [f"{where}: unknown tool {name!r} (the tools are: {names})"]
    args = raw.get("args", {})
    extra = sorted(set(raw) - {"tool", "args"})
    if tool.source != "built-in":
        if extra:
            return [f'{where} ({tool.name}): only "tool" and "args" are allowed']
        return _mcp_step(where, tool, args)
    if extra or not isinstance(args, dict):
        return [f'{where} ({tool.name}): only "tool" and an "args" object are allowed']
    refs = {
        name
        for name in tool.reference_args
        if isinstance(args.get(name), str) and REFERENCE.fullmatch(args[name].strip())
    }
    try:
        checked = tool.input_model.model_validate(args)
    except ValidationError as error:
        problems = [e for e in error.errors() if not (e["loc"] and e["loc"][0] in refs)]
        if problems:
            return [
                f"{where} ({tool.name}): {'.'.join(map(str, e['loc'])) or 'args'}: {e['msg']}"
                for e in problems
            ]
        # Only "$N" references failed the type check: they are filled in at run time.
        return PlannedStep(
            tool=tool.name, args={k: v.strip() if k in refs else v for k, v in args.items()}
        )
    return PlannedStep(tool=tool.name, args=checked.model_dump())


def parse_plan(
    content: str, tools: Mapping[str, Tool] = REGISTRY, hidden: frozenset[str] = frozenset()
) -> Plan:
    """The Plan in a model's answer, checked against the registry, or InvalidPlan with reasons;
    Refused if a step names a tool of a server in `hidden` (one the requester may not use)."""
    data = _load(content)
    if not isinstance(data, dict):
        raise InvalidPlan(['the answer must be a JSON object {"steps": [...], "answer": ...}'])
    errors: list[str] = []
    raw_steps, answer = data.get("steps", []), data.get("answer")
    if extra := sorted(set(data) - {"steps", "answer"}):
        errors.append(f"unexpected keys: {', '.join(map(str, extra))}")
    if not isinstance(raw_steps, list):
        errors.append('"steps" must be a list')
        raw_steps = []
    if len(raw_steps) > MAX_STEPS:
        errors.append(f"at most {MAX_STEPS} steps")
    if answer is not None and not isinstance(answer, str):
        errors.append('"answer" must be a string or null')
    steps: list[PlannedStep] = []
    for position, raw in enumerate(raw_steps[:MAX_STEPS], start=1):
        step = _step(position, raw, tools, hidden)
        if isinstance(step, list):
            errors.extend(step)
        else:
            steps.append(step)
    if not errors:
        try:
            check_references(steps, {name: tool.reference_args for name, tool in tools.items()})
        except InvalidInput as error:
            errors.append(str(error))
    text = answer.strip() if isinstance(answer, str) else ""
    if not errors and not steps and not text:
        errors.append('no steps and no answer: propose steps, or say something in "answer"')
    if errors:
        raise InvalidPlan(errors)
    return Plan(steps=steps, answer=None if steps else text, planner="llm")
