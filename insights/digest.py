"""The weekly digest a channel receives every Monday, as typed data.

Computed here and rendered elsewhere: Slack is not this package's business. Every figure comes
from the engine's own commands (`roas by=influencer`, `underperformers`, `personas`, `trend`)
over the week, built as typed queries, so the digest can never disagree with what `/roas` says
about the same week.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Engine

from insights.catalogue import COMMAND
from insights.engine import Thresholds, answer
from insights.formatting import money, ratio
from insights.query import EVERY_ROW, Query, Window, parse_filters
from insights.results import Answer, Row, Totals
from insights.scope import INFLUENCER_KEYS

TREND_WEEKS = 8
RANKED = 3  # influencers in each of the top and bottom lists
_WEEK_LABEL = re.compile(r"([1-9]\d{3})-W(\d{2})", re.IGNORECASE)


@dataclass
class Digest:
    """One week for one subscription; `has_data` False means the other lists are left empty."""

    week: str  # ISO week label, e.g. "2025-W23"
    start: dt.date  # Monday
    end: dt.date  # Sunday
    filters: dict[str, list[str]]  # the subscription's filters as the store spells them
    has_data: bool
    totals: Totals
    previous: Totals  # the week before, for deltas
    top: list[Row]  # best ROAS first, influencers with cost only
    bottom: list[Row]  # worst ROAS first, none of them in `top`
    top_persona: Row | None
    new_underperformers: list[Row]
    recommendations: list[str]
    trend: list[Row]  # TREND_WEEKS weekly rows, oldest first, ending with this week
    data_through: dt.date | None = None  # the store's last day of data

    def trend_answer(self) -> Answer:
        """The 8-week trend as an answer, so its chart renders like any `/roas trend`."""
        return Answer(
            command="trend",
            filters=self.filters,
            window_from=self.start - dt.timedelta(weeks=max(len(self.trend) - 1, 0)),
            window_to=self.end,
            totals=self.totals,
            rows=self.trend,
            by="week",
            title=f"Weekly trend to {self.week}",
        )


def last_full_week(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday..Sunday of the last week that is over on `today` (a date in the team's zone).

    On a Sunday the current week is still running, so it is the week before; on a Monday it is
    the week that ended yesterday.
    """
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return monday, monday + dt.timedelta(days=6)


def iso_week(monday: dt.date) -> str:
    """The ISO label ("2025-W23"), the same key the engine gives weekly trend rows."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_of(label: str) -> tuple[dt.date, dt.date]:
    """Monday..Sunday of an ISO week label, for `roasbot digest --week 2025-W23`."""
    match = _WEEK_LABEL.fullmatch(label.strip())
    if match is None:
        raise ValueError(f"'{label}' is not a week: write it as YYYY-Www, e.g. 2025-W23")
    year, week = int(match[1]), int(match[2])
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        weeks = dt.date(year, 12, 28).isocalendar().week  # 28 Dec is always in the last week
        raise ValueError(
            f"'{label}' is not a week: {year} has ISO weeks W01 to W{weeks:02d}"
        ) from None
    return monday, monday + dt.timedelta(days=6)


def build_digest(
    db: Engine,
    week_start: dt.date,
    *,
    filters: str = "",
    thresholds: Thresholds | None = None,
    currency: str = "INR",
) -> Digest:
    """The digest of the week starting on `week_start` (a Monday) in the scope of `filters`.

    `filters` is the subscription's filter text (`brand=MuscleBlaze platform=Instagram`); the
    digest owns the window, breakdowns and thresholds, so anything else there is a QueryError,
    as are values the store does not hold. `currency` only shapes the recommendation sentences.
    """
    if week_start.weekday() != 0:
        raise ValueError(f"a digest week starts on a Monday; {week_start} is a {week_start:%A}")
    th = thresholds or Thresholds()
    end = week_start + dt.timedelta(days=6)
    previous_start = week_start - dt.timedelta(days=7)
    previous_end = week_start - dt.timedelta(days=1)
    scope = parse_filters(filters, "a digest")

    def ask(command: str, start: dt.date, stop: dt.date, top: int = EVERY_ROW) -> Answer:
        query = Query(command, scope, Window(start, stop), by=COMMAND[command].default_by, top=top)
        return answer(db, query, th)

    week = ask("roas", week_start, end)
    before = ask("underperformers", previous_start, previous_end)
    digest = Digest(
        week=iso_week(week_start),
        start=week_start,
        end=end,
        filters=week.filters,
        has_data=_has_data(week.totals, influencer_scoped=bool(set(scope) & set(INFLUENCER_KEYS))),
        totals=week.totals,
        previous=before.totals,
        top=[],
        bottom=[],
        top_persona=None,
        new_underperformers=[],
        recommendations=[],
        trend=[],
        data_through=week.data_through,
    )
    if not digest.has_data:
        return digest

    spent = [r for r in week.rows if r.cost > 0]  # the engine ranks them best ROAS first
    digest.top = spent[:RANKED]
    # Worst first, ties by most wasted spend, as /underperformers orders them.
    rest = sorted(spent[RANKED:], key=lambda r: (r.roas or 0.0, r.revenue - r.cost, r.key))
    digest.bottom = rest[:RANKED]
    underperformers = ask("underperformers", week_start, end).rows
    already = {r.key for r in before.rows}
    digest.new_underperformers = [r for r in underperformers if r.key not in already]
    personas = ask("personas", week_start, end, top=1).rows
    digest.top_persona = personas[0] if personas else None
    digest.recommendations = _recommendations(
        underperformers, digest.top_persona, th.roas_target, currency
    )
    trend_start = week_start - dt.timedelta(weeks=TREND_WEEKS - 1)
    digest.trend = _weekly(ask("trend", trend_start, end).rows, week_start)
    return digest


def _has_data(totals: Totals, influencer_scoped: bool) -> bool:
    """Whether the week holds anything in scope, so the renderer can skip a page of zeros.

    Attributed sales and cost show in the totals. Non-attributed rows (organic, direct) belong
    to no influencer, so they are in scope only when no influencer attribute is filtered: then
    the scope's revenue of every kind counts. Rows with neither revenue nor orders say nothing.
    """
    if totals.cost > 0 or totals.revenue > 0 or totals.orders > 0:
        return True
    return not influencer_scoped and (totals.all_revenue or 0.0) > 0


def _recommendations(
    underperformers: list[Row], persona: Row | None, target: float, currency: str
) -> list[str]:
    """At most two sentences of advice, each naming who, how much and why; none is invented.

    - Move: the underperformer with the most spend this week, towards the best ranked persona,
      only when that persona reaches the ROAS target (moving money to another group below
      target is not advice).
    - Pause: the underperformer with the most spend and no sales at all, unless the move
      already names them.
    With no underperformer (or none of these cases) the list is empty. Ties go by key.
    """
    by_spend = sorted(underperformers, key=lambda r: (-r.cost, r.key))
    advice = []
    moved = None
    if by_spend and persona is not None and persona.roas is not None and persona.roas >= target:
        moved = by_spend[0]
        source = f"{moved.label} ({ratio(moved.roas or 0.0)})"  # cost > 0: ROAS is defined
        destination = f"{persona.label} creators ({ratio(persona.roas)})"
        advice.append(
            f"Move {money(moved.cost, currency, compact=True)} from {source} to {destination}"
        )
    idle = [r for r in by_spend if r.revenue <= 0 and r is not moved]
    if idle:
        spent = money(idle[0].cost, currency, compact=True)
        advice.append(f"Pause {idle[0].label}: {spent} spent, no sales this week")
    return advice


def _weekly(rows: list[Row], week_start: dt.date) -> list[Row]:
    """Exactly TREND_WEEKS rows: the engine returns no row for a week without data."""
    by_week = {r.key: r for r in rows}
    labels = [iso_week(week_start - dt.timedelta(weeks=n)) for n in range(TREND_WEEKS - 1, -1, -1)]
    return [by_week.get(label) or Row(key=label, label=label) for label in labels]
