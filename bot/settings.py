"""The one place roasbot reads its configuration from (environment and `.env`).

Lower layers (`storage`, `insights`) never read settings themselves: the adapters in `bot/`
pass the values they need, so those packages stay usable as plain libraries and in tests.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    roas_target: float = Field(
        default=1.0, ge=0, description="ROAS below which an influencer underperforms."
    )
    underperformer_min_spend: float = Field(
        default=0, ge=0, description="Spend an influencer needs before being called out."
    )
    persona_min_influencers: int = Field(
        default=2, ge=1, description="Influencers a persona needs to be ranked."
    )
    persona_min_spend: float = Field(default=0, ge=0, description="Spend a persona needs.")
    tier_boundaries: Annotated[tuple[int, int, int, int], NoDecode] = Field(
        default=(10_000, 50_000, 500_000, 1_000_000),
        description="Follower counts where micro, mid, macro and mega start.",
    )
    currency: str = Field(
        default="INR", description="INR shows ₹ in lakh/crore; USD, EUR, GBP plain thousands."
    )
    charts_dir: str = Field(
        default="roasbot-charts", description="Where `roasbot shell` writes chart PNGs."
    )

    @field_validator("tier_boundaries", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("["):
            return tuple(int(v) for v in value.replace("_", "").split(","))
        return value

    @field_validator("tier_boundaries")
    @classmethod
    def _ascending(cls, value: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        if list(value) != sorted(set(value)):
            raise ValueError("tier boundaries must be four increasing follower counts")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}' (use an IANA name)") from exc
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process; tests build `Settings(...)` directly instead."""
    return Settings()
