"""The weekly digest a channel receives every Monday, as typed data.

Computed here and rendered elsewhere: Slack is not this package's business. Every figure comes
from the engine's own commands (`roas by=influencer`, `underperformers`, `personas`, `trend`,
`why`) over the week, built as typed queries, so the digest can never disagree with what `/roas`
says about the same week.

"What changed" explains the week: its ROAS change against the week before split by influencer
(`insights.drivers`), the days whose revenue, orders, cost or ROAS were unusual for their
weekday (`insights.anomaly`), and whether one influencer brings most of the revenue. Moving
spend is advised only when it is clearly better: between the personas whose iROAS 90%
intervals do not overlap, at most REALLOCATION_CAP of the source's spend.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Engine

from insights import drivers
from insights.anomaly import Expected, expect, outside, public_holidays, reference_days
from insights.catalogue import COMMAND
from insights.engine import Thresholds, answer, daily_totals
from insights.formatting import money, ratio
from insights.query import EVERY_ROW, Query, Window, parse_filters
from insights.results import Answer, Explained, Row, Totals
from insights.scope import INFLUENCER_KEYS, dates_with_data

TREND_WEEKS = 8
RANKED = 3  # influencers in each of the top and bottom lists, drivers each way
WATCHED = ("revenue", "orders", "cost", "roas")  # the figures whose unusual days are listed
SENSITIVITY = 3.0  # the anomaly band of the digest, as an alert rule's default


@dataclass(frozen=True)
class Unusual:
    """A day of the week whose figure was outside its weekday's band."""

    metric: str
    value: float
    expected: Expected


@dataclass(frozen=True)
class Move:
    """Spend to move from the persona with the lowest iROAS to the one with the highest, when
    their intervals do not overlap; the revenue it should bring, with the interval that pairs
    each side's ends at their worst and at their best."""

    source: Row
    destination: Row
    amount: float
    revenue: float
    low: float
    high: float


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
    changes: Explained | None = None  # the week's ROAS against the week before, by influencer
    unusual: list[Unusual] = field(default_factory=list)
    concentration: str | None = None  # "62% of revenue from one influencer (...)"
    move: Move | None = None

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
    personas = ask("personas", week_start, end).rows
    digest.top_persona = personas[0] if personas else None
    digest.move = _move(personas, th.reallocation_cap)
    digest.recommendations = _recommendations(underperformers, digest.move, personas, currency)
    why = Query("why", scope, Window(week_start, end), by=("influencer",), top=EVERY_ROW)
    changes = answer(db, why, th)
    assert isinstance(changes, Explained)
    digest.changes = changes
    digest.concentration = drivers.concentration_note(week.rows, "influencer",
                                                      th.concentration_share)  # fmt: skip
    digest.unusual = _unusual(db, scope, week_start, th)
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


def _move(personas: list[Row], cap: float) -> Move | None:
    """From the persona whose iROAS interval ends lowest to the one whose interval starts
    highest, when that start is above that end (the intervals do not overlap: if any two
    personas' do not, these two do not), `cap` of the source's spend."""
    known = [
        r for r in personas
        if r.cost > 0 and None not in (r.incremental_roas, r.incremental_roas_low,
                                       r.incremental_roas_high)
    ]  # fmt: skip
    if len(known) < 2:
        return None
    destination = max(known, key=lambda r: (r.incremental_roas_low, r.key))
    source = min((r for r in known if r is not destination),
                 key=lambda r: (r.incremental_roas_high, r.key))  # fmt: skip
    s, s_low, s_high = _ends(source)
    d, d_low, d_high = _ends(destination)
    if not d_low > s_high:
        return None
    amount = cap * source.cost
    return Move(source, destination, amount, amount * (d - s), amount * (d_low - s_high),
                amount * (d_high - s_low))  # fmt: skip


def _ends(row: Row) -> tuple[float, float, float]:
    """iROAS and its interval, known to be defined."""
    ends = (row.incremental_roas, row.incremental_roas_low, row.incremental_roas_high)
    assert all(e is not None for e in ends)
    return ends  # type: ignore[return-value]


def _recommendations(
    underperformers: list[Row], move: Move | None, personas: list[Row], currency: str
) -> list[str]:
    """The move when one is clearly better, or why none is; then a pause for the
    underperformer with the most spend and no sales at all. None is invented.

    A move needs the iROAS interval of both personas (a baseline for their brands) and a gap
    between them: a ROAS ranking alone can say which persona earned more, not that a rupee
    moved would (`insights.incremental`)."""
    advice = []
    if move is not None:
        advice.append(
            f"Move {money(move.amount, currency, compact=True)} from {_iroas(move.source)} to "
            f"{_iroas(move.destination)}: expected {_signed(move.revenue, currency)} revenue "
            f"({_signed(move.low, currency)} to {_signed(move.high, currency)})"
        )
    elif personas:
        known = [r for r in personas if r.incremental_roas_low is not None]
        why = (
            "their iROAS 90% intervals overlap"
            if len(known) >= 2
            else "too few personas have an iROAS with an interval this week (no baseline)"
        )
        advice.append(f"No move is clearly better: {why}")
    by_spend = sorted(underperformers, key=lambda r: (-r.cost, r.key))
    idle = [r for r in by_spend if r.revenue <= 0]
    if idle:
        spent = money(idle[0].cost, currency, compact=True)
        advice.append(f"Pause {idle[0].label}: {spent} spent, no sales this week")
    return advice


def _iroas(row: Row) -> str:
    return (
        f"{row.label} creators (iROAS {ratio(row.incremental_roas)}, "
        f"{row.incremental_roas_low:.2f}–{row.incremental_roas_high:.2f})"
    )


def _signed(value: float, currency: str) -> str:
    return ("−" if value < 0 else "+") + money(abs(value), currency, compact=True)


def _unusual(
    db: Engine, scope: dict[str, tuple[str, ...]], week_start: dt.date, th: Thresholds
) -> list[Unusual]:
    """The days of the week whose WATCHED figures were outside their weekday's band
    (SENSITIVITY, both directions, holidays left out). A day expected at 0 is not unusual:
    sales against a run of empty days are a start, not an anomaly."""
    week = [week_start + dt.timedelta(days=n) for n in range(7)]
    days = sorted({d for day in week for d in (*reference_days(day), day)})
    figures = daily_totals(db, Query("roas", scope), days, th)
    with db.connect() as conn:
        covered = dates_with_data(conn, days[0], days[-1])
    holidays_of = public_holidays(th.holiday_country, days)
    found = []
    for day in week:
        if day not in covered:
            continue
        for name in WATCHED:
            values = {d: figures[d].value(name) for d in days}
            expected = expect(day, values, sensitivity=SENSITIVITY, holidays_of=holidays_of,
                              covered=covered)  # fmt: skip
            value = values[day]
            if expected is not None and expected.value > 0 and outside(value, expected, "both"):
                found.append(Unusual(name, float(value), expected))  # type: ignore[arg-type]
    return found


def _weekly(rows: list[Row], week_start: dt.date) -> list[Row]:
    """Exactly TREND_WEEKS rows: the engine returns no row for a week without data."""
    by_week = {r.key: r for r in rows}
    labels = [iso_week(week_start - dt.timedelta(weeks=n)) for n in range(TREND_WEEKS - 1, -1, -1)]
    return [by_week.get(label) or Row(key=label, label=label) for label in labels]
