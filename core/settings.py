"""Every knob is one environment variable (also documented in README and .env.example)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
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
