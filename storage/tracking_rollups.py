"""Keeping the rollups of `tracking` equal to its sums, inside the loading transaction.

Two rollups, each partitioned by one column of tracking:

- `tracking_totals`: all-time sums per (influencer, brand, product, campaign), by influencer;
- `daily_sales`: sums per (date, brand, product, campaign), attributed and not, by date.

A load recomputes every partition it touches, holding the old and the new values of the rows
it writes, rather than patching with deltas: a row that a new file moves to another influencer,
date or product changes two partitions, and recomputing both is exact by construction. A load
bigger than `FULL_REBUILD_ROWS` rebuilds both whole: one grouped scan is then cheaper than
finding the old values of that many rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Table,
    TableClause,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.sql.elements import ColumnElement

from storage import models

FULL_REBUILD_ROWS = 50_000
_t = models.tracking
_attributed = _t.c.influencer_id.is_not(None)


@dataclass(frozen=True)
class Rollup:
    table: Table
    partition: str  # the column of tracking (and of the rollup) a load recomputes by
    group: tuple[str, ...]
    sums: tuple[ColumnElement, ...]  # in the order of the rollup's remaining columns

    def grouped(self):
        columns = [_t.c[c] for c in self.group]
        return select(*columns, *self.sums).group_by(*columns)


TOTALS = Rollup(
    models.tracking_totals,
    "influencer_id",
    ("influencer_id", "brand", "product", "campaign"),
    (func.sum(_t.c.orders), func.sum(_t.c.revenue), func.count(literal_column("*"))),
)
DAILY = Rollup(
    models.daily_sales,
    "date",
    ("date", "brand", "product", "campaign"),
    (
        func.sum(case((_attributed, _t.c.revenue), else_=0)),
        func.sum(case((_attributed, _t.c.orders), else_=0)),
        func.sum(case((_attributed, 0), else_=_t.c.revenue)),
        func.sum(case((_attributed, 0), else_=1)),
    ),
)
ROLLUPS = (TOTALS, DAILY)

# Per rollup table name: the partition values a load may change (None among them: NULL), or
# None for all of them.
Affected = dict[str, set | None]


def affected_by_staging(conn: Connection, staging: TableClause, staged_rows: int) -> Affected:
    """Before the upsert: the partitions of the staged rows and of the rows they will replace."""
    if staged_rows > FULL_REBUILD_ROWS:
        return {r.table.name: None for r in ROLLUPS}
    affected: Affected = {}
    for rollup in ROLLUPS:
        column = rollup.partition
        replaced = select(_t.c[column]).join(staging, staging.c.row_key == _t.c.row_key)
        affected[rollup.table.name] = set(
            conn.execute(union(select(staging.c[column]), replaced)).scalars()
        )
    return affected


def refresh(conn: Connection, affected: Affected | None) -> None:
    """After the upsert: recompute the affected partitions (None: every rollup whole)."""
    for rollup in ROLLUPS:
        values = None if affected is None else affected[rollup.table.name]
        _refresh(conn, rollup, values)


def _refresh(conn: Connection, rollup: Rollup, values: set | None) -> None:
    grouped = rollup.grouped()
    if values is None:
        conn.execute(delete(rollup.table))
    else:
        if not values:
            return
        conn.execute(delete(rollup.table).where(_in(rollup.table.c[rollup.partition], values)))
        grouped = grouped.where(_in(_t.c[rollup.partition], values))
    columns = [c.name for c in rollup.table.columns]
    conn.execute(insert(rollup.table).from_select(columns, grouped))


def _in(column: Column, values: Iterable) -> ColumnElement[bool]:
    present = sorted(v for v in values if v is not None)
    conditions = [column.in_(present)] if present else []
    if None in values:
        conditions.append(column.is_(None))
    return or_(*conditions)
