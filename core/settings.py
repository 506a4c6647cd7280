"""Every knob is one environment variable (also documented in README and .env.example)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    db: str = Field(default="crane.db", validation_alias="CRANE_DB")
    retry_attempts: int = Field(default=4, ge=1, le=10, validation_alias="CRANE_RETRY_ATTEMPTS")
    retry_base_s: float = Field(default=1.0, ge=0, le=60, validation_alias="CRANE_RETRY_BASE_S")
    planner: str = Field(
        default="auto", pattern="^(auto|pattern|llm)$", validation_alias="CRANE_PLANNER"
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
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_streaming: str = Field(
        default="auto", pattern="^(auto|off)$", validation_alias="CRANE_SLACK_STREAMING"
    )

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, url: str) -> str:
        return url if url.endswith("/") else url + "/"

    def missing_slack(self) -> list[str]:
        """The Slack settings the HTTP endpoint cannot work without."""
        needed = {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if not self.slack_app_token:
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [name for name, value in needed.items() if not value]
