"""Keeping the rollups of `tracking` equal to its sums, inside the loading transaction.

Three rollups, each partitioned by one column of tracking:

- `tracking_totals`: all-time sums per (influencer, brand, product, campaign), by influencer;
- `daily_sales`: sums per (date, brand, product, campaign), attributed and not, by date;
- `weekly_sales`: attributed sums per (ISO week, influencer, brand, product, campaign), by
  influencer.

A load recomputes every partition it touches, holding the old and the new values of the rows
it writes, rather than patching with deltas: a row that a new file moves to another influencer,
date or product changes two partitions, and recomputing both is exact by construction. A big
load rebuilds them whole (`storage.derived.FULL_REBUILD_ROWS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Select,
    Table,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from storage import bulk, models
from storage.sqlkeys import week_start

_t = models.tracking
_attributed = _t.c.influencer_id.is_not(None)


@dataclass(frozen=True)
class Rollup:
    table: Table
    partition: str  # the column of tracking (and of the rollup) a load recomputes by
    keys: Callable[[str], tuple[ColumnElement, ...]]  # per SQL dialect, in the table's order
    sums: tuple[ColumnElement, ...]  # in the order of the rollup's remaining columns
    rows: tuple[ColumnElement[bool], ...] = ()  # which tracking rows it sums (default: all)

    def grouped(self, dialect: str) -> Select:
        keys = self.keys(dialect)
        return select(*keys, *self.sums).where(*self.rows).group_by(*keys)


def _columns(*names: str) -> Callable[[str], tuple[ColumnElement, ...]]:
    return lambda _dialect: tuple(_t.c[n] for n in names)


_SALES = ("brand", "product", "campaign")
TOTALS = Rollup(
    models.tracking_totals,
    "influencer_id",
    _columns("influencer_id", *_SALES),
    (func.sum(_t.c.orders), func.sum(_t.c.revenue), func.count(literal_column("*"))),
)
DAILY = Rollup(
    models.daily_sales,
    "date",
    _columns("date", *_SALES),
    (
        func.sum(case((_attributed, _t.c.revenue), else_=0)),
        func.sum(case((_attributed, _t.c.orders), else_=0)),
        func.sum(case((_attributed, 0), else_=_t.c.revenue)),
        func.sum(case((_attributed, 0), else_=1)),
    ),
)
WEEKLY = Rollup(
    models.weekly_sales,
    "influencer_id",
    lambda dialect: (
        week_start(_t.c.date, dialect).label("week"),
        *(_t.c[n] for n in ("influencer_id", *_SALES)),
    ),
    (func.sum(_t.c.orders), func.sum(_t.c.revenue)),
    rows=(_attributed,),
)
ROLLUPS = (TOTALS, DAILY, WEEKLY)


def refresh(conn: Connection, touched: dict[str, set] | None) -> None:
    """After the upsert: recompute the partitions a load touched, given per partition column
    (`storage.derived.touched`); None: every rollup whole."""
    for rollup in ROLLUPS:
        _refresh(conn, rollup, None if touched is None else touched[rollup.partition])


def _refresh(conn: Connection, rollup: Rollup, values: set | None) -> None:
    grouped = rollup.grouped(conn.dialect.name)
    if values is None:
        # Written in key order, rows that answers read together share pages: a 30-day window's
        # whole weeks of weekly_sales were 29 k pages at 20,000 influencers in load order.
        grouped = grouped.order_by(*rollup.keys(conn.dialect.name))
        replaced = delete(rollup.table)
    elif values:
        replaced = delete(rollup.table).where(_in(rollup.table.c[rollup.partition], values))
        grouped = grouped.where(_in(_t.c[rollup.partition], values))
    else:
        return
    columns = [c.name for c in rollup.table.columns]
    with bulk.refilled(conn, rollup.table) if values is None else nullcontext():
        conn.execute(replaced)
        conn.execute(insert(rollup.table).from_select(columns, grouped))


def _in(column: Column, values: Iterable) -> ColumnElement[bool]:
    present = sorted(v for v in values if v is not None)
    conditions = [column.in_(present)] if present else []
    if None in values:
        conditions.append(column.is_(None))
    return or_(*conditions)
