"""CRANE_MCP_CONFIG: the `{"mcpServers": {NAME: {...}}}` file MCP clients already use, plus
Crane's own optional keys per server. Refused whole, in one line naming the file and the key,
when it is not valid JSON or has a key nobody reads (a typo would otherwise go unnoticed).

`${VAR}` in `env` and `headers` is read from the environment only when the server is started,
so secrets stay out of the file, and a missing variable downs that server, not the others."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import InvalidInput

NAME = re.compile(r"[a-z0-9_-]+")
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(InvalidInput):
    """The MCP configuration cannot be used: `crane serve` and `crane ask` exit 2."""


class MissingVariable(Exception):
    """A `${VAR}` whose variable is not set (its name only: the value is a secret)."""


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["stdio", "http", "streamable-http", "sse"] | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # Crane's own: annotations from an untrusted server mean nothing (the protocol says so)
    trust_annotations: bool = False
    timeout_s: float = Field(default=30.0, gt=0, le=3600)
    allowed_workspaces: list[str] | None = None  # team ids; None: every workspace
    allowed_users: list[str] | None = None  # user ids; None: everyone
    public_output: bool = False

    @model_validator(mode="after")
    def _one_transport(self) -> ServerConfig:
        if self.type == "sse":
            raise ValueError("the sse transport is not supported: use streamable HTTP")
        if (self.command is None) == (self.url is None):
            raise ValueError('needs either "command" (stdio) or "url" (streamable HTTP)')
        if self.type == "stdio" and self.command is None:
            raise ValueError('"type": "stdio" needs "command"')
        if self.type in ("http", "streamable-http") and self.url is None:
            raise ValueError(f'"type": "{self.type}" needs "url"')
        return self

    @property
    def stdio(self) -> bool:
        return self.command is not None

    def allows(self, team_id: str, user_id: str) -> bool:
        """Whether this server's tools exist at all for this requester."""
        if self.allowed_workspaces is not None and team_id not in self.allowed_workspaces:
            return False
        return self.allowed_users is None or user_id in self.allowed_users

    def expanded_env(self) -> dict[str, str]:
        return {key: expand(value) for key, value in self.env.items()}

    def expanded_headers(self) -> dict[str, str]:
        return {key: expand(value) for key, value in self.headers.items()}


class McpFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mcpServers: dict[str, ServerConfig] = Field(default_factory=dict)


def expand(value: str) -> str:
    """`${VAR}` replaced by the environment's value; MissingVariable names an unset one."""

    def value_of(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None:
            raise MissingVariable(match.group(1))
        return found

    return VARIABLE.sub(value_of, value)


def load(path: str) -> dict[str, ServerConfig]:
    """The servers configured in `path`, by name; ConfigError in one line otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None
    try:
        servers = McpFile.model_validate(data).mcpServers
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{path}: {where}: {message}") from None
    for name in servers:
        if not NAME.fullmatch(name):
            raise ConfigError(f"{path}: mcpServers.{name}: a name is [a-z0-9_-]+")
    return servers
