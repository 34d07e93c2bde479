"""What each payout spreads over, recomputed in the loading transaction after every load.

docs/metrics.md spreads each payout by one of three rules:

1. order-basis payouts (order, sale, commission) over the influencer's attributed sales, in
   proportion to orders;
2. other payouts over the influencer's posts, each post's share split by attributed revenue;
3. a payout naming a brand or campaign only uses that brand's/campaign's sales; with nothing to
   spread over for its rule it uses the other; with neither it stays one undivided amount (0).

Which sales a payout may use, their all-time sums and the rule depend on the data alone, not on
the query, so they are kept in `payout_pairs` and `payout_plans` (storage.models) instead of
being recomputed by every answer. From them, `cost_rates` folds all payouts of a sales group
(influencer, brand, product, campaign) into what one order of the group costs (rule 1) and what
one post of the influencer costs and books to the group (rule 2): a share of a payout is
linear in the orders or posts it covers, so the cost of any window is the orders and posts in it
times these rates, and `insights.cost` only multiplies. A load rebuilds the rows of the
influencers whose payouts, posts or sales it touches (`storage.derived.touched`).
"""

from __future__ import annotations

from sqlalchemy import (
    CompoundSelect,
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
    null,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from storage import models

ORDER_BASES = ("order", "orders", "sale", "sales", "commission", "cps")
RULE_ORDERS, RULE_POSTS, RULE_UNSPREAD = 1, 2, 0

_s, _p, _pay = models.tracking_totals, models.posts, models.payouts
_pairs_t, _plans_t, _rates_t = models.payout_pairs, models.payout_plans, models.cost_rates


def rebuild(conn: Connection, influencers: set[str] | None) -> None:
    """The three tables' rows of `influencers` (None: all) from the store's current rows, after
    `tracking_totals` is up to date. Every row of them belongs to one influencer, the payout's,
    and depends only on that influencer's payouts, posts and sales."""
    if influencers is not None and not influencers:
        return
    ids = None if influencers is None else sorted(influencers)
    for table in (_rates_t, _plans_t, _pairs_t):
        conn.execute(delete(table).where(*_of(table, ids)))
    for table, statement in ((_pairs_t, _pairs(ids)), (_plans_t, _plans(ids)),
                             (_rates_t, _rates(ids))):  # fmt: skip
        conn.execute(insert(table).from_select(statement.selected_columns.keys(), statement))


def _of(table: FromClause, ids: list[str] | None) -> list[ColumnElement[bool]]:
    """Conditions keeping `table`'s rows of the influencers `ids` (none for all)."""
    return [] if ids is None else [table.c.influencer_id.in_(ids)]


def _pairs(ids: list[str] | None) -> CompoundSelect:
    """Each payout with the attributed (influencer, brand, product, campaign) groups it may use.

    Four equi-joins, one per "names a brand / a campaign" case, instead of one join with
    `pay.brand IS NULL OR lower(..) = lower(..)`: PostgreSQL can hash these, while the OR form
    is a post-join filter it estimates at ~1 row and answers with nested loops.
    """
    pay = _pay.alias("pay")
    cols = [pay.c.row_key, _s.c.influencer_id, _s.c.brand, _s.c.product, _s.c.campaign,
            _s.c.orders, _s.c.revenue]  # fmt: skip
    same = _s.c.influencer_id == pay.c.influencer_id
    brand = func.lower(_s.c.brand) == func.lower(pay.c.brand)
    campaign = func.lower(_s.c.campaign) == func.lower(pay.c.campaign)
    named_brand, named_campaign = pay.c.brand.is_not(None), pay.c.campaign.is_not(None)
    return union_all(
        select(*cols).join_from(pay, _s, and_(same, brand, campaign))
        .where(named_brand, named_campaign, *_of(pay, ids)),
        select(*cols).join_from(pay, _s, and_(same, brand))
        .where(named_brand, pay.c.campaign.is_(None), *_of(pay, ids)),
        select(*cols).join_from(pay, _s, and_(same, campaign))
        .where(pay.c.brand.is_(None), named_campaign, *_of(pay, ids)),
        select(*cols).join_from(pay, _s, same)
        .where(pay.c.brand.is_(None), pay.c.campaign.is_(None), *_of(pay, ids)),
    )  # fmt: skip


def _plans(ids: list[str] | None) -> Select:
    """One row per payout: its totals over its pairs, its influencer's posts, and its rule."""
    pay = _pay.alias("pay")
    spread = (
        select(
            _pairs_t.c.row_key,
            func.sum(_pairs_t.c.orders).label("orders_total"),
            func.sum(_pairs_t.c.revenue).label("revenue_total"),
        )
        .where(*_of(_pairs_t, ids))
        .group_by(_pairs_t.c.row_key)
        .subquery("spread")
    )
    posts = (
        select(_p.c.influencer_id, func.count().label("posts_total"))
        .where(*_of(_p, ids))
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
    return (
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
        .where(*_of(pay, ids))
    )


def _rates(ids: list[str] | None) -> Select:
    """Per sales group: the cost of one of its orders and of one post booked to it.

    Rule 1 spreads `total` over the pairs' orders: `total / orders_total` per order. Rule 2 gives
    each post `total / posts_total`, split over the pairs by revenue; without attributed revenue
    the share keeps the payout's own brand and campaign (product NULL).
    """
    pay = _plans_t.alias("plan")
    group = [_pairs_t.c.influencer_id, _pairs_t.c.brand, _pairs_t.c.product, _pairs_t.c.campaign]
    per_post = pay.c.total / pay.c.posts_total
    shares = union_all(
        select(*group, (pay.c.total / pay.c.orders_total).label("per_order"),
               literal(0.0).label("per_post"))
        .join_from(pay, _pairs_t, _pairs_t.c.row_key == pay.c.row_key)
        .where(pay.c.rule == RULE_ORDERS, *_of(pay, ids)),
        select(*group, literal(0.0),
               per_post * cast(_pairs_t.c.revenue, Float) / pay.c.revenue_total)
        .join_from(pay, _pairs_t, _pairs_t.c.row_key == pay.c.row_key)
        .where(pay.c.rule == RULE_POSTS, pay.c.revenue_total > 0, *_of(pay, ids)),
        select(pay.c.influencer_id, pay.c.brand, null(), pay.c.campaign, literal(0.0), per_post)
        .where(pay.c.rule == RULE_POSTS, pay.c.revenue_total <= 0, *_of(pay, ids)),
    ).subquery("shares")  # fmt: skip
    keys = [shares.c.influencer_id, shares.c.brand, shares.c.product, shares.c.campaign]
    return select(
        *keys,
        func.sum(shares.c.per_order).label("per_order"),
        func.sum(shares.c.per_post).label("per_post"),
    ).group_by(*keys)
