"""A tool listed by an MCP server as a Crane `Tool` named `NAME.tool`: arguments checked
against its input schema (jsonschema), approval unless its server is trusted and it says it
only reads, its output data (shown and stored, never read as instructions), capped in size."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT, CallToolResult
from mcp.types import Tool as Listed
from pydantic import RootModel, model_validator

from core.errors import InvalidInput, ToolError
from core.mcp import GONE
from core.mcp.config import ServerConfig
from core.mcp.session import Changed, Session
from core.plan import ToolResult
from core.references import REFERENCE
from core.tool import Preview, Tool, ToolContext

log = logging.getLogger("crane.mcp")
MAX_OUTPUT_CHARS = 20_000  # a result over this is stored and shown truncated, with a note

Call = Callable[[str, str, dict[str, Any], dict[str, Any], float, bool], CallToolResult]


def _message(schema: dict[str, Any], instance: dict[str, Any]) -> str | None:
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def _arguments_model(schema: dict[str, Any]) -> type[RootModel[dict[str, Any]]]:
    class Arguments(RootModel[dict[str, Any]]):
        @model_validator(mode="after")
        def _matches_schema(self) -> Arguments:
            message = _message(schema, self.root)
            if message is not None:
                raise ValueError(message)
            return self

    return Arguments


def _check(name: str, schema: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """The planned arguments against the schema; a whole `$N` is known only when step N has
    run, so it is left out (and not required) here and checked at execution."""

    def check(args: dict[str, Any]) -> None:
        later = {k for k, v in args.items() if isinstance(v, str) and REFERENCE.fullmatch(v)}
        known = {k: v for k, v in args.items() if k not in later}
        required = [k for k in schema.get("required", []) if k not in later]
        message = _message({**schema, "required": required}, known)
        if message is not None:
            raise InvalidInput(f"{name}: invalid arguments — {message}")

    return check


def _result(name: str, result: CallToolResult) -> ToolResult:
    parts = []
    for block in result.content:
        text = getattr(block, "text", None)
        parts.append(text if isinstance(text, str) else f"[{block.type}]")
    text = "\n".join(parts)
    if result.is_error:
        raise ToolError(_cap(text, 500) or f"{name} reported an error")
    structured: Any = result.structured_content
    if structured is not None and len(json.dumps(structured)) > MAX_OUTPUT_CHARS:
        structured = None  # too big to keep whole: later steps get the (truncated) text
    if not text and structured is not None:
        text = json.dumps(structured, ensure_ascii=False)
    return ToolResult(text=_cap(text, MAX_OUTPUT_CHARS), value=structured or _cap(text, 4000))


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… (truncated: {len(text):,} characters in all, {limit:,} shown)"


def as_tool(server: str, config: ServerConfig, listed: Listed, call: Call) -> Tool:
    name = f"{server}.{listed.name}"
    notes = listed.annotations
    trusted = config.trust_annotations and notes is not None
    read_only = bool(trusted and notes and notes.read_only_hint)
    idempotent = bool(trusted and notes and notes.idempotent_hint)
    schema = dict(listed.input_schema or {"type": "object"})

    def function(args: RootModel[dict[str, Any]], context: ToolContext) -> ToolResult:
        scope = context.scope
        meta = {"crane/slack_team_id": scope.team_id, "crane/slack_user_id": scope.user_id}
        try:
            result = call(server, listed.name, args.root, meta, config.timeout_s, read_only)
        except LookupError:
            raise ToolError(GONE) from None
        except Changed:
            raise ToolError(
                f"{name} no longer says it only reads: ask again to approve it"
            ) from None
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                raise ToolError(f"{name} timed out after {config.timeout_s:g}s") from None
            if error.code == CONNECTION_CLOSED:
                raise ToolError(f"{name} failed: the server {server} is not reachable") from None
            log.warning("mcp call %s: protocol error %s", name, error.code)
            raise ToolError(f"{name} failed: the server answered with an error") from None
        except TimeoutError:
            raise ToolError(f"{name} timed out after {config.timeout_s:g}s") from None
        except Exception as error:
            log.warning("mcp call %s: %s", name, type(error).__name__)
            raise ToolError(f"{name} failed: the server {server} is not reachable") from None
        return _result(name, result)

    def preview(args: RootModel[dict[str, Any]], _: ToolContext) -> Preview:
        shown = json.dumps(args.root, ensure_ascii=False)
        return Preview(f"Run {name} {_cap(shown, 300)}?")

    return Tool(
        name=name,
        input_model=_arguments_model(schema),
        function=function,
        description=(listed.description or listed.title or "").strip(),
        destructive=not read_only,
        reference_args=("*",),
        private_output=not config.public_output,
        preview=preview,
        source=server,
        schema=schema,
        check=_check(name, schema),
        repeatable=read_only or idempotent,
    )


def listed_tools(server: str, config: ServerConfig, session: Session, call: Call) -> list[Tool]:
    return [as_tool(server, config, listed, call) for listed in session.tools.values()]
