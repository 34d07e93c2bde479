"""The one place roasbot reads its configuration from (environment and `.env`).

Lower layers (`storage`, `insights`) never read settings themselves: the adapters in `bot/`
pass the values they need, so those packages stay usable as plain libraries and in tests.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting roasbot understands; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite:///roasbot.db",
        description="SQLAlchemy URL of the store. Default: a SQLite file in the working directory.",
    )
    max_upload_mb: float = Field(default=50, gt=0, description="Largest file ingest accepts.")
    date_order: Literal["dmy", "mdy"] = Field(
        default="dmy",
        description="How to read an ambiguous date such as 03/04/2025 when nothing in the file "
        "settles it: day-first (dmy) or month-first (mdy).",
    )
    timezone: str = Field(
        default="Asia/Kolkata", description="IANA zone that 'today' and 'yesterday' are taken in."
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process; tests build `Settings(...)` directly instead."""
    return Settings()
