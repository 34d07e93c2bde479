"""Typed answers: what every adapter (Slack, console, CLI) renders, none of them computes."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import pandas as pd


@dataclass
class Metrics:
    """Figures for one scope or one breakdown row. None means undefined, never zero."""

    revenue: float = 0.0  # attributed
    cost: float = 0.0
    orders: int = 0
    roas: float | None = None
    incremental_roas: float | None = None
    incremental_revenue: float | None = None
    cpa: float | None = None
    engagement_rate: float | None = None
    posts: int | None = None
    influencers: int | None = None

    def finish(self) -> Metrics:
        """Ratios from sums, after the sums are final: a ratio of sums, never a mean of ratios."""
        self.roas = self.revenue / self.cost if self.cost > 0 else None
        self.cpa = self.cost / self.orders if self.cost > 0 and self.orders > 0 else None
        if self.incremental_revenue is not None and self.cost > 0:
            self.incremental_roas = self.incremental_revenue / self.cost
        else:
            self.incremental_roas = None
        return self


@dataclass
class Row(Metrics):
    key: str = ""
    label: str = ""
    wasted_spend: float | None = None  # underperformers: cost - revenue


@dataclass
class Totals(Metrics):
    baseline_revenue: float | None = None  # baseline_daily x days of the window
    baseline_daily: float | None = None
    baseline_source: str | None = None  # "pre-period", "quiet days in window", None


@dataclass
class Answer:
    command: str
    filters: dict[str, list[str]]
    window_from: dt.date | None
    window_to: dt.date | None
    totals: Totals
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by: str | None = None
    title: str = ""
    subject: dict | None = None  # the influencer of an `influencer` answer
    charts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON shape of `roasbot ask --json`."""
        totals = _numbers(asdict(self.totals))
        totals.pop("posts", None)
        totals.pop("incremental_revenue", None)
        out = {
            "command": self.command,
            "filters": self.filters,
            "window": {
                "from": self.window_from.isoformat() if self.window_from else None,
                "to": self.window_to.isoformat() if self.window_to else None,
            },
            "totals": {**totals, "posts": self.totals.posts},
            "rows": [_numbers(asdict(r)) for r in self.rows],
            "notes": self.notes,
            "charts": self.charts,
        }
        if self.by:
            out["by"] = self.by
        if self.subject:
            out["influencer"] = self.subject
        return out

    def rows_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(r) for r in self.rows])


def _numbers(data: dict) -> dict:
    """Round money to paise and ratios to 4 places, so JSON is stable and readable."""
    out = {}
    for name, value in data.items():
        if isinstance(value, float):
            value = round(value, 2 if name in ("revenue", "cost", "cpa", "wasted_spend",
                                                "baseline_revenue", "baseline_daily",
                                                "incremental_revenue") else 4)  # fmt: skip
        out[name] = value
    return out
