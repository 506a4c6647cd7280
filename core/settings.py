"""Every knob is one environment variable (also documented in README and .env.example)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import InvalidInput
from core.limits import Limits
from core.ratelimit import parse_limits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # a file path (SQLite) or a postgresql:// / postgres:// URL (PostgreSQL)
    db: str = Field(default="crane.db", validation_alias="CRANE_DB")
    db_pool_size: int = Field(default=8, ge=1, le=1000, validation_alias="CRANE_DB_POOL_SIZE")
    retry_attempts: int = Field(default=4, ge=1, le=10, validation_alias="CRANE_RETRY_ATTEMPTS")
    retry_base_s: float = Field(default=1.0, ge=0, le=60, validation_alias="CRANE_RETRY_BASE_S")
    planner: str = Field(
        default="auto", pattern="^(auto|pattern|llm)$", validation_alias="CRANE_PLANNER"
    )
    # The LLM planner (core/planners/llm.py). OPENAI_BASE_URL: any OpenAI-compatible server.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    model: str = Field(default="gpt-4o-mini", min_length=1, validation_alias="CRANE_MODEL")
    llm_timeout: float = Field(default=10.0, gt=0, le=600, validation_alias="CRANE_LLM_TIMEOUT")
    llm_budget: float = Field(default=20.0, gt=0, le=3600, validation_alias="CRANE_LLM_BUDGET")
    llm_breaker_failures: int = Field(
        default=3, ge=1, le=1000, validation_alias="CRANE_LLM_BREAKER_FAILURES"
    )
    llm_breaker_cooldown_s: float = Field(
        default=60.0, ge=0, le=86400, validation_alias="CRANE_LLM_BREAKER_COOLDOWN_S"
    )
    # MCP tools sent to the model per request: at most this many, their step schemas at most
    # this many bytes in all (core/planners/llm_mcp.py chooses which, deterministically)
    llm_mcp_tools: int = Field(default=40, ge=0, le=1000, validation_alias="CRANE_LLM_MCP_TOOLS")
    llm_mcp_schema_bytes: int = Field(
        default=32_000, ge=0, le=1_000_000, validation_alias="CRANE_LLM_MCP_SCHEMA_BYTES"
    )
    host: str = Field(default="127.0.0.1", validation_alias="CRANE_HOST")
    port: int = Field(default=3000, ge=0, le=65535, validation_alias=AliasChoices("PORT"))
    workers: int = Field(default=4, ge=1, le=64, validation_alias="CRANE_WORKERS")
    queue_limit: int = Field(default=100, ge=1, le=10000, validation_alias="CRANE_QUEUE_LIMIT")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=64 * 1024 * 1024, validation_alias="CRANE_MAX_BODY_BYTES"
    )
    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    # OAuth mode (install into many workspaces): instead of SLACK_BOT_TOKEN, never with it.
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    slack_redirect_uri: str | None = Field(default=None, validation_alias="SLACK_REDIRECT_URI")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_streaming: str = Field(
        default="auto", pattern="^(auto|dm|off)$", validation_alias="CRANE_SLACK_STREAMING"
    )
    # e.g. chat.update=50/min,chat.postMessage=60/min: replaces those methods' default budgets
    slack_rate_limits: str | None = Field(default=None, validation_alias="CRANE_SLACK_RATE_LIMITS")

    approval_ttl_s: int = Field(
        default=86400, ge=1, le=30 * 86400, validation_alias="CRANE_APPROVAL_TTL_S"
    )
    api_tokens: str | None = Field(default=None, validation_alias="CRANE_API_TOKENS")
    # how long a run's executor may go silent before another process takes the run over
    lease_s: float = Field(default=15.0, ge=1, le=3600, validation_alias="CRANE_LEASE_S")
    # tools from MCP servers: a JSON file {"mcpServers": {NAME: {...}}} (core/mcp/config.py)
    mcp_config: str | None = Field(default=None, validation_alias="CRANE_MCP_CONFIG")
    # the longest an MCP server's tool list is used before it is listed again (core/mcp/session.py)
    mcp_tools_ttl_s: float = Field(
        default=300.0, gt=0, le=86400, validation_alias="CRANE_MCP_TOOLS_TTL_S"
    )
    shutdown_timeout_s: float = Field(
        default=10.0, ge=0, le=600, validation_alias="CRANE_SHUTDOWN_TIMEOUT_S"
    )
    # usage limits (core.limits), off unless set: runs per user, tokens per user, USD per workspace
    limit_runs_per_minute: int | None = Field(
        default=None, ge=1, le=1_000_000, validation_alias="CRANE_LIMIT_RUNS_PER_MINUTE"
    )
    limit_runs_per_day: int | None = Field(
        default=None, ge=1, le=100_000_000, validation_alias="CRANE_LIMIT_RUNS_PER_DAY"
    )
    limit_tokens_per_day: int | None = Field(
        default=None, ge=1, validation_alias="CRANE_LIMIT_TOKENS_PER_DAY"
    )
    limit_cost_per_day_usd: float | None = Field(
        default=None, gt=0, le=1_000_000, validation_alias="CRANE_LIMIT_COST_PER_DAY_USD"
    )

    # traces (core.tracing): the standard OpenTelemetry variables Crane reads itself; the SDK
    # reads the rest (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, OTEL_TRACES_SAMPLER, OTEL_BSP_*, …)
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    otel_exporter_otlp_protocol: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_PROTOCOL"
    )
    otel_exporter_otlp_traces_protocol: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
    )
    otel_traces_exporter: str | None = Field(default=None, validation_alias="OTEL_TRACES_EXPORTER")
    otel_sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")
    otel_service_name: str = Field(
        default="crane", min_length=1, validation_alias="OTEL_SERVICE_NAME"
    )
    otel_genai_capture_content: bool = Field(
        default=False, validation_alias="OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
    )
    # request text and tool output as span attributes
    trace_content: bool = Field(default=False, validation_alias="CRANE_TRACE_CONTENT")

    @field_validator(
        "openai_api_key", "openai_base_url", "slack_bot_token", "slack_client_id", "mcp_config",
        "slack_client_secret", "slack_redirect_uri", "limit_runs_per_minute",
        "limit_runs_per_day", "limit_tokens_per_day", "limit_cost_per_day_usd",
        "otel_exporter_otlp_endpoint", "otel_exporter_otlp_traces_endpoint",
        "otel_exporter_otlp_protocol", "otel_exporter_otlp_traces_protocol",
        "otel_traces_exporter", mode="before",
    )  # fmt: skip
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_rate_limits")
    @classmethod
    def _rate_limits(cls, text: str | None) -> str | None:
        try:
            parse_limits(text or "")
        except InvalidInput as error:
            raise ValueError(str(error)) from None
        return text

    @field_validator(
        "otel_sdk_disabled", "otel_genai_capture_content", "trace_content", mode="before"
    )
    @classmethod
    def _empty_is_false(cls, value: object) -> object:
        return False if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, url: str) -> str:
        return url if url.endswith("/") else url + "/"

    @property
    def limits(self) -> Limits:
        return Limits(self.limit_runs_per_minute, self.limit_runs_per_day,
                      self.limit_tokens_per_day, self.limit_cost_per_day_usd)  # fmt: skip

    @property
    def slack_oauth(self) -> bool:
        """OAuth mode: installs into many workspaces, one bot token each, kept in the database."""
        return bool(self.slack_client_id or self.slack_client_secret)

    def slack_mode_conflict(self) -> str | None:
        """Why the Slack settings mix the two modes, if they do (start-up refuses them)."""
        if self.slack_oauth and self.slack_bot_token:
            return ("SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are both set: "
                    "run in one workspace with a bot token or install through OAuth — "
                    "unset one of them")  # fmt: skip
        return None

    def missing_slack(self) -> list[str]:
        """The Slack settings the HTTP endpoint cannot work without."""
        needed: dict[str, str | None] = {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if self.slack_oauth:
            needed = {"SLACK_CLIENT_ID": self.slack_client_id,
                      "SLACK_CLIENT_SECRET": self.slack_client_secret}  # fmt: skip
        if not self.slack_app_token:
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [name for name, value in needed.items() if not value]


def malformed(error: ValidationError) -> str:
    """A settings error in one line: the variable, what is wrong, what it was."""
    first = error.errors()[0]
    name = ".".join(str(part) for part in first["loc"]) or "a setting"
    given = first.get("input")
    return (
        f"{name}: {first['msg']} (got {given!r})"
        if isinstance(given, str)
        else f"{name}: {first['msg']}"
    )
