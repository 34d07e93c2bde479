"""Every metric, breakdown and command of roasbot, declared once.

Results compute their ratios from this catalogue; the text, chart, CSV and Block Kit renderers
take labels, headings and formats from it; `roasbot ask --json` and the CSV export list its
metrics; alerts watch the metrics it marks alertable; the help text and the Slack registration
iterate over its commands. A new metric is one entry here (and, if it needs a sum the engine
does not take yet, that sum in `insights.engine`), in the spirit of metricflow's semantic
layer: a metric is a sum, or a ratio of two sums — never a mean of ratios.

Nothing here computes from the store or knows about Slack: it is data, imported by everything
above it; of roasbot it imports only the store's names for date buckets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from storage.sqlkeys import TIME_KEYS

Unit = Literal["money", "ratio", "percent", "count"]

TIERS = ("nano", "micro", "mid", "macro", "mega")


@dataclass(frozen=True)
class Metric:
    """One figure: a sum kept on every result, or numerator / denominator of two sums.

    `scale` turns a ratio into a percentage (x 100). A ratio is undefined (None, shown "n/a")
    when its denominator is 0, or when its numerator is itself undefined.
    """

    name: str
    label: str  # in sentences and figure fields: "Engagement"
    heading: str  # as a table column: "Eng."
    unit: Unit
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    digits: int = 2  # shown decimals of a ratio or percentage
    alertable: bool = False
    interval: tuple[str, str] | None = None  # the metrics of its low and high ends
    description: str = ""

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    def of(self, sums: object) -> float | None:
        """The ratio's value on a result (only for ratios; sums are fields of the result)."""
        assert self.numerator is not None and self.denominator is not None
        top = getattr(sums, self.numerator)
        bottom = getattr(sums, self.denominator)
        if top is None or bottom is None or bottom <= 0:
            return None
        return float(top) / float(bottom) * self.scale


METRICS: tuple[Metric, ...] = (
    Metric("revenue", "Revenue", "Revenue", "money", alertable=True,
           description="attributed revenue"),
    Metric("cost", "Cost", "Cost", "money", alertable=True,
           description="payouts, spread over what they paid for"),
    Metric("roas", "ROAS", "ROAS", "ratio", "revenue", "cost", alertable=True,
           description="attributed revenue / cost"),
    Metric("incremental_roas", "iROAS", "iROAS", "ratio", "incremental_revenue",
           "incremental_cost", alertable=True, interval=("incremental_roas_low",
           "incremental_roas_high"), description="incremental revenue / cost"),
    Metric("incremental_roas_low", "iROAS, low", "iROAS lo", "ratio", "incremental_revenue_low",
           "incremental_cost", description="the low end of iROAS's 90% interval"),
    Metric("incremental_roas_high", "iROAS, high", "iROAS hi", "ratio",
           "incremental_revenue_high", "incremental_cost",
           description="the high end of iROAS's 90% interval"),
    Metric("incremental_revenue", "Incremental revenue", "Incr.", "money",
           interval=("incremental_revenue_low", "incremental_revenue_high"),
           description="revenue above the brands' baselines"),
    Metric("incremental_revenue_low", "Incremental revenue, low", "Incr. lo", "money",
           description="the low end of its 90% interval"),
    Metric("incremental_revenue_high", "Incremental revenue, high", "Incr. hi", "money",
           description="the high end of its 90% interval"),
    Metric("orders", "Orders", "Orders", "count", alertable=True,
           description="attributed orders"),
    Metric("cpa", "CPA", "CPA", "money", "cost", "orders", alertable=True,
           description="cost / attributed orders"),
    Metric("posts", "Posts", "Posts", "count", description="posts in scope"),
    Metric("engagement_rate", "Engagement", "Eng.", "percent", "engagements", "reach",
           scale=100, digits=1, alertable=True,
           description="(likes + comments) / reach x 100, posts with reach"),
    Metric("conversion_rate", "Conversion", "Conv.", "percent", "orders", "reach",
           scale=100, alertable=True,
           description="attributed orders / reach x 100, posts with reach"),
    Metric("influencers", "Influencers", "Infl.", "count",
           description="influencers with any figure in scope"),
    Metric("wasted_spend", "Wasted spend", "Wasted", "money",
           description="cost - revenue (underperformers)"),
)  # fmt: skip
BY_NAME: Mapping[str, Metric] = {m.name: m for m in METRICS}
RATIOS: tuple[Metric, ...] = tuple(m for m in METRICS if m.is_ratio)
ALERTABLE: tuple[str, ...] = tuple(m.name for m in METRICS if m.alertable)

# The sums every result carries, from which the ratios above are made.
SUMS = ("revenue", "cost", "orders", "posts", "engagements", "reach")

# The metrics whose change `why` splits by segment: sums of every result, and ratios of two
# of them (incremental revenue is each window's share of its own lifts, so it is left out).
EXPLAINABLE = tuple(
    m.name for m in METRICS
    if m.name in SUMS or (m.is_ratio and m.numerator in SUMS and m.denominator in SUMS)
)  # fmt: skip

# The figures an answer leads with (Slack's fields, the text answer's first line adds TOTALS).
HEADLINE = ("revenue", "cost", "roas", "incremental_roas", "orders", "cpa")
TOTALS = (*HEADLINE, "engagement_rate", "influencers")


def metric(name: str) -> Metric:
    return BY_NAME[name]


# --- breakdowns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    """A `by=` value. `kind` says where its key comes from: an influencer's traits, the sales
    rows' brand/product/campaign, or a period of the date. `per_post` breakdowns can carry
    posts and engagement (posts have an influencer and a date, not a brand)."""

    name: str
    kind: Literal["influencer", "product", "time"]

    @property
    def per_post(self) -> bool:
        return self.name == "influencer" or self.kind == "time"


BREAKDOWNS: tuple[Breakdown, ...] = (
    Breakdown("influencer", "influencer"),
    Breakdown("brand", "product"),
    Breakdown("product", "product"),
    Breakdown("campaign", "product"),
    Breakdown("platform", "influencer"),
    Breakdown("category", "influencer"),
    Breakdown("gender", "influencer"),
    Breakdown("tier", "influencer"),
    Breakdown("persona", "influencer"),
    *(Breakdown(key, "time") for key in TIME_KEYS),  # the store groups dates by these
)
BREAKDOWN: Mapping[str, Breakdown] = {b.name: b for b in BREAKDOWNS}
TIME_BREAKDOWNS = tuple(b.name for b in BREAKDOWNS if b.kind == "time")


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A command people type. `kind` says who answers it: the engine (query), the
    application's digests or alerts, or help. `slash` commands are Slack slash commands of
    their own (the others are `/roas NAME`); `columns` are the metrics of its table."""

    name: str
    kind: Literal["query", "digest", "alert", "help"]
    usage: str
    help: str
    slash: bool = False
    default_by: tuple[str, ...] = ("influencer",)
    columns: tuple[str, ...] = ()
    post_columns: tuple[str, ...] = field(default=("posts", "engagement_rate"))
    default_period: str | None = None  # the window when none is given (None: all data)


COMMANDS: tuple[Command, ...] = (
    Command("roas", "query", "/roas [filters] [by=...]",
            "totals and a breakdown (default by=influencer)", slash=True,
            columns=("revenue", "cost", "roas", "incremental_roas", "orders")),
    Command("underperformers", "query", "/underperformers [filters]",
            "influencers whose ROAS is below threshold= (ROAS_TARGET)", slash=True,
            columns=("revenue", "cost", "roas", "wasted_spend", "posts", "engagement_rate"),
            post_columns=()),
    Command("personas", "query", "/personas [by=tier,category]",
            "the best influencer personas, ranked by ROAS", slash=True,
            default_by=("tier", "category"),
            columns=("influencers", "revenue", "cost", "roas", "incremental_roas")),
    Command("influencer", "query", "/influencer ID-or-name",
            "one influencer: ROAS, iROAS, posts, engagement, weekly trend", slash=True,
            default_by=("week",),
            columns=("revenue", "cost", "roas", "orders", "posts", "engagement_rate"),
            post_columns=()),
    Command("trend", "query", "/trend [filters]", "weekly revenue, cost and ROAS",
            default_by=("week",), columns=("revenue", "cost", "roas", "orders", "posts"),
            post_columns=()),
    Command("why", "query",
            "/roas why [filters] [vs=]",
            "why ROAS (or metric=) changed, segment by segment (default period=last_7d)",
            default_period="last_7d"),
    Command("whatif", "query",
            "/roas whatif move= from= to=",
            "revenue and ROAS had that spend moved (default period=last_90d)",
            default_period="last_90d"),
    Command("digest", "digest", "/digest now|list|subscribe",
            "the weekly digest of a channel", slash=True),
    Command("alert", "alert", "/alert add|list|mute|...",
            "alert rules that post when a figure crosses a line", slash=True),
    Command("help", "help", "/roas help", "this text"),
)  # fmt: skip
COMMAND: Mapping[str, Command] = {c.name: c for c in COMMANDS}
QUERY_COMMANDS = tuple(c.name for c in COMMANDS if c.kind == "query")
SLASH_COMMANDS = tuple(f"/{c.name}" for c in COMMANDS if c.slash)


def table_columns(command: str, by: str | None) -> tuple[str, ...]:
    """The metrics of an answer's table: the command's, plus posts and engagement when each
    row is one influencer or one period (posts have no brand, so other rows have none)."""
    spec = COMMAND.get(command, COMMAND["roas"])
    breakdown = BREAKDOWN.get(by or "")
    extra = spec.post_columns if breakdown is not None and breakdown.per_post else ()
    return (*spec.columns, *(c for c in extra if c not in spec.columns))
