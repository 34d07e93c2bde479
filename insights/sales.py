"""The rows of a scope's window, from as few rows as give the same sums.

Revenue, orders, posts and cost are sums over tracking rows and posts, and the store keeps
them summed at coarser grains. Two families of tables, one window logic:

- per sales group (influencer, brand, product, campaign), for brand/product/campaign filters
  and breakdowns: `tracking_totals` (all time), `weekly_sales` and `tracking` itself (days),
  attributed sales only (`attributed_sales`); cost comes from multiplying them by `cost_rates`;
- per influencer (storage.influencer_rollups), for everything else: `influencer_totals`,
  `influencer_weeks` and `influencer_days`, with posts and cost already in (`influencer_rows`).

Without a window and a date breakdown the all-time table is enough. Otherwise a window's whole
ISO weeks come from the weekly table and only the days before its first Monday and after its
last Sunday from the daily one; a week's row is dated by its Monday, so grouping by week still
works. By month it does not (weeks straddle months): months read days alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Date, Select, Table, and_, null, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Subquery

from insights.scope import Scope
from storage import models
from storage.influencer_rollups import SUMS
from storage.sqlkeys import TIME_KEYS

# The breakdowns the per-influencer tables answer (None: one total row).
INFLUENCER_KEYS = (None, "influencer_id", *TIME_KEYS)


@dataclass(frozen=True)
class _Grains:
    """One family of tables: all time, whole weeks (dated `week`), days (dated `date`)."""

    all_time: Table
    weeks: Table
    days: Table
    columns: tuple[str, ...]  # besides the date, in the rows returned
    rows: tuple[str, ...] = ()  # tables whose rows count only when attributed


_t = models.tracking
_GROUPS = _Grains(
    models.tracking_totals,
    models.weekly_sales,
    _t,
    ("influencer_id", "brand", "product", "campaign", "orders", "revenue"),
    rows=(models.tracking_totals.name, _t.name),
)
_INFLUENCERS = _Grains(
    models.influencer_totals,
    models.influencer_weeks,
    models.influencer_days,
    ("influencer_id", *SUMS),
)


def attributed_sales(scope: Scope, key: str | None) -> Subquery:
    """Rows (date, influencer_id, brand, product, campaign, orders, revenue) whose sums are the
    attributed sales in the scope's window, brand/product/campaign and influencer filters, for
    a breakdown by `key` (date is NULL when no key needs it)."""
    return _window_rows(_GROUPS, scope, key)


def influencer_grain(scope: Scope, key: str | None) -> bool:
    """Whether the per-influencer tables answer `key` in this scope: they know no brand,
    product or campaign."""
    return key in INFLUENCER_KEYS and not scope.product_filtered


def influencer_rows(scope: Scope, key: str | None) -> Subquery:
    """Rows (date, influencer_id, orders, revenue, sales_rows, posts, engagements, reach, cost)
    whose sums are the scope's per influencer (`influencer_grain` must hold): cost without the
    undivided payouts, which `insights.cost` adds."""
    return _window_rows(_INFLUENCERS, scope, key)


def influencer_parts(scope: Scope, key: str | None) -> list[tuple[Select, str]]:
    """The parts `influencer_rows` is the union of, each with its grain ("all", "week" or
    "day"): a part whose grain is the key has one row per influencer and key."""
    return _window_parts(_INFLUENCERS, scope, key)


def _window_rows(grains: _Grains, scope: Scope, key: str | None) -> Subquery:
    parts = [rows for rows, _grain in _window_parts(grains, scope, key)]
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("sales")


def _window_parts(grains: _Grains, scope: Scope, key: str | None) -> list[tuple[Select, str]]:
    start, end = scope.window.start, scope.window.end
    days, weeks = grains.days, grains.weeks
    if not scope.explicit_window and key not in TIME_KEYS:  # all time, no date needed
        return [(_select(grains, grains.all_time, null().cast(Date), scope, []), "all")]
    if key == "month" or start is None or end is None:
        return [(_select(grains, days, days.c.date, scope, scope.in_window(days.c.date)), "day")]
    if not scope.explicit_window:  # all of the data by week: every week
        return [(_select(grains, weeks, weeks.c.week, scope, []), "week")]
    first_monday = start + dt.timedelta(days=-start.weekday() % 7)
    last_monday = end - dt.timedelta(days=(end.weekday() + 1) % 7 + 6)
    in_days = [days.c.date >= start, days.c.date <= end]
    if first_monday > last_monday:  # no whole week inside the window
        return [(_select(grains, days, days.c.date, scope, in_days), "day")]
    whole = _select(grains, weeks, weeks.c.week, scope,
                    [weeks.c.week >= first_monday, weeks.c.week <= last_monday])  # fmt: skip
    before = and_(days.c.date >= start, days.c.date < first_monday)
    after = and_(days.c.date > last_monday + dt.timedelta(days=6), days.c.date <= end)
    edges = _select(grains, days, days.c.date, scope, [or_(before, after)])
    return [(whole, "week"), (edges, "day")]


def _select(
    grains: _Grains, table, date_column, scope: Scope, conditions: list[ColumnElement[bool]]
) -> Select:
    if table.name in grains.rows:
        conditions = [table.c.influencer_id.is_not(None), *conditions]
    return select(date_column.label("date"), *(table.c[c] for c in grains.columns)).where(
        *conditions, *scope.in_products(table), *scope.in_influencers(table.c.influencer_id)
    )
