"""What each payout spreads over, recomputed in the loading transaction after every load.

docs/metrics.md spreads each payout by one of three rules:

1. order-basis payouts (order, sale, commission) over the influencer's attributed sales, in
   proportion to orders;
2. other payouts over the influencer's posts, each post's share split by attributed revenue;
3. a payout naming a brand or campaign only uses that brand's/campaign's sales; with nothing to
   spread over for its rule it uses the other; with neither it stays one undivided amount (0).

Which sales a payout may use, their all-time sums and the rule depend on the data alone, not on
the query, so they are kept in `payout_pairs` and `payout_plans` (storage.models) instead of
being recomputed by every answer (about 0.3 s on a year of data). `insights.cost` reads them and
only computes what a query's window and filters change. Both tables are rebuilt whole: ~30 k
payouts take well under a second, and a partial update would have to follow every way a load of
influencers, posts, tracking or payouts can change a payout's rule.
"""

from __future__ import annotations

from sqlalchemy import Connection, Float, and_, case, cast, delete, func, insert, select, union_all

from storage import models

ORDER_BASES = ("order", "orders", "sale", "sales", "commission", "cps")
RULE_ORDERS, RULE_POSTS, RULE_UNSPREAD = 1, 2, 0

_s, _p, _pay = models.tracking_totals, models.posts, models.payouts
_pairs_t, _plans_t = models.payout_pairs, models.payout_plans


def rebuild(conn: Connection) -> None:
    """Both tables from the store's current rows (after `tracking_totals` is up to date)."""
    conn.execute(delete(_plans_t))
    conn.execute(delete(_pairs_t))
    pairs_columns = ["row_key", "influencer_id", "brand", "product", "campaign", "orders",
                     "revenue"]  # fmt: skip
    conn.execute(insert(_pairs_t).from_select(pairs_columns, _pairs()))
    plan = _plans()
    conn.execute(insert(_plans_t).from_select([c.name for c in plan.selected_columns], plan))


def _pairs():
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
        .where(named_brand, named_campaign),
        select(*cols).join_from(pay, _s, and_(same, brand))
        .where(named_brand, pay.c.campaign.is_(None)),
        select(*cols).join_from(pay, _s, and_(same, campaign))
        .where(pay.c.brand.is_(None), named_campaign),
        select(*cols).join_from(pay, _s, same)
        .where(pay.c.brand.is_(None), pay.c.campaign.is_(None)),
    )  # fmt: skip


def _plans():
    """One row per payout: its totals over its pairs, its influencer's posts, and its rule."""
    pay = _pay.alias("pay")
    spread = (
        select(
            _pairs_t.c.row_key,
            func.sum(_pairs_t.c.orders).label("orders_total"),
            func.sum(_pairs_t.c.revenue).label("revenue_total"),
        )
        .group_by(_pairs_t.c.row_key)
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
    )
