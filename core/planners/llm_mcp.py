"""MCP tools in the LLM planner's response schema: the strict form of each tool's input schema
where the reduction loses nothing, else its arguments as one JSON-encoded string; which tools fit
the per-request budget; and the model's arguments made back into what the server expects.

Lossless means every argument object valid against the real schema has exactly one strict form
and back: an optional property becomes required-but-nullable (a null is dropped again before the
check), a default moves into the description (absent still means "the server's default"), a
non-recursive `$ref` is inlined, `const` becomes a one-value `enum`. Anything else — `oneOf`,
`allOf`, `not`, recursion, free-form objects, keywords strict mode does not take (`minLength`,
`uniqueItems`, …), optional properties under an `anyOf`, nesting past strict mode's limit —
sends that tool's arguments as a string. Either way they are checked against the real schema
(jsonschema, the tool's own `check`) before any step runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.tool import Tool

MAX_DEPTH = 10  # strict structured outputs nest objects at most this deep
# keywords strict mode takes as they are (OpenAI's supported subset), besides the structure
_PASS = frozenset({"description", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
                   "exclusiveMaximum", "multipleOf", "minItems", "maxItems"})  # fmt: skip
_DROP = frozenset({"title", "$schema", "examples", "$comment"})  # annotations only
_STRUCTURE = frozenset({"type", "properties", "required", "items", "enum", "const", "anyOf",
                        "additionalProperties", "$ref", "$defs", "definitions",
                        "default"})  # fmt: skip
_WORD = re.compile(r"[a-z0-9]{3,}")
STRING_HELP = (
    "The arguments: ONE JSON object encoded as a string (not an object), valid against this "
    "JSON schema: "
)


class Lossy(Exception):
    """The strict subset cannot say this schema exactly."""


@dataclass(frozen=True)
class Offered:
    """One MCP tool as sent: its step shape in the response schema, and its size in bytes."""

    tool: Tool
    strict: bool
    shape: dict[str, Any]
    size: int


def _reduce(node: Any, defs: dict[str, Any], depth: int, seen: tuple[str, ...], in_any: bool
            ) -> dict[str, Any]:  # fmt: skip
    if not isinstance(node, dict) or depth > MAX_DEPTH:
        raise Lossy
    if "$ref" in node:
        ref = node["$ref"]
        name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None
        if name is None or name in seen or name not in defs or not ref.startswith("#/"):
            raise Lossy  # recursive, or pointing outside this schema
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _reduce({**defs[name], **rest}, defs, depth, (*seen, name), in_any)
    if unknown := set(node) - _PASS - _DROP - _STRUCTURE:
        raise Lossy(sorted(unknown))
    if not {"type", "enum", "const", "anyOf", "properties"} & set(node):
        raise Lossy  # any value at all: strict mode has no way to say it
    out: dict[str, Any] = {k: v for k, v in node.items() if k in _PASS}
    if "default" in node:
        note = f"Default: {json.dumps(node['default'])}."
        out["description"] = f"{out.get('description', '').rstrip()} {note}".strip()
    if "const" in node:
        out["enum"] = [node["const"]]
    if "enum" in node:
        out["enum"] = node["enum"]
    if "type" in node:
        out["type"] = node["type"]
    if "anyOf" in node:
        out["anyOf"] = [_reduce(sub, defs, depth + 1, seen, True) for sub in node["anyOf"]]
    if "items" in node:
        out["items"] = _reduce(node["items"], defs, depth + 1, seen, in_any)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties", False)
        if extra is not False or (not properties and depth > 0):
            raise Lossy  # a free-form object: strict mode would forbid every key
        required = set(node.get("required", []))
        optional = set(properties) - required
        if optional and in_any:
            raise Lossy  # which branch a dropped null came from would be a guess
        reduced = {}
        for name, sub in properties.items():
            strict = _reduce(sub, defs, depth + 1, seen, in_any)
            if name in optional and not _nullable(strict):
                strict = {"anyOf": [strict, {"type": "null"}]}
            reduced[name] = strict
        out.update(type="object", properties=reduced, required=list(reduced),
                   additionalProperties=False)  # fmt: skip
    elif "required" in node or "additionalProperties" in node:
        raise Lossy
    return out


def _nullable(schema: Any, depth: int = 0) -> bool:
    if not isinstance(schema, dict) or depth > MAX_DEPTH * 2:
        return False
    kind, enum, choices = schema.get("type"), schema.get("enum"), schema.get("anyOf")
    return (
        kind == "null"
        or (isinstance(kind, list) and "null" in kind)
        or (isinstance(choices, list) and any(_nullable(sub, depth + 1) for sub in choices))
        or (isinstance(enum, list) and None in enum)
    )


def strict_form(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The strict form of an MCP input schema, or None when it would lose something."""
    root = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
    if root.get("type", "object") != "object":
        return None
    try:
        defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
        return _reduce({**root, "type": "object"}, defs, 0, (), False)
    except (Lossy, TypeError, AttributeError, ValueError, RecursionError):
        return None  # not a schema this reduction understands: the string form says it whole


def _offer(tool: Tool) -> Offered:
    schema = tool.json_schema()
    strict = strict_form(schema)
    description = tool.description + (" Needs the user's approval." if tool.destructive else "")
    args: dict[str, Any] = strict if strict is not None else {
        "type": "string",
        "description": STRING_HELP + json.dumps(schema, separators=(",", ":")),
    }  # fmt: skip
    shape = {
        "type": "object",
        "description": description.strip(),
        "properties": {"tool": {"type": "string", "enum": [tool.name]}, "args": args},
        "required": ["tool", "args"],
        "additionalProperties": False,
    }
    size = len(json.dumps(shape, separators=(",", ":")).encode())
    return Offered(tool, strict is not None, shape, size)


_OFFERS: dict[int, Offered] = {}


def offer(tool: Tool) -> Offered:
    """`_offer`, memoised per Tool object: the toolbox makes a server's tools once per listing,
    so a new listing makes new ones (an entry is used only for the very object it was made of)."""
    found = _OFFERS.get(id(tool))
    if found is None or found.tool is not tool:
        if len(_OFFERS) > 4096:
            _OFFERS.clear()
        found = _OFFERS[id(tool)] = _offer(tool)
    return found


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def choose(tools: Iterable[Tool], request: str, max_tools: int, max_bytes: int) -> list[Offered]:
    """The MCP tools sent with this request, within the budget: ranked by the request's words
    found in the tool's name and description (a tool named in full first), ties by name; taken
    in that order while under `max_tools`, each one that fits the remaining `max_bytes`."""
    asked = _words(request)
    lowered = request.lower()

    def rank(tool: Tool) -> tuple[int, str]:
        named = 1000 if tool.name.lower() in lowered else 0
        return (-(named + len(asked & _words(f"{tool.name} {tool.description}"))), tool.name)

    chosen: list[Offered] = []
    left = max_bytes
    for tool in sorted(tools, key=rank):
        if len(chosen) >= max_tools:
            break
        offered = offer(tool)
        if offered.size <= left:
            chosen.append(offered)
            left -= offered.size
    return chosen


def _drop_nulls(value: Any, schema: Any, defs: dict[str, Any], seen: int = 0) -> Any:
    """The model's arguments with the nulls standing for "absent" removed (strict form)."""
    if not isinstance(schema, dict) or seen > MAX_DEPTH * 2:
        return value
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in defs:
        return _drop_nulls(value, defs[ref.rsplit("/", 1)[-1]], defs, seen + 1)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        required = set(schema.get("required", []))
        properties = schema["properties"]
        return {
            key: _drop_nulls(item, properties.get(key), defs, seen + 1)
            for key, item in value.items()
            if not (item is None and key in properties and key not in required
                    and not _accepts_null(properties[key], defs, seen))
        }  # fmt: skip
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_drop_nulls(item, schema["items"], defs, seen + 1) for item in value]
    return value


def _accepts_null(schema: Any, defs: dict[str, Any], seen: int = 0) -> bool:
    if not isinstance(schema, dict) or seen > MAX_DEPTH * 2:
        return True  # unsure: the null is kept, and the schema check decides
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in defs:
        return _accepts_null(defs[ref.rsplit("/", 1)[-1]], defs, seen + 1)
    return _nullable(schema) or not ({"type", "enum", "const", "anyOf"} & set(schema))


def arguments(tool: Tool, raw: Any) -> dict[str, Any] | str:
    """The arguments an MCP tool's step carries, from an object or a JSON-encoded string, or
    why they cannot be read. Not yet checked against the schema (the tool's `check` does)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError as error:
            return f"args is not a valid JSON-encoded object ({error})"
    if not isinstance(raw, dict):
        return "args must be a JSON object (or one encoded as a string)"
    schema = tool.json_schema()
    try:
        defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
        cleaned: dict[str, Any] = _drop_nulls(raw, schema, defs)
    except (TypeError, AttributeError, ValueError, RecursionError):
        return raw  # a schema too odd to walk: kept as the model wrote it, then checked
    return cleaned
