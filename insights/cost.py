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
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from insights.scope import Scope
from insights.sqlkeys import time_bucket
from storage import models

ORDER_BASES = ("order", "orders", "sale", "sales", "commission", "cps")
RULE_ORDERS, RULE_POSTS, RULE_UNSPREAD = 1, 2, 0

_t, _s, _p, _pay = models.tracking, models.tracking_totals, models.posts, models.payouts


def _sales(scope: Scope, key: str | None, dialect: str):
    """Attributed sales folded to rows of (influencer, brand, campaign[, product|bucket]).

    Matching a payout to "its" rows (`_pairs`) is a join on influencer_id plus a
    case-insensitive brand/campaign test no index or hash can serve, so it runs on folded rows
    (~27 k on a year of data), not on tracking rows (~1 M). The all-time sums every payout needs
    (orders_all, revenue_all) and the product-filtered revenue of rule 2 come from
    `tracking_totals`; the in-window orders of rule 1 come from the window's tracking rows (an
    index range), or from the totals too when the query names no window and no time bucket.
    The two parts are separate rows of one CTE: every reader sums them.
    """
    time_key = key in ("week", "month")
    window_from_totals = not scope.explicit_window and not time_key
    totals_keys = [_s.c.influencer_id, _s.c.brand, _s.c.campaign]
    window_keys = [_t.c.influencer_id, _t.c.brand, _t.c.campaign]
    if key == "product":
        totals_keys.append(_s.c.product)
        window_keys.append(_t.c.product)
    in_products = and_(literal(True), *scope.in_products(_s))
    zero = literal(0)
    totals_columns = [
        *totals_keys,
        func.sum(_s.c.orders).label("orders_all"),
        func.sum(_s.c.revenue).label("revenue_all"),
        func.sum(case((in_products, _s.c.orders), else_=0)).label("orders_in")
        if window_from_totals
        else zero.label("orders_in"),
        func.sum(case((in_products, _s.c.row_count), else_=0)).label("rows_in")
        if window_from_totals
        else zero.label("rows_in"),
        func.sum(case((in_products, _s.c.revenue), else_=0)).label("revenue_in"),
        func.sum(case((in_products, _s.c.row_count), else_=0)).label("rows_products"),
    ]
    if time_key:
        totals_columns.insert(len(totals_keys), null().label("bucket"))
    parts = [select(*totals_columns).where(_s.c.influencer_id.is_not(None)).group_by(*totals_keys)]
    if not window_from_totals:
        if time_key:
            window_keys.append(time_bucket(_t.c.date, key, dialect).label("bucket"))
        parts.append(
            select(
                *window_keys,
                zero.label("orders_all"),
                zero.label("revenue_all"),
                func.sum(_t.c.orders).label("orders_in"),
                func.count().label("rows_in"),
                zero.label("revenue_in"),
                zero.label("rows_products"),
            )
            .where(
                _t.c.influencer_id.is_not(None),
                *scope.in_window(_t.c.date),
                *scope.in_products(_t),
            )
            .group_by(*window_keys)
        )
    return union_all(*parts).cte("sales")


def _pairs(sales):
    """Each payout with the folded sales rows it may spread over (rule 3), computed once.

    Written as four equi-joins, one per "names a brand / a campaign" case, instead of one join
    with `pay.brand IS NULL OR lower(..) = lower(..)`: PostgreSQL can hash these and estimate
    their size, while the OR form is a post-join filter it estimates at ~1 row, which made it
    pick nested loops over the result (150 M comparisons on the sample year).
    """
    pay = _pay.alias("pay_e")
    cols = [pay.c.row_key, *(c for c in sales.c if c.name != "influencer_id")]
    same = sales.c.influencer_id == pay.c.influencer_id
    brand = func.lower(sales.c.brand) == func.lower(pay.c.brand)
    campaign = func.lower(sales.c.campaign) == func.lower(pay.c.campaign)
    named_brand, named_campaign = pay.c.brand.is_not(None), pay.c.campaign.is_not(None)
    branches = [
        select(*cols).join_from(pay, sales, and_(same, brand, campaign))
        .where(named_brand, named_campaign),
        select(*cols).join_from(pay, sales, and_(same, brand))
        .where(named_brand, pay.c.campaign.is_(None)),
        select(*cols).join_from(pay, sales, and_(same, campaign))
        .where(pay.c.brand.is_(None), named_campaign),
        select(*cols).join_from(pay, sales, same)
        .where(pay.c.brand.is_(None), pay.c.campaign.is_(None)),
    ]  # fmt: skip
    return union_all(*branches).cte("pairs")


def payout_plan(scope: Scope, pairs=None):
    """One row per payout in scope: its totals over what it can spread over, and its rule."""
    pay = _pay.alias("pay")
    t = pairs if pairs is not None else _pairs(_sales(scope, None, ""))
    spread = (
        select(
            t.c.row_key,
            func.sum(t.c.orders_all).label("orders_total"),
            func.sum(t.c.revenue_all).label("revenue_total"),
        )
        .group_by(t.c.row_key)
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
    pairs = _pairs(_sales(scope, key, dialect))
    plan = payout_plan(scope, pairs)
    parts = [
        _by_orders(plan, pairs, key, dialect),
        *_by_posts(plan, pairs, scope, key, dialect),
        _unspread(plan, scope, key, dialect),
    ]
    shares = union_all(*parts).subquery("shares")
    if key is None:
        return select(func.sum(shares.c.cost).label("cost"))
    return select(shares.c.key, func.sum(shares.c.cost).label("cost")).group_by(shares.c.key)


def _key_or_null(key: str | None, columns: dict, date_column, dialect: str):
    if key is None:
        return literal(None).label("key")
    if key in ("week", "month"):
        return time_bucket(date_column, key, dialect).label("key")
    value = columns.get(key)
    return (value if value is not None else null()).label("key")


def _by_orders(plan, t, key: str | None, dialect: str) -> Select:
    """Rule 1: a share per eligible attributed tracking row in scope, weighted by its orders."""
    share = plan.c.total * cast(t.c.orders_in, Float) / plan.c.orders_total
    columns = {"influencer_id": plan.c.influencer_id, "brand": t.c.brand,
               "campaign": t.c.campaign}  # fmt: skip
    if key == "product":
        columns["product"] = t.c.product
    if key in ("week", "month"):
        key_column = t.c.bucket.label("key")
    else:
        key_column = _key_or_null(key, columns, None, dialect)
    return (
        select(key_column, share.label("cost"))
        .select_from(plan)
        .join(t, t.c.row_key == plan.c.row_key)
        .where(plan.c.rule == RULE_ORDERS, t.c.rows_in > 0)
    )


def _by_posts(plan, t, scope: Scope, key: str | None, dialect: str) -> list[Select]:
    """Rule 2: an equal share per post, split by the influencer's attributed revenue.

    Dates come from posts and brand/product/campaign from revenue, independently, so the posts
    side and the revenue side are aggregated apart and multiplied: posts x revenue groups would
    be millions of rows on a year of data.
    """
    post_key = time_bucket(_p.c.date, key, dialect) if key in ("week", "month") else None
    folded_cols = [_p.c.influencer_id, func.count().label("posts")]
    if post_key is not None:
        folded_cols.insert(1, post_key.label("bucket"))
    folded = (
        select(*folded_cols)
        .where(*scope.in_window(_p.c.date))
        .group_by(*(c for c in folded_cols if c.name != "posts"))
        .subquery("posts_in_scope")
    )
    post_cols = [plan.c.row_key.label("payout"), folded.c.posts.label("posts")]
    if post_key is not None:
        post_cols.insert(1, folded.c.bucket.label("bucket"))
    posts = (
        select(*post_cols)
        .select_from(plan)
        .join(folded, folded.c.influencer_id == plan.c.influencer_id)
        .where(plan.c.rule == RULE_POSTS)
        .subquery("r2_posts")
    )
    group_col = t.c[key] if key in ("brand", "product", "campaign") else None
    rev_cols = [plan.c.row_key.label("payout"), func.sum(t.c.revenue_in).label("revenue")]
    if group_col is not None:
        rev_cols.insert(1, group_col.label("grp"))
    revenue = (
        select(*rev_cols)
        .select_from(plan)
        .join(t, t.c.row_key == plan.c.row_key)
        .where(plan.c.rule == RULE_POSTS, plan.c.revenue_total > 0, t.c.rows_products > 0)
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
    named = {"influencer_id": plan.c.influencer_id, "brand": plan.c.brand,
             "campaign": plan.c.campaign}  # fmt: skip
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
    columns = {"influencer_id": plan.c.influencer_id, "brand": plan.c.brand,
               "campaign": plan.c.campaign}  # fmt: skip
    return (
        select(_key_or_null(key, columns, plan.c.payout_date, dialect), plan.c.total.label("cost"))
        .select_from(plan)
        .where(
            plan.c.rule == RULE_UNSPREAD,
            *scope.in_window(plan.c.payout_date),
            *_named_filters(plan, scope),
        )
    )
