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

What each payout may spread over and by which rule is data, not query: `storage.ledger_basis`
keeps it at ingest (payout_pairs, payout_plans). Here only the query's part is computed: the
shares that fall in its window, filters and breakdown. See docs/metrics.md for the worked
example and for how a payout that names a brand keeps it.
"""

from __future__ import annotations

from sqlalchemy import Float, Select, and_, cast, func, literal, null, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from insights.scope import Scope
from insights.sqlkeys import time_bucket
from storage import models
from storage.ledger_basis import RULE_ORDERS, RULE_POSTS, RULE_UNSPREAD

_t, _p = models.tracking, models.posts
_pairs, _plans = models.payout_pairs, models.payout_plans
_GROUP = ("influencer_id", "brand", "product", "campaign")


def _plan(scope: Scope):
    plan = select(_plans)
    if scope.influencer_ids is not None:
        plan = plan.where(_plans.c.influencer_id.in_(sorted(scope.influencer_ids)))
    return plan.cte("plan")


def cost_by(scope: Scope, key: str | None, dialect: str) -> Select:
    """Cost in scope grouped by `key` (None: one total row).

    key: influencer_id | brand | product | campaign | week | month. Rows have columns
    (key, cost); an unattributed share has key NULL when grouping by brand/product/campaign.
    """
    plan = _plan(scope)
    parts = [
        _by_orders(plan, scope, key, dialect),
        *_by_posts(plan, scope, key, dialect),
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


def _by_orders(plan, scope: Scope, key: str | None, dialect: str) -> Select:
    """Rule 1: a share per (payout, sales group in scope), weighted by the group's orders.

    Without a window or time bucket the groups in scope are the payout's pairs themselves;
    otherwise the window's tracking rows are folded to the pairs' grain and matched to them.
    """
    if not scope.explicit_window and key not in ("week", "month"):
        orders, sales, conditions = _pairs.c.orders, _pairs, scope.in_products(_pairs)
        statement = select().select_from(plan).join(_pairs, _pairs.c.row_key == plan.c.row_key)
    else:
        keys = [_t.c[c] for c in _GROUP]
        if key in ("week", "month"):
            keys.append(time_bucket(_t.c.date, key, dialect).label("bucket"))
        sales = (
            select(*keys, func.sum(_t.c.orders).label("orders_in"))
            .where(
                _t.c.influencer_id.is_not(None),
                *scope.in_window(_t.c.date),
                *scope.in_products(_t),
            )
            .group_by(*keys)
            .subquery("sales_in_scope")
        )
        same = [_pairs.c[c] == sales.c[c] for c in ("influencer_id", "brand", "product")]
        # NULL campaigns must match each other: coalesce keeps the join hashable (IS NOT
        # DISTINCT FROM is not), and ingest stores a blank campaign as NULL, never as ''.
        same.append(func.coalesce(_pairs.c.campaign, "") == func.coalesce(sales.c.campaign, ""))
        orders, conditions = sales.c.orders_in, []
        statement = (
            select()
            .select_from(plan)
            .join(_pairs, _pairs.c.row_key == plan.c.row_key)
            .join(sales, and_(*same))
        )
    if key in ("week", "month"):
        key_column = sales.c.bucket.label("key")
    elif key is None:
        key_column = literal(None).label("key")
    else:
        key_column = sales.c[key].label("key")
    share = plan.c.total * cast(orders, Float) / plan.c.orders_total
    return statement.add_columns(key_column, share.label("cost")).where(
        plan.c.rule == RULE_ORDERS, *conditions
    )


def _by_posts(plan, scope: Scope, key: str | None, dialect: str) -> list[Select]:
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
    group_col = _pairs.c[key] if key in ("brand", "product", "campaign") else None
    rev_cols = [plan.c.row_key.label("payout"), func.sum(_pairs.c.revenue).label("revenue")]
    if group_col is not None:
        rev_cols.insert(1, group_col.label("grp"))
    revenue = (
        select(*rev_cols)
        .select_from(plan)
        .join(_pairs, _pairs.c.row_key == plan.c.row_key)
        .where(plan.c.rule == RULE_POSTS, plan.c.revenue_total > 0, *scope.in_products(_pairs))
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
