"""Sales, posts and their cost per influencer by day, by week and of all time, after cost_rates.

A window's answer without brand/product/campaign filters needs, per influencer (or per week),
attributed orders and revenue, posts with their engagement, and cost. From the group-grain
tables that meant multiplying every sales group of the window by its rate, joined over the
whole `cost_rates` table (609 k rows at 20,000 influencers) whatever the window: a 30-day
answer cost as much as all time. Here the rates are applied once, at ingest, and each row holds
an influencer's figures for a day (`influencer_days`), an ISO week (`influencer_weeks`) or all
time (`influencer_totals`), so a window reads its whole weeks and its edge days: at 20,000
influencers a 30-day window is ~112 k rows instead of ~233 k rows joined to ~609 k.

The cost kept is linear, like the rates: a day's rule 1 cost is the sum of its tracking rows'
orders times their group's cost per order, its rule 2 cost its posts times the influencer's cost
per post (every group's share together). Undivided payouts (rule 0) stay in `payout_plans`.

Every row belongs to one influencer and depends on that influencer's tracking rows, posts and
cost rates only, so a load recomputes the influencers whose ledger it recomputes
(`storage.derived.refresh_influencers`): weeks from days, all time from weeks.
"""

from __future__ import annotations

from contextlib import nullcontext

from sqlalchemy import (
    Connection,
    Float,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from storage import bulk, models
from storage.sqlkeys import week_start

_t, _p, _r = models.tracking, models.posts, models.cost_rates
_days, _weeks, _totals = models.influencer_days, models.influencer_weeks, models.influencer_totals
SUMS = ("orders", "revenue", "sales_rows", "posts", "engagements", "reach", "cost")


def rebuild(conn: Connection, influencers: set[str] | None) -> None:
    """The three tables' rows of `influencers` (None: all), after `cost_rates` is up to date."""
    if influencers is not None and not influencers:
        return
    ids = None if influencers is None else sorted(influencers)
    dialect = conn.dialect.name
    # Whole, influencer_days has nearly as many groups as rows: sorting them beats hashing.
    for table, statement, sort_groups in (
        (_days, _from_rows(ids), True),
        (_weeks, _folded(_days, True, ids, dialect), False),
        (_totals, _folded(_weeks, False, ids, dialect), False),
    ):
        if ids is None:
            # Written in date order, a window's rows share pages: at 20,000 influencers the 96 k
            # edge rows of a 90-day window were 29 k pages of influencer_days in load order; in
            # date order the 32 k edge rows of a 30-day window are 404.
            statement = statement.order_by(*statement.selected_columns[:2])
        with bulk.refilled(conn, table) if ids is None else nullcontext():
            conn.execute(delete(table).where(*_of(table, ids)))
            columns = statement.selected_columns.keys()
            with bulk.sorted_grouping(conn) if ids is None and sort_groups else nullcontext():
                conn.execute(insert(table).from_select(columns, statement))


def _of(table, ids: list[str] | None) -> list[ColumnElement[bool]]:
    return [] if ids is None else [table.c.influencer_id.in_(ids)]


def _from_rows(ids: list[str] | None) -> Select:
    """Per (day, influencer): attributed tracking rows with their rule 1 cost, and posts with
    their rule 2 cost."""
    same_group = and_(
        _r.c.influencer_id == _t.c.influencer_id,
        _r.c.brand == _t.c.brand,
        _r.c.product == _t.c.product,
        # NULL campaigns match each other; ingest stores a blank campaign as NULL, never ''.
        func.coalesce(_r.c.campaign, "") == func.coalesce(_t.c.campaign, ""),
        _r.c.per_order > 0,
        *_of(_r, ids),  # a small load's few influencers: their rates, not all of them
    )
    sales = (
        select(
            _t.c.date,
            _t.c.influencer_id,
            _t.c.orders,
            _t.c.revenue,
            literal(1).label("sales_rows"),
            literal(0).label("posts"),
            literal(0).label("engagements"),
            literal(0).label("reach"),
            func.coalesce(_t.c.orders * _r.c.per_order, 0.0).label("cost"),
        )
        .outerjoin(_r, same_group)
        .where(_t.c.influencer_id.is_not(None), *_of(_t, ids))
    )
    per_post = (
        select(_r.c.influencer_id, func.sum(_r.c.per_post).label("per_post"))
        .where(_r.c.per_post > 0, *_of(_r, ids))
        .group_by(_r.c.influencer_id)
        .subquery("per_post")
    )
    with_reach = _p.c.reach > 0
    daily_posts = (
        select(
            _p.c.date,
            _p.c.influencer_id,
            func.count().label("posts"),
            func.sum(case((with_reach, _p.c.likes + _p.c.comments), else_=0)).label("engaged"),
            func.sum(case((with_reach, _p.c.reach), else_=0)).label("reach"),
        )
        .where(*_of(_p, ids))
        .group_by(_p.c.date, _p.c.influencer_id)
        .subquery("daily_posts")
    )
    posts = select(
        daily_posts.c.date,
        daily_posts.c.influencer_id,
        literal(0),
        literal(0),
        literal(0),
        daily_posts.c.posts,
        daily_posts.c.engaged,
        daily_posts.c.reach,
        # the same product as insights.cost multiplied before: posts x the cost of one post
        func.coalesce(daily_posts.c.posts * per_post.c.per_post, 0.0),
    ).outerjoin(per_post, per_post.c.influencer_id == daily_posts.c.influencer_id)
    rows = union_all(sales, posts).subquery("rows")
    return _summed(rows, rows.c.date.label("date"), rows.c.influencer_id)


def _folded(table, week: bool, ids: list[str] | None, dialect: str) -> Select:
    """`table`'s rows summed per influencer and ISO week (`week`) or of all time."""
    finer = select(table).where(*_of(table, ids)).subquery("finer")
    grain = week_start(finer.c.date, dialect).label("week") if week else None
    return _summed(finer, grain, finer.c.influencer_id)


def _summed(rows, grain: ColumnElement | None, who: ColumnElement) -> Select:
    keys = [k for k in (grain, who) if k is not None]
    sums = [func.sum(rows.c[name]).label(name) for name in SUMS if name != "cost"]
    cost = cast(func.sum(rows.c.cost), Float).label("cost")
    return select(*keys, *sums, cost).group_by(*keys)
