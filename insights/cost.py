"""Cost: payouts spread over the rows they paid for, by one rule everywhere.

Dashboards that join payouts to orders row by row count a payout once per order. Instead each
payout becomes shares whose sum is the payout, each share carrying a date, brand, product and
campaign, so that any filter or breakdown of cost adds up to the same total:

1. order-basis payouts (order, sale, commission) spread over the influencer's attributed tracking
   rows in proportion to orders; a share takes its row's date, brand, product and campaign;
2. other payouts (post, flat fees...) spread evenly over the influencer's posts (a share takes the
   post's date), each share split across brand/product/campaign in proportion to the
   influencer's attributed revenue of all time; with no such revenue it stays "unattributed";
3. a payout naming a brand or campaign only uses that brand's/campaign's rows; with nothing to
   spread over for its rule it uses the other; with neither, it is one share on its payout_date.

See docs/metrics.md for the worked example and for how a payout that names a brand keeps it.
"""

from __future__ import annotations

from sqlalchemy import (
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from insights.scope import Scope
from insights.sqlkeys import month_start, week_start
from storage import models

ORDER_BASES = ("order", "orders", "sale", "sales", "commission", "cps")
RULE_ORDERS, RULE_POSTS, RULE_UNSPREAD = 1, 2, 0

_t, _p, _pay = models.tracking, models.posts, models.payouts


def _eligible(pay, t) -> ColumnElement[bool]:
    """The attributed tracking rows a payout may be spread over (rule 3's brand/campaign)."""
    return and_(
        t.c.influencer_id == pay.c.influencer_id,
        or_(pay.c.brand.is_(None), func.lower(t.c.brand) == func.lower(pay.c.brand)),
        or_(pay.c.campaign.is_(None), func.lower(t.c.campaign) == func.lower(pay.c.campaign)),
    )


def _attributed(
    scope: Scope,
    name: str,
    *,
    key: str | None = None,
    dialect: str = "",
    in_window: bool = False,
    filtered: bool = False,
    cte: bool = False,
):
    """Attributed tracking summed per influencer, brand, product and campaign (and time bucket).

    Payouts join this summary, not the tracking rows: a year holds about a million rows but a few
    tens of thousands of such groups, and the allocation only needs their sums (a rule-1 share
    of a group is the payout times the group's orders over the payout's orders).
    """
    t = _t
    groups = [t.c.influencer_id, t.c.brand, t.c.product, t.c.campaign]
    if key in ("week", "month"):
        groups.append(_date_key(t.c.date, key, dialect).label("bucket"))
    statement = select(
        *groups,
        func.sum(t.c.orders).label("orders"),
        func.sum(t.c.revenue).label("revenue"),
    ).where(t.c.influencer_id.is_not(None))
    if scope.influencer_ids is not None:
        statement = statement.where(t.c.influencer_id.in_(sorted(scope.influencer_ids)))
    if in_window:
        statement = statement.where(*_in_window(t.c.date, scope))
    if filtered:
        statement = statement.where(*_product_filters(t, scope))
    statement = statement.group_by(*groups)
    return statement.cte(name) if cte else statement.subquery(name)


def payout_plan(scope: Scope, summary):
    """One row per payout in scope: its totals over what it can spread over, and its rule."""
    pay = _pay.alias("pay")
    t = summary
    spread = (
        select(
            pay.c.row_key,
            func.sum(t.c.orders).label("orders_total"),
            func.sum(t.c.revenue).label("revenue_total"),
        )
        .join(t, _eligible(pay, t))
        .group_by(pay.c.row_key)
        .subquery("spread")
    )
    posts = (
        select(_p.c.influencer_id, func.count().label("posts_total"))
        .group_by(_p.c.influencer_id)
        .subquery("post_totals")
    )
    orders_total = func.coalesce(spread.c.orders_total, 0)
    posts_total = func.coalesce(posts.c.posts_total, 0)
    by_orders = func.lower(pay.c.basis).in_(ORDER_BASES)
    rule = case(
        (and_(by_orders, orders_total > 0), RULE_ORDERS),
        (posts_total > 0, RULE_POSTS),
        (orders_total > 0, RULE_ORDERS),
        else_=RULE_UNSPREAD,
    )
    statement = (
        select(
            pay.c.row_key,
            pay.c.influencer_id,
            pay.c.brand,
            pay.c.campaign,
            pay.c.payout_date,
            cast(pay.c.total_payout, Float).label("total"),
            cast(orders_total, Float).label("orders_total"),
            cast(func.coalesce(spread.c.revenue_total, 0), Float).label("revenue_total"),
            cast(posts_total, Float).label("posts_total"),
            rule.label("rule"),
        )
        .select_from(pay)
        .outerjoin(spread, spread.c.row_key == pay.c.row_key)
        .outerjoin(posts, posts.c.influencer_id == pay.c.influencer_id)
    )
    if scope.influencer_ids is not None:
        statement = statement.where(pay.c.influencer_id.in_(sorted(scope.influencer_ids)))
    return statement.cte("plan")


def cost_by(scope: Scope, key: str | None, dialect: str) -> Select:
    """Cost in scope grouped by `key` (None: one total row).

    key: influencer_id | brand | product | campaign | week | month. Rows have columns
    (key, cost); an unattributed share has key NULL when grouping by brand/product/campaign.
    """
    # One all-time summary serves the payouts' totals and rule 2's revenue split.
    summary = _attributed(scope, "attributed_all", cte=True)
    plan = payout_plan(scope, summary)
    parts = [
        _by_orders(plan, scope, key, dialect),
        *_by_posts(plan, scope, key, dialect, summary),
        _unspread(plan, scope, key, dialect),
    ]
    shares = union_all(*parts).subquery("shares")
    if key is None:
        return select(func.sum(shares.c.cost).label("cost"))
    return select(shares.c.key, func.sum(shares.c.cost).label("cost")).group_by(shares.c.key)


def _date_key(column, key: str | None, dialect: str):
    if key == "week":
        return week_start(column, dialect)
    if key == "month":
        return month_start(column, dialect)
    return None


def _in_window(column, scope: Scope) -> list[ColumnElement[bool]]:
    if not scope.explicit_window:
        return []
    w = scope.window
    conditions = []
    if w.start is not None:
        conditions.append(column >= w.start)
    if w.end is not None:
        conditions.append(column <= w.end)
    return conditions


def _product_filters(t, scope: Scope) -> list[ColumnElement[bool]]:
    conditions = []
    for column, values in (
        ("brand", scope.brands),
        ("product", scope.products),
        ("campaign", scope.campaigns),
    ):
        if values is not None:
            conditions.append(t.c[column].in_(sorted(values)))
    return conditions


def _key_or_null(key: str | None, columns: dict, date_column, dialect: str):
    if key is None:
        return literal(None).label("key")
    if key in ("week", "month"):
        return _date_key(date_column, key, dialect).label("key")
    value = columns.get(key)
    return (value if value is not None else null()).label("key")


def _by_orders(plan, scope: Scope, key: str | None, dialect: str) -> Select:
    """Rule 1: the payout shared over the eligible attributed rows in proportion to orders."""
    t = _attributed(scope, "t_r1", key=key, dialect=dialect, in_window=True, filtered=True)
    share = plan.c.total * cast(t.c.orders, Float) / plan.c.orders_total
    columns = {
        "influencer_id": plan.c.influencer_id,
        "brand": t.c.brand,
        "product": t.c.product,
        "campaign": t.c.campaign,
    }
    if key in ("week", "month"):
        key_col = t.c.bucket.label("key")
    else:
        key_col = _key_or_null(key, columns, None, dialect)
    return (
        select(key_col, share.label("cost"))
        .select_from(plan)
        .join(t, _eligible(plan, t))
        .where(plan.c.rule == RULE_ORDERS)
    )


def _by_posts(plan, scope: Scope, key: str | None, dialect: str, summary) -> list[Select]:
    """Rule 2: an equal share per post, split by the influencer's attributed revenue.

    Dates come from posts and brand/product/campaign from revenue, independently, so the posts
    side and the revenue side are aggregated apart and multiplied: posts x revenue groups would
    be millions of rows on a year of data.
    """
    post_key = _date_key(_p.c.date, key, dialect) if key in ("week", "month") else None
    post_cols = [plan.c.row_key.label("payout"), func.count().label("posts")]
    if post_key is not None:
        post_cols.insert(1, post_key.label("bucket"))
    posts = (
        select(*post_cols)
        .select_from(plan)
        .join(_p, _p.c.influencer_id == plan.c.influencer_id)
        .where(plan.c.rule == RULE_POSTS, *_in_window(_p.c.date, scope))
        .group_by(*(c for c in post_cols if c.name != "posts"))
        .subquery("r2_posts")
    )
    t = summary
    group_col = t.c[key] if key in ("brand", "product", "campaign") else None
    rev_cols = [plan.c.row_key.label("payout"), func.sum(t.c.revenue).label("revenue")]
    if group_col is not None:
        rev_cols.insert(1, group_col.label("grp"))
    revenue = (
        select(*rev_cols)
        .select_from(plan)
        .join(t, _eligible(plan, t))
        .where(plan.c.rule == RULE_POSTS, plan.c.revenue_total > 0, *_product_filters(t, scope))
        .group_by(*(c for c in rev_cols if c.name != "revenue"))
        .subquery("r2_revenue")
    )
    per_post = plan.c.total / plan.c.posts_total
    attributed_share = (
        per_post * posts.c.posts * cast(revenue.c.revenue, Float) / plan.c.revenue_total
    )
    columns = {"influencer_id": plan.c.influencer_id}
    if group_col is not None:
        columns[key] = revenue.c.grp
    attributed = (
        select(_r2_key(key, columns, posts), attributed_share.label("cost"))
        .select_from(plan)
        .join(posts, posts.c.payout == plan.c.row_key)
        .join(revenue, revenue.c.payout == plan.c.row_key)
    )
    # No attributed revenue: the shares keep the payout's own brand/campaign, if it names them.
    named = {
        "influencer_id": plan.c.influencer_id,
        "brand": plan.c.brand,
        "campaign": plan.c.campaign,
    }
    unattributed = (
        select(_r2_key(key, named, posts), (per_post * posts.c.posts).label("cost"))
        .select_from(plan)
        .join(posts, posts.c.payout == plan.c.row_key)
        .where(plan.c.revenue_total <= 0, *_named_filters(plan, scope))
    )
    return [attributed, unattributed]


def _r2_key(key: str | None, columns: dict, posts):
    if key is None:
        return literal(None).label("key")
    if key in ("week", "month"):
        return posts.c.bucket.label("key")
    value = columns.get(key)
    return (value if value is not None else null()).label("key")


def _named_filters(plan, scope: Scope) -> list[ColumnElement[bool]]:
    """Filters on a share that carries only the payout's own brand/campaign (no product)."""
    if scope.products is not None:
        return [literal(False)]
    conditions = []
    if scope.brands is not None:
        conditions.append(plan.c.brand.in_(sorted(scope.brands)))
    if scope.campaigns is not None:
        conditions.append(plan.c.campaign.in_(sorted(scope.campaigns)))
    return conditions


def _unspread(plan, scope: Scope, key: str | None, dialect: str) -> Select:
    """Nothing to spread over: the whole payout on its payout_date (or undated)."""
    columns = {
        "influencer_id": plan.c.influencer_id,
        "brand": plan.c.brand,
        "campaign": plan.c.campaign,
    }
    return (
        select(_key_or_null(key, columns, plan.c.payout_date, dialect), plan.c.total.label("cost"))
        .select_from(plan)
        .where(
            plan.c.rule == RULE_UNSPREAD,
            *_in_window(plan.c.payout_date, scope),
            *_named_filters(plan, scope),
        )
    )
