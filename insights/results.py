"""Typed answers: what every adapter (Slack, console, CLI) renders, none of them computes.

A result keeps sums (revenue, cost, orders, posts, engagements, reach); every ratio of
`insights.catalogue` is a read-only attribute computed from them when read (`row.roas`), so a
ratio can never be stale against its sums and is always a ratio of sums, never a mean of ratios.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from insights.catalogue import METRICS, RATIOS, metric


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
            "window": _window(self.window_from, self.window_to),
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


@dataclass
class Contribution:
    """One segment's part of a change between two windows (`insights.drivers`): its figures in
    each (zeros where it is absent), and `points`, its share of the metric's change, in the
    metric's unit (ROAS points), None when the change cannot be split (a window without cost).
    For a ratio N / D, `beyond` is the same part in N's unit: ΔN − (N₀ / D₀)·ΔD, for ROAS the
    revenue gained beyond what the extra spend would have bought at the earlier ROAS."""

    key: str
    label: str
    status: Literal["new", "gone", "continuing"]
    before: Row
    after: Row
    points: float | None
    beyond: float | None = None

    def change(self, name: str) -> float:
        """The change of a sum (revenue, cost, orders...) from one window to the other."""
        return float(self.after.value(name) or 0) - float(self.before.value(name) or 0)


@dataclass
class Explained(Answer):
    """`why`: the totals of the current window (`totals`) and of the comparison window, and
    every segment's contribution to the change of `metric`; they add up to it exactly."""

    metric: str = "roas"
    comparison_from: dt.date | None = None
    comparison_to: dt.date | None = None
    comparison: Totals = field(default_factory=Totals)
    contributions: list[Contribution] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """The metric's change; None when it is undefined in either window."""
        now, before = self.totals.value(self.metric), self.comparison.value(self.metric)
        return None if now is None or before is None else float(now) - float(before)

    @property
    def split(self) -> bool:
        """Whether the change is split into points (false: a window without a denominator)."""
        return self.change is not None

    def ranked(self, up: bool, count: int) -> list[Contribution]:
        """The `count` segments pushing the metric up (or down) most; when the change cannot
        be split, those whose numerator moved most that way (ROAS: revenue)."""
        spec = metric(self.metric)
        measure = spec.name if not spec.is_ratio else spec.numerator

        def size(c: Contribution) -> float:
            assert measure is not None
            return c.points if c.points is not None else c.change(measure)

        chosen = [c for c in self.contributions if (size(c) > 0 if up else size(c) < 0)]
        chosen.sort(key=lambda c: (-abs(size(c)), c.key))
        return chosen[:count]

    def to_dict(self) -> dict:
        """The usual answer, `comparison: {window, totals}` and every segment's contribution
        (`contributions`, so that they add up to `change`)."""
        out = super().to_dict()
        spec = metric(self.metric)
        sums = _sums_of(self.metric)
        out["metric"] = self.metric
        out["change"] = _rounded(self.change, 6)
        out["comparison"] = {
            "window": _window(self.comparison_from, self.comparison_to),
            "totals": _figures(self.comparison),
        }
        points = f"{self.metric}_points" if spec.is_ratio else f"{self.metric}_change"
        out["contributions"] = [
            {
                "key": c.key,
                "label": c.label,
                "status": c.status,
                points: _rounded(c.points, 6),
                **({f"{points}_as_{spec.numerator}": _rounded(c.beyond, 2)}
                   if spec.is_ratio else {}),
                **{f"{s}_change": _rounded(c.change(s), 2) for s in sums},
            }
            for c in self.contributions
        ]  # fmt: skip
        return out


@dataclass
class WhatIf(Answer):
    """`whatif`: `move` of spend taken from `source` and given to `destination`, each row with
    its iROAS and interval over the window; the expected change of revenue (None where either
    iROAS is n/a) and of ROAS, which divides it by the unchanged total cost."""

    move: float = 0.0
    source: Row = field(default_factory=Row)
    destination: Row = field(default_factory=Row)
    segments: tuple[str, str] = ("", "")  # the breakdowns the two rows come from
    revenue_change: float | None = None
    revenue_change_low: float | None = None
    revenue_change_high: float | None = None

    def roas_change(self, revenue: float | None) -> float | None:
        cost = self.totals.cost
        return None if revenue is None or cost <= 0 else revenue / cost

    def to_dict(self) -> dict:
        out = super().to_dict()
        out["move"] = _rounded(self.move, 2)
        for name, row, by in (("from", self.source, self.segments[0]),
                              ("to", self.destination, self.segments[1])):  # fmt: skip
            out[name] = {"by": by, "key": row.key, "label": row.label, **_figures(row)}
        ends = (self.revenue_change, self.revenue_change_low, self.revenue_change_high)
        out["revenue_change"] = dict(
            zip(("value", "low", "high"), (_rounded(v, 2) for v in ends), strict=True)
        )
        out["roas_change"] = dict(zip(("value", "low", "high"),
                                      (_rounded(self.roas_change(v), 6) for v in ends),
                                      strict=True))  # fmt: skip
        return out


def _sums_of(name: str) -> tuple[str, ...]:
    """Revenue and cost, and the sums a metric is made of, each once."""
    spec = metric(name)
    parts = (spec.numerator, spec.denominator) if spec.is_ratio else (spec.name,)
    return tuple(dict.fromkeys(("revenue", "cost", *(p for p in parts if p))))


def _window(start: dt.date | None, end: dt.date | None) -> dict:
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
    }


def _figures(result: Metrics) -> dict:
    """Money to paise and ratios to 4 places, so JSON is stable and readable."""
    return {
        m.name: _rounded(getattr(result, m.name, None), 2 if m.unit == "money" else 4)
        for m in METRICS
    }


def _rounded(value, digits: int):
    # + 0.0 turns a rounded -0.0 into 0.0: JSON should not say "-0.0" for nothing.
    return round(value, digits) + 0.0 if isinstance(value, float) else value
