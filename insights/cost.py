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

A share is linear in the orders or posts it covers, so ingest folds every payout into
`cost_rates` (storage.ledger_basis): per sales group, what one of its orders costs and what one
post of its influencer costs and books to it. A query's cost is the orders and posts in its
window, filters and breakdown times those rates, plus the undivided payouts of rule 3. See
docs/metrics.md for the worked example and for how a payout that names a brand keeps it.

Without brand/product/campaign filters or breakdowns the products are made at ingest too, per
influencer and day, week or all time (storage.influencer_rollups): the cost of such a window is
a sum over its own rows, whose number follows the influencers active in it, not over every
sales group's rate (at 20,000 influencers, 609 k rates hashed twice per answer, whatever the
window).
"""

from __future__ import annotations

from sqlalchemy import Select, and_, func, literal, null, select, union_all

from insights.sales import attributed_sales, influencer_grain, influencer_rows
from insights.scope import PRODUCT_KEYS, Scope
from storage import models
from storage.ledger_basis import RULE_UNSPREAD
from storage.sqlkeys import TIME_KEYS, time_bucket

_p, _rates, _plans = models.posts, models.cost_rates, models.payout_plans


def cost_by(scope: Scope, key: str | None, dialect: str) -> Select:
    """Cost in scope grouped by `key` (None: one total row).

    key: influencer_id | brand | product | campaign | week | month. Rows have columns
    (key, cost); an unattributed share has key NULL when grouping by brand/product/campaign.
    """
    if influencer_grain(scope, key):
        parts = [_per_influencer(scope, key, dialect), undivided(scope, key, dialect)]
    else:
        parts = [_by_orders(scope, key, dialect), _by_posts(scope, key, dialect),
                 undivided(scope, key, dialect)]  # fmt: skip
    shares = union_all(*parts).subquery("shares")
    if key is None:
        return select(func.sum(shares.c.cost).label("cost"))
    return select(shares.c.key, func.sum(shares.c.cost).label("cost")).group_by(shares.c.key)


def _per_influencer(scope: Scope, key: str | None, dialect: str) -> Select:
    """Rules 1 and 2 together, as ingest multiplied them per influencer and day or week."""
    rows = influencer_rows(scope, key)
    if key in TIME_KEYS:
        key_column = time_bucket(rows.c.date, key, dialect)
    else:
        key_column = literal(None) if key is None else rows.c.influencer_id
    return select(key_column.label("key"), rows.c.cost.label("cost")).where(rows.c.cost > 0)


def _by_orders(scope: Scope, key: str | None, dialect: str) -> Select:
    """Rule 1: the orders of each sales group in scope times the group's cost per order.

    Each row of `attributed_sales` (all-time per group, a week per group, or a tracking row
    around the whole weeks) meets its group's rate directly: folding the rows to the groups'
    grain first measured no faster, and slower by week.
    """
    sales = attributed_sales(scope, key)
    same = [_rates.c[c] == sales.c[c] for c in ("influencer_id", "brand", "product")]
    # NULL campaigns must match each other: coalesce keeps the join hashable (IS NOT DISTINCT
    # FROM is not), and ingest stores a blank campaign as NULL, never as ''.
    same.append(func.coalesce(_rates.c.campaign, "") == func.coalesce(sales.c.campaign, ""))
    if key in TIME_KEYS:
        key_column = time_bucket(sales.c.date, key, dialect)
    else:
        key_column = literal(None) if key is None else sales.c[key]
    return (
        select(key_column.label("key"), (sales.c.orders * _rates.c.per_order).label("cost"))
        .join_from(sales, _rates, and_(*same))
        .where(
            _rates.c.per_order > 0,
            *scope.in_influencers(_rates.c.influencer_id),
            *scope.in_products(_rates),  # what the sales can meet: a smaller hash
        )
    )


def _by_posts(scope: Scope, key: str | None, dialect: str) -> Select:
    """Rule 2: each influencer's posts in scope times their cost per post in scope.

    Dates come from posts and brand/product/campaign from the rates, independently, so each side
    is folded per influencer (and bucket or group) before they meet.
    """
    post_keys = [_p.c.influencer_id]
    if key in TIME_KEYS:
        post_keys.append(time_bucket(_p.c.date, key, dialect).label("bucket"))
    posts = (
        select(*post_keys, func.count().label("posts"))
        .where(*scope.in_window(_p.c.date), *scope.in_influencers(_p.c.influencer_id))
        .group_by(*post_keys)
        .subquery("posts_in_scope")
    )
    rate_keys = [_rates.c.influencer_id]
    if key in PRODUCT_KEYS:
        rate_keys.append(_rates.c[key].label("grp"))
    rates = (
        select(*rate_keys, func.sum(_rates.c.per_post).label("per_post"))
        .where(
            _rates.c.per_post > 0,
            *scope.in_influencers(_rates.c.influencer_id),
            *scope.in_products(_rates),
        )
        .group_by(*rate_keys)
        .subquery("rates_in_scope")
    )
    if key in TIME_KEYS:
        key_column = posts.c.bucket
    elif key in PRODUCT_KEYS:
        key_column = rates.c.grp
    else:
        key_column = literal(None) if key is None else posts.c.influencer_id
    return select(
        key_column.label("key"), (posts.c.posts * rates.c.per_post).label("cost")
    ).join_from(posts, rates, rates.c.influencer_id == posts.c.influencer_id)


def undivided(scope: Scope, key: str | None, dialect: str) -> Select:
    """Rule 3, nothing to spread over: the whole payout on its payout_date (or undated). It
    carries only the payout's own brand and campaign, so a product filter leaves it out."""
    if key is None:
        key_column = literal(None)
    elif key in TIME_KEYS:
        key_column = time_bucket(_plans.c.payout_date, key, dialect)
    elif key == "product":
        key_column = null()
    else:
        key_column = _plans.c[key]
    conditions = [
        _plans.c.rule == RULE_UNSPREAD,
        *scope.in_window(_plans.c.payout_date),
        *scope.in_influencers(_plans.c.influencer_id),
    ]
    if scope.products is not None:
        conditions.append(literal(False))
    if scope.brands is not None:
        conditions.append(_plans.c.brand.in_(sorted(scope.brands)))
    if scope.campaigns is not None:
        conditions.append(_plans.c.campaign.in_(sorted(scope.campaigns)))
    return select(key_column.label("key"), _plans.c.total.label("cost")).where(*conditions)
