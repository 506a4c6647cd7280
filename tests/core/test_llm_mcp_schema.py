"""MCP input schemas as the LLM planner sends them: the strict form only where nothing is lost,
the arguments made back into what the server expects, and the per-request budget."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import RootModel

from core.planners.llm_mcp import arguments, choose, strict_form
from core.tool import Tool

NULL = {"type": "null"}
KEYWORDS = [
    "type",
    "properties",
    "required",
    "items",
    "anyOf",
    "oneOf",
    "enum",
    "const",
    "$ref",
    "$defs",
    "default",
    "additionalProperties",
    "object",
    "string",
    "#/$defs/a",
    "a",
]
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}},
    "required": ["name", "email"],
}


def mcp_tool(name: str, schema: dict[str, Any], description: str = "") -> Tool:
    return Tool(name=name, input_model=RootModel[dict[str, Any]], function=lambda *_: None,
                description=description, source=name.partition(".")[0], schema=schema)  # fmt: skip


def test_a_ref_is_inlined_and_a_const_becomes_an_enum() -> None:
    schema = {
        "type": "object",
        "$defs": {"Person": PERSON},
        "properties": {"owner": {"$ref": "#/$defs/Person"}, "kind": {"const": "bug"}},
        "required": ["owner", "kind"],
    }
    strict = strict_form(schema)
    assert strict is not None
    assert strict["properties"]["owner"]["properties"]["email"]["format"] == "email"
    assert strict["properties"]["kind"] == {"enum": ["bug"]}
    assert "$ref" not in json.dumps(strict)


def test_an_optional_property_is_required_but_nullable_and_its_default_described() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "default": 5}}}
    strict = strict_form(schema)
    assert strict == {
        "type": "object",
        "properties": {"n": {"anyOf": [{"type": "integer", "description": "Default: 5."}, NULL]}},
        "required": ["n"],
        "additionalProperties": False,
    }
    tool = mcp_tool("s.t", schema)
    assert arguments(tool, {"n": None}) == {}  # a null for "absent": the server's default


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "object",
            "properties": {"x": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
        },
        {"type": "object", "properties": {"x": {"type": "string", "minLength": 2}}},
        {"type": "object", "properties": {"x": {"type": "array", "uniqueItems": True}}},
        {"type": "object", "properties": {"x": {"type": "object"}}},  # free-form
        {"type": "object", "properties": {"x": {}}},  # any value
        {
            "type": "object",
            "properties": {"x": {"$ref": "#/$defs/N"}},
            "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}},
        },
        {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
    ],
    ids=["oneOf", "minLength", "uniqueItems", "free-form", "any", "recursive", "open-map"],
)
def test_a_schema_the_strict_subset_cannot_say_exactly_goes_as_a_json_string(
    schema: dict[str, Any],
) -> None:
    assert strict_form(schema) is None


def test_arguments_come_as_an_object_or_a_json_encoded_string() -> None:
    tool = mcp_tool("s.t", {"type": "object", "properties": {"a": {"type": "array"}}})
    assert arguments(tool, '{"a": [1, 2]}') == {"a": [1, 2]}
    assert arguments(tool, {"a": [1]}) == {"a": [1]}
    assert "not a valid JSON-encoded object" in str(arguments(tool, "{a: 1"))
    assert "must be a JSON object" in str(arguments(tool, "[1]"))


def test_the_budget_takes_tools_named_or_described_in_the_request_first_then_by_name() -> None:
    small = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    tools = [mcp_tool(f"srv.t{i:02}", small, f"tool number {i}") for i in range(30)]
    tools.append(mcp_tool("jira.search", small, "Search tickets"))
    picked = [o.tool.name for o in choose(tools, "search the tickets, then srv.t17", 3, 10_000)]
    assert picked == ["srv.t17", "jira.search", "srv.t00"]
    assert [o.tool.name for o in choose(reversed(tools), "search the tickets, then srv.t17",
                                        3, 10_000)] == picked  # fmt: skip
    one = choose(tools, "", 100, 0)
    assert one == []  # no bytes left: no MCP tool at all
    sizes = [o.size for o in choose(tools, "", 100, 1000)]
    assert sum(sizes) <= 1000 and sizes


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(KEYWORDS) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYWORDS) | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(schema=st.dictionaries(st.sampled_from(KEYWORDS), JSON, max_size=5), args=JSON)
def test_any_schema_and_answer_from_a_server_or_model_never_crash_the_planner(
    schema: dict[str, Any], args: Any
) -> None:
    strict = strict_form(schema)
    assert strict is None or strict["type"] == "object"
    tool = mcp_tool("s.t", schema)
    assert isinstance(arguments(tool, args), dict | str)
    offered = choose([tool], "t", 5, 100_000)
    assert len(offered) <= 1
