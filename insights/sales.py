"""The attributed sales of a scope's window, from as few rows as give the same sums.

Revenue, orders and the cost of order-basis payouts are sums over attributed tracking rows, and
the store keeps them summed at coarser grains (storage.tracking_rollups). Without a window and
a date breakdown, `tracking_totals` (all time per sales group) is enough. Otherwise a window's
whole ISO weeks come from `weekly_sales` (about a fifth of the tracking rows) and only the days
before its first Monday and after its last Sunday from `tracking`; a week's row is dated by its
Monday, so grouping by week still works. By month it does not (weeks straddle months): months
read tracking alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Select, and_, null, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Subquery

from insights.scope import Scope
from storage import models
from storage.sqlkeys import TIME_KEYS

_t, _s, _w = models.tracking, models.tracking_totals, models.weekly_sales
_COLUMNS = ("influencer_id", "brand", "product", "campaign", "orders", "revenue")


def attributed_sales(scope: Scope, key: str | None) -> Subquery:
    """Rows (date, influencer_id, brand, product, campaign, orders, revenue) whose sums are the
    attributed sales in the scope's window, brand/product/campaign and influencer filters, for
    a breakdown by `key` (date is NULL when no key needs it)."""
    start, end = scope.window.start, scope.window.end
    attributed = _t.c.influencer_id.is_not(None)
    if not scope.explicit_window and key not in TIME_KEYS:  # all time, no date needed
        return _rows(_s, null().cast(Date), scope, [_s.c.influencer_id.is_not(None)])
    if key == "month" or start is None or end is None:
        return _rows(_t, _t.c.date, scope, [attributed, *scope.in_window(_t.c.date)])
    if not scope.explicit_window:  # all of the data by week: every week
        return _rows(_w, _w.c.week, scope, [])
    first_monday = start + dt.timedelta(days=-start.weekday() % 7)
    last_monday = end - dt.timedelta(days=(end.weekday() + 1) % 7 + 6)
    if first_monday > last_monday:  # no whole week inside the window
        return _rows(_t, _t.c.date, scope, [attributed, _t.c.date >= start, _t.c.date <= end])
    weeks = _select(_w, _w.c.week, scope, [_w.c.week >= first_monday, _w.c.week <= last_monday])
    before = and_(_t.c.date >= start, _t.c.date < first_monday)
    after = and_(_t.c.date > last_monday + dt.timedelta(days=6), _t.c.date <= end)
    days = _select(_t, _t.c.date, scope, [attributed, or_(before, after)])
    return union_all(weeks, days).subquery("sales")


def _select(table, date_column, scope: Scope, conditions: list[ColumnElement[bool]]) -> Select:
    return select(date_column.label("date"), *(table.c[c] for c in _COLUMNS)).where(
        *conditions, *scope.in_products(table), *scope.in_influencers(table.c.influencer_id)
    )


def _rows(table, date_column, scope: Scope, conditions: list[ColumnElement[bool]]) -> Subquery:
    return _select(table, date_column, scope, conditions).subquery("sales")
