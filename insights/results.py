"""Typed answers: what every adapter (Slack, console, CLI) renders, none of them computes.

A result keeps sums (revenue, cost, orders, posts, engagements, reach); every ratio of
`insights.catalogue` is a read-only attribute computed from them when read (`row.roas`), so a
ratio can never be stale against its sums and is always a ratio of sums, never a mean of ratios.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from insights.catalogue import METRICS, RATIOS


@dataclass
class Metrics:
    """Figures for one scope or one breakdown row. None means undefined, never zero."""

    revenue: float = 0.0  # attributed
    cost: float = 0.0
    orders: int = 0
    posts: int | None = None
    engagements: float = 0.0  # likes + comments of posts with reach
    reach: float = 0.0
    influencers: int | None = None
    incremental_revenue: float | None = None  # None: no brand of it has a baseline
    incremental_revenue_low: float | None = None  # its 90% interval
    incremental_revenue_high: float | None = None
    incremental_cost: float | None = None  # the cost of the brands incremental revenue covers

    def value(self, name: str) -> float | int | None:
        """A catalogue metric's value by name (a sum, or a ratio of sums)."""
        return getattr(self, name)


for _ratio in RATIOS:
    setattr(Metrics, _ratio.name, property(_ratio.of, doc=_ratio.description))


@dataclass
class Row(Metrics):
    key: str = ""
    label: str = ""
    wasted_spend: float | None = None  # underperformers: cost - revenue


@dataclass
class Totals(Metrics):
    baseline_revenue: float | None = None  # expected revenue of the brands with a baseline
    all_revenue: float | None = None  # of the scope's brands/products/campaigns, attributed or
    # not (None under influencer filters: organic sales belong to no influencer)


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
    data_through: dt.date | None = None  # the store's last day of tracking data

    def to_dict(self) -> dict:
        """The JSON shape of `roasbot ask --json`: every catalogue metric, null if undefined."""
        totals = _figures(self.totals)
        totals.update(
            baseline_revenue=_rounded(self.totals.baseline_revenue, 2),
            all_revenue=_rounded(self.totals.all_revenue, 2),
        )
        out = {
            "command": self.command,
            "filters": self.filters,
            "window": {
                "from": self.window_from.isoformat() if self.window_from else None,
                "to": self.window_to.isoformat() if self.window_to else None,
            },
            "data_through": self.data_through.isoformat() if self.data_through else None,
            "totals": totals,
            "rows": [{"key": r.key, "label": r.label, **_figures(r)} for r in self.rows],
            "notes": self.notes,
            "charts": self.charts,
        }
        if self.by:
            out["by"] = self.by
        if self.subject:
            out["influencer"] = self.subject
        return out


def _figures(result: Metrics) -> dict:
    """Money to paise and ratios to 4 places, so JSON is stable and readable."""
    return {
        m.name: _rounded(getattr(result, m.name, None), 2 if m.unit == "money" else 4)
        for m in METRICS
    }


def _rounded(value, digits: int):
    # + 0.0 turns a rounded -0.0 into 0.0: JSON should not say "-0.0" for nothing.
    return round(value, digits) + 0.0 if isinstance(value, float) else value
