"""Keeping `tracking_totals` equal to the sums of `tracking`, inside the loading transaction.

The table is rebuilt per influencer rather than patched with deltas: a row that a new file
moves to another influencer, brand or product changes two groups, and recomputing the groups of
every influencer a load touched (old and new values) is exact by construction. A load bigger than
`FULL_REBUILD_ROWS` rebuilds the whole table: one grouped scan is then cheaper than finding
the old values of that many rows.
"""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    TableClause,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    union,
)

from storage import models

FULL_REBUILD_ROWS = 50_000
_t, _s = models.tracking, models.tracking_totals
_GROUP = (_t.c.influencer_id, _t.c.brand, _t.c.product, _t.c.campaign)


# The influencers whose totals a load may change (None among them: the unattributed rows),
# or None for all of them.
Affected = set[str | None] | None


def affected_by_staging(conn: Connection, staging: TableClause, staged_rows: int) -> Affected:
    """Before the upsert: the influencers of the staged rows and of the rows they will replace."""
    if staged_rows > FULL_REBUILD_ROWS:
        return None
    replaced = select(_t.c.influencer_id).join(staging, staging.c.row_key == _t.c.row_key)
    ids = conn.execute(union(select(staging.c.influencer_id), replaced)).scalars()
    return set(ids)


def refresh(conn: Connection, affected: Affected) -> None:
    """After the upsert: recompute the totals of the affected influencers from `tracking`."""
    grouped = select(
        *_GROUP,
        func.sum(_t.c.orders),
        func.sum(_t.c.revenue),
        func.count(literal_column("*")),
    ).group_by(*_GROUP)
    if affected is None:
        conn.execute(delete(_s))
    else:
        ids = sorted(i for i in affected if i is not None)
        with_null = None in affected
        if not ids and not with_null:
            return
        mine = _in_or_null(_s.c.influencer_id, ids, with_null)
        conn.execute(delete(_s).where(mine))
        grouped = grouped.where(_in_or_null(_t.c.influencer_id, ids, with_null))
    columns = ["influencer_id", "brand", "product", "campaign", "orders", "revenue", "row_count"]
    conn.execute(insert(_s).from_select(columns, grouped))


def _in_or_null(column, ids: list[str], with_null: bool):
    conditions = []
    if ids:
        conditions.append(column.in_(ids))
    if with_null:
        conditions.append(column.is_(None))
    return or_(*conditions)
