"""SQL aggregations for revenue, posts and the daily sums of the incremental-revenue baseline.

Each function returns a small DataFrame aggregated in the database (one row per breakdown key),
never table rows: the store may hold millions of tracking rows. Revenue, cost and posts read
the per-influencer tables when no brand/product/campaign is asked for (`insights.sales`).

These statements aggregate hundreds of thousands of rows at most and run in a few hundred
milliseconds, the range where PostgreSQL's JIT compiles for longer than it saves (measured at
10.9 M tracking rows: 1,338 -> 946 ms and 3,660 -> 3,104 ms with it off), and their hashes need
more than the default 4 MB `work_mem` not to spill: both are set for the answer's transaction
only (`_analytics`), never asked of the server's configuration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Float, Select, case, cast, func, literal, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from insights.cost import cost_by, undivided
from insights.incremental import Daily
from insights.sales import attributed_sales, influencer_grain, influencer_parts, influencer_rows
from insights.scope import Scope
from storage import models
from storage.frames import columns_frame
from storage.sqlkeys import TIME_KEYS, time_bucket

_s, _p, _d = models.tracking_totals, models.posts, models.daily_sales


def _key_column(table, key: str | None, date_column, dialect: str):
    if key is None:
        return None
    return time_bucket(date_column, key, dialect) if key in TIME_KEYS else table.c[key]


def _frame(conn: Connection, statement, columns: list[str]) -> pd.DataFrame:
    return columns_frame(conn.execute(statement), columns)


def _normalise_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Keys as text (dates from SQLite come as text, from PostgreSQL as dates)."""
    if "key" in frame.columns:
        keys = frame["key"].astype(object)
        frame["key"] = [None if pd.isna(k) else str(k) for k in keys]
        frame["key"] = frame["key"].astype(object)
    return frame


def _analytics(conn: Connection) -> None:
    """JIT off and 64 MB for hashes and sorts, until the transaction ends (set_config(...,
    true) is SET LOCAL): an answer runs its statements in one transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"
        )


def revenue(conn: Connection, scope: Scope, key: str | None) -> pd.DataFrame:
    """Attributed revenue, orders and influencers by key.

    From the fewest rows that give the tracking rows' sums (`insights.sales`); an influencer
    counts where it has attributed tracking rows.
    """
    _analytics(conn)
    dialect = conn.dialect.name
    if influencer_grain(scope, key) and key in TIME_KEYS:
        # Whole weeks and edge days fall in different buckets, so each part is summed per
        # influencer on its own, and whole weeks by week are one row per influencer already:
        # folding 240 k week rows of a 90-day trend again took most of its 2.6 s.
        parts = [
            _per_influencer(rows.subquery("part"), key, dialect, folded=grain == key)
            for rows, grain in influencer_parts(scope, key)
        ]
    elif influencer_grain(scope, key):
        parts = [_per_influencer(influencer_rows(scope, key), key, dialect, folded=False)]
    else:
        parts = [_per_influencer(attributed_sales(scope, key), key, dialect, folded=False)]
    per_influencer = union_all(*parts).subquery("per_influencer")
    outer_key = [per_influencer.c.key] if key is not None else []
    statement = select(
        *outer_key,
        cast(func.coalesce(func.sum(per_influencer.c.revenue), 0), Float).label("revenue"),
        func.coalesce(func.sum(per_influencer.c.orders), 0).label("orders"),
        func.count().label("influencers"),
    ).group_by(*outer_key)
    names = (["key"] if key is not None else []) + ["revenue", "orders", "influencers"]
    return _normalise_key(_frame(conn, statement, names))


def _per_influencer(table, key: str | None, dialect: str, folded: bool) -> Select:
    """One row per key and influencer with attributed rows, so that counting influencers is
    counting rows (PostgreSQL sorts every row for COUNT(DISTINCT), ~250 ms on the 270 k rows
    of a 90-day trend); `folded`: `table` is one row per key and influencer already."""
    key_col = _key_column(table, key, table.c.date, dialect)
    keys = [key_col.label("key")] if key_col is not None else []
    counted = [table.c.sales_rows > 0] if "sales_rows" in table.c else []
    if folded:
        return select(*keys, table.c.revenue, table.c.orders).where(*counted)
    return (
        select(*keys, func.sum(table.c.revenue).label("revenue"),
               func.sum(table.c.orders).label("orders"))
        .where(*counted)
        .group_by(*(keys and [key_col]), table.c.influencer_id)
    )  # fmt: skip


def influencer_sums(conn: Connection, scope: Scope) -> pd.DataFrame | None:
    """Revenue, orders, cost, posts, engagements and reach per influencer (column `key`) in
    one statement over the per-influencer tables, instead of `revenue`, `cost` and `posts`
    reading the same rows three times; None when those tables cannot answer the scope."""
    key = "influencer_id"
    if not influencer_grain(scope, key):
        return None
    _analytics(conn)
    rows = influencer_rows(scope, key)
    names = ["revenue", "orders", "cost", "posts", "engagements", "reach"]
    undivided_cost = undivided(scope, key, conn.dialect.name).subquery("undivided")
    parts = union_all(
        select(rows.c.influencer_id.label("key"), *(rows.c[n] for n in names)),
        select(undivided_cost.c.key, *(undivided_cost.c.cost if n == "cost" else literal(0)
                                       for n in names)),
    ).subquery("parts")  # fmt: skip
    statement = select(parts.c.key, *(cast(func.sum(parts.c[n]), Float) for n in names)).group_by(
        parts.c.key
    )
    frame = _frame(conn, statement, ["key", *names])
    return frame.astype({"orders": "int64", "posts": "int64"})


def cost(conn: Connection, scope: Scope, key: str | None) -> pd.DataFrame:
    """Cost by key (`insights.cost`); 0.0 where a key has none."""
    _analytics(conn)
    statement = cost_by(scope, key, conn.dialect.name)
    names = ["key", "cost"] if key is not None else ["cost"]
    with _hash_joins_only(conn):
        frame = _normalise_key(_frame(conn, statement, names))
    frame["cost"] = frame["cost"].fillna(0.0).astype(float)
    return frame


@contextmanager
def _hash_joins_only(conn: Connection) -> Iterator[None]:
    """PostgreSQL cannot estimate how many folded sales groups match their cost rates (the
    join is on four columns, one through coalesce) and guesses one row. On that guess it has
    picked nested loops (80 s instead of 0.4 s on a year of data, before the rates existed) and
    merge joins that sort ~70 k groups (a quarter of a 90-day trend's time). Every join of the
    cost statement is a large equi-join, so for this one statement only hash joins are allowed
    (`_analytics` gives them room in memory)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")
    yield  # on an error the transaction is rolled back, and SET LOCAL with it
    for setting in ("enable_nestloop", "enable_mergejoin"):
        conn.exec_driver_sql(f"RESET {setting}")


def posts(conn: Connection, scope: Scope, key: str | None) -> pd.DataFrame:
    """Posts and engagement by key (influencer_id, week, month or none).

    Posts carry no brand, so under a brand/product/campaign filter the posts in scope are those
    of influencers with attributed sales in that scope.
    """
    _analytics(conn)
    if influencer_grain(scope, key):
        return _posts_per_influencer(conn, scope, key)
    key_col = _key_column(_p, key, _p.c.date, conn.dialect.name)
    with_reach = _p.c.reach > 0
    columns = [
        func.count().label("posts"),
        cast(func.coalesce(func.sum(case((with_reach, _p.c.likes + _p.c.comments), else_=0)), 0),
             Float).label("engagements"),
        cast(func.coalesce(func.sum(case((with_reach, _p.c.reach), else_=0)), 0),
             Float).label("reach"),
    ]  # fmt: skip
    statement = select(*([key_col.label("key")] if key_col is not None else []), *columns).where(
        *scope.in_window(_p.c.date)
    )
    statement = statement.where(*scope.in_influencers(_p.c.influencer_id))
    if scope.product_filtered:
        sellers = select(_s.c.influencer_id).where(
            _s.c.influencer_id.is_not(None), *scope.in_products(_s)
        )
        statement = statement.where(_p.c.influencer_id.in_(sellers))
    if key_col is not None:
        statement = statement.group_by(key_col)
    names = (["key"] if key_col is not None else []) + ["posts", "engagements", "reach"]
    return _normalise_key(_frame(conn, statement, names))


def _posts_per_influencer(conn: Connection, scope: Scope, key: str | None) -> pd.DataFrame:
    """`posts` from the per-influencer tables: the same sums, over the window's weeks and days."""
    table = influencer_rows(scope, key)
    key_col = _key_column(table, key, table.c.date, conn.dialect.name)
    keys = [key_col.label("key")] if key_col is not None else []
    statement = select(
        *keys,
        func.coalesce(func.sum(table.c.posts), 0).label("posts"),
        cast(func.coalesce(func.sum(table.c.engagements), 0), Float).label("engagements"),
        cast(func.coalesce(func.sum(table.c.reach), 0), Float).label("reach"),
    ).where(table.c.posts > 0)
    if keys:
        statement = statement.group_by(key_col)
    names = (["key"] if keys else []) + ["posts", "engagements", "reach"]
    return _normalise_key(_frame(conn, statement, names))


def daily_by_brand(conn: Connection, start: dt.date, end: dt.date) -> dict[str, Daily]:
    """Every brand's attributed and other revenue per day from `start` to `end`, and which days
    have rows of it (`insights.incremental`'s input). From `daily_sales`: the baseline needs
    each day's sums, never single rows."""
    return _daily(conn, _d.c.brand, start, end)  # type: ignore[return-value]  # brands: str


def daily_of(
    conn: Connection, column: str, values: frozenset[str], start: dt.date, end: dt.date
) -> Daily:
    """The daily sums of the brand or product (`column`) spelled any of `values`: a control."""
    found = _daily(conn, None, start, end, _d.c[column].in_(sorted(values)))
    return found.get(None) or _no_days(start, end)


def _daily(
    conn: Connection, group, start: dt.date, end: dt.date, *where: ColumnElement[bool]
) -> dict[str | None, Daily]:
    """Daily sums per value of `group` (a column), or of everything `where` keeps (None)."""
    keys = [group] if group is not None else []
    statement = (
        select(
            *keys,
            _d.c.date,
            cast(func.sum(_d.c.attributed_revenue), Float),
            cast(func.sum(_d.c.other_revenue), Float),
        )
        .where(_d.c.date >= start, _d.c.date <= end, *where)
        .group_by(*keys, _d.c.date)
    )
    out: dict[str | None, Daily] = {}
    for row in conn.execute(statement):
        name, (date, attributed, other) = (row[0] if keys else None), row[-3:]
        i = (_as_date(date) - start).days
        daily = out.setdefault(name, _no_days(start, end))
        daily.attributed[i], daily.other[i] = attributed, other
        daily.present[i] = True
    return out


def _no_days(start: dt.date, end: dt.date) -> Daily:
    days = (end - start).days + 1
    return Daily(np.zeros(days), np.zeros(days), np.zeros(days, dtype=bool))


def revenue_by_brand(conn: Connection, scope: Scope, key: str | None) -> pd.DataFrame:
    """Attributed revenue by (key, brand) in scope: what a row's incremental revenue is a share
    of, brand by brand."""
    table = attributed_sales(scope, key)
    key_col = _key_column(table, key, table.c.date, conn.dialect.name)
    keys = [key_col.label("key")] if key_col is not None else []
    statement = select(
        *keys, table.c.brand, cast(func.sum(table.c.revenue), Float).label("revenue")
    ).group_by(*(keys and [key_col]), table.c.brand)
    names = (["key"] if keys else []) + ["brand", "revenue"]
    return _normalise_key(_frame(conn, statement, names))


def all_revenue(conn: Connection, scope: Scope) -> float:
    """All revenue in the scope's window and brand/product/campaign filters, attributed or not."""
    statement = select(
        cast(func.coalesce(func.sum(_d.c.attributed_revenue + _d.c.other_revenue), 0), Float)
    ).where(*scope.in_window(_d.c.date), *scope.in_products(_d))
    return float(conn.execute(statement).scalar_one())


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
