"""The one place roasbot reads its configuration from (environment and `.env`).

Lower layers (`storage`, `insights`) never read settings themselves: the adapters in `bot/`
pass the values they need, so those packages stay usable as plain libraries and in tests.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.ingest import Options, WorkbookLimits


class Settings(BaseSettings):
    """Every setting roasbot understands; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite:///roasbot.db",
        description="SQLAlchemy URL of the store. Default: a SQLite file in the working directory.",
    )
    max_upload_mb: float = Field(
        default=1024,
        gt=0,
        description="Largest Slack upload (Slack's own limit is 1 GB); a local file has none.",
    )
    date_order: Literal["dmy", "mdy"] = Field(
        default="dmy",
        description="How to read an ambiguous date such as 03/04/2025 when nothing in the file "
        "settles it: day-first (dmy) or month-first (mdy).",
    )
    earliest_date: dt.date = Field(
        default=dt.date(2000, 1, 1), description="Rows dated before this are rejected."
    )
    latest_date_days_ahead: int = Field(
        default=365,
        ge=0,
        description="Rows dated more than this many days after today are rejected.",
    )
    xlsx_max_unpacked_mb: float = Field(
        default=512, gt=0, description="Largest a workbook may unpack to (checked before reading)."
    )
    xlsx_max_rows: int = Field(default=1_048_576, gt=0, description="Most rows a sheet may hold.")
    xlsx_max_cell_chars: int = Field(
        default=32_767, gt=0, description="Longest text a workbook cell may hold."
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
    baseline_days: int = Field(
        default=56, ge=7, le=366, description="Days before a window its baseline is taken from."
    )
    baseline_min_days: int = Field(
        default=28, ge=7, description="Days of those a brand needs rows on to have a baseline."
    )
    bootstrap_draws: int = Field(
        default=500, ge=100, le=20_000, description="Resamples behind the 90% interval."
    )
    concentration_share: float = Field(
        default=50,
        gt=0,
        le=100,
        description="% of revenue from one segment above which `why` and digests say so.",
    )
    reallocation_cap: float = Field(
        default=20,
        gt=0,
        le=100,
        description="The most a digest recommends moving, in % of the source's spend.",
    )
    holiday_country: str = Field(
        default="IN",
        description="Country (ISO code) whose public holidays anomaly alerts leave out of "
        "their reference weeks; empty for none.",
    )
    fiscal_year_start_month: int = Field(
        default=4,
        ge=1,
        le=12,
        description="The first month of the fiscal year, for questions about 'FY25' or 'Q3'.",
    )
    chart_style: Literal["native", "png"] = Field(
        default="native",
        description="native: breakdowns as Slack table blocks and trends as chart blocks, the "
        "PNG in the thread as the fallback; png: the PNG chart only.",
    )
    currency: str = Field(
        default="INR", description="INR shows ₹ in lakh/crore; USD, EUR, GBP plain thousands."
    )
    charts_dir: str = Field(
        default="roasbot-charts", description="Where `roasbot shell` writes chart PNGs."
    )

    # Slack. Tokens are SecretStr so that no log line or error message can print them.
    slack_bot_token: SecretStr | None = Field(default=None, description="xoxb- bot token.")
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing secret: every HTTP request is checked against it."
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="xapp- app-level token: set it to use Socket Mode."
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Web API base URL (GovSlack, tests)."
    )
    admin_user_ids: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), description="Who may load data (empty: everyone)."
    )
    upload_channel_ids: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), description="Channels where uploads are loaded (empty: any)."
    )

    # Scheduled insights.
    alert_check_cron: str = Field(
        default="0 * * * *", description="When alert rules are evaluated (crontab, TIMEZONE)."
    )
    alert_repeat_hours: float = Field(
        default=24, gt=0, description="Hours before a still-firing alert is posted again."
    )
    roas_alert_threshold: float | None = Field(
        default=None, description="With ALERT_CHANNEL_ID: a default rule roas < this, 7 days."
    )
    alert_channel_id: str | None = Field(default=None, description="Channel of the default rule.")
    scheduler_lease_seconds: float = Field(
        default=120,
        ge=1,
        description="How long a digest run's claim lasts unless its scheduler renews it.",
    )
    misfire_grace_hours: float = Field(
        default=6, gt=0, description="How late a missed digest may still be posted."
    )

    @field_validator("alert_check_cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a crontab expression: {exc}") from exc
        return value

    @field_validator("admin_user_ids", "upload_channel_ids", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(v.strip() for v in value.split(",") if v.strip())
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    def ingest_options(self, kind: str | None = None) -> Options:
        """How `storage.ingest` reads files under these settings (`kind` forces the kind)."""
        today = dt.datetime.now(ZoneInfo(self.timezone)).date()
        return Options(
            kind=kind,
            max_upload_mb=self.max_upload_mb,
            date_order=self.date_order,
            earliest_date=self.earliest_date,
            latest_date=today + dt.timedelta(days=self.latest_date_days_ahead),
            workbook=WorkbookLimits(
                max_unpacked_mb=self.xlsx_max_unpacked_mb,
                max_rows=self.xlsx_max_rows,
                max_cell_chars=self.xlsx_max_cell_chars,
            ),
        )

    def missing_slack_settings(self) -> list[str]:
        """What `roasbot serve` still needs, by setting name (never the values)."""
        missing = [] if self.slack_bot_token else ["SLACK_BOT_TOKEN"]
        if not self.slack_app_token and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)")
        return missing

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

    @field_validator("holiday_country")
    @classmethod
    def _holiday_country(cls, value: str) -> str:
        import holidays

        code = value.strip().upper()
        if code and code not in holidays.list_supported_countries():
            raise ValueError(f"'{value}' is not a country the holidays package knows (e.g. IN)")
        return code

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
