"""Properties of the cost allocation on random small datasets (hypothesis), on both stores."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from insights import cost, metrics, sales
from insights.engine import answer
from insights.query import parse
from storage import derived, models

DAY0 = dt.date(2025, 3, 1)
BREAKDOWNS = ["influencer", "brand", "product", "campaign", "platform", "category", "gender",
              "tier", "persona", "week", "month"]  # fmt: skip

days = st.integers(min_value=0, max_value=20).map(lambda n: DAY0 + dt.timedelta(days=n))
money = st.integers(min_value=0, max_value=5000).map(float)


@st.composite
def datasets(draw):
    n = draw(st.integers(min_value=1, max_value=4))
    ids = [f"I{i}" for i in range(n)]
    influencers = [
        {"influencer_id": i, "name": f"Name {i}", "category": draw(st.sampled_from(["Fit", "Kid"])),
         "gender": draw(st.sampled_from(["Male", "Female"])),
         "follower_count": draw(st.sampled_from([500, 10_000, 60_000, 2_000_000])),
         "platform": draw(st.sampled_from(["Instagram", "YouTube"]))}
        for i in ids
    ]  # fmt: skip
    posts = [
        {"post_id": f"P{k}", "influencer_id": draw(st.sampled_from(ids)), "platform": "Instagram",
         "date": draw(days), "reach": draw(st.integers(0, 1000)), "likes": draw(st.integers(0, 50)),
         "comments": draw(st.integers(0, 10))}
        for k in range(draw(st.integers(0, 6)))
    ]  # fmt: skip
    tracking = [
        {"row_key": f"T{k}", "source": "x",
         "influencer_id": draw(st.one_of(st.none(), st.sampled_from(ids))),
         "brand": draw(st.sampled_from(["B1", "B2"])), "product": draw(st.sampled_from(["p", "q"])),
         "campaign": draw(st.sampled_from([None, "C1", "C2"])), "date": draw(days),
         "orders": draw(st.integers(0, 5)), "revenue": draw(money)}
        for k in range(draw(st.integers(0, 10)))
    ]  # fmt: skip
    payouts = [
        {"row_key": f"Y{k}", "influencer_id": draw(st.sampled_from(ids)),
         "basis": draw(st.sampled_from(["post", "order", "flat", "commission"])),
         "total_payout": draw(money), "payout_date": draw(st.one_of(st.none(), days)),
         "brand": draw(st.sampled_from([None, "B1", "B2"])),
         "campaign": draw(st.sampled_from([None, "C1"]))}
        for k in range(draw(st.integers(0, 6)))
    ]  # fmt: skip
    return influencers, posts, tracking, payouts


def _replace(db, data) -> None:
    tables = [models.influencers, models.posts, models.tracking, models.payouts]
    with db.begin() as conn:
        for table in reversed(tables):
            conn.execute(delete(table))
        for table, rows in zip(tables, data, strict=True):
            if rows:
                conn.execute(insert(table), rows)
        derived.rebuild_all(conn)


def _ask(db, text):
    return answer(db, parse(text, dt.date(2025, 4, 1))).to_dict()


PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(data=datasets())
def test_total_cost_equals_total_payouts(store, data):
    _replace(store, data)
    payouts = sum(p["total_payout"] for p in data[3])
    assert _ask(store, "/roas")["totals"]["cost"] == pytest.approx(payouts, abs=0.05)


@pytest.mark.parametrize("scope", ["", "from=2025-03-05 to=2025-03-15", "brand=B1"])
@PROPERTY_SETTINGS
@given(data=datasets())
def test_every_breakdown_sums_to_the_totals(store, scope, data):
    _replace(store, data)
    if (
        "brand=B1" in scope
        and not any(t["brand"] == "B1" for t in data[2])
        and not any(p["brand"] == "B1" for p in data[3])
    ):
        return  # no such brand in this dataset: the query is refused, nothing to sum
    for by in BREAKDOWNS:
        result = _ask(store, f"/roas {scope} by={by} top=1000")
        for figure in ("cost", "revenue", "orders"):
            assert sum(r[figure] for r in result["rows"]) == pytest.approx(
                result["totals"][figure], abs=0.05
            ), (by, figure)


@PROPERTY_SETTINGS
@given(
    data=datasets(),
    first=st.integers(min_value=0, max_value=20),
    length=st.integers(min_value=0, max_value=20),
    by=st.sampled_from(["influencer", "brand", "week", "tier"]),
)
def test_whole_weeks_from_the_weekly_rollup_give_the_sums_of_the_tracking_rows(
    store, data, first, length, by
):
    """Windows that start and end on any weekday, with or without whole weeks inside: answers
    reading whole weeks from `weekly_sales` equal answers reading every tracking row."""
    influencers, posts, tracking, payouts = data
    # A sale on every day as well, so that a window cut one day wrong always shows.
    daily = [
        {"row_key": f"D{d}", "source": "x", "influencer_id": influencers[d % len(influencers)][
         "influencer_id"], "brand": "B1", "product": "p", "campaign": None,
         "date": DAY0 + dt.timedelta(days=d), "orders": 1, "revenue": 10.0 + d}
        for d in range(21)
    ]  # fmt: skip
    _replace(store, (influencers, posts, tracking + daily, payouts))
    start = DAY0 + dt.timedelta(days=first)
    text = f"/roas by={by} top=1000 from={start} to={start + dt.timedelta(days=length)}"
    from_weeks = _ask(store, text)
    original = sales.attributed_sales

    def rows_only(scope, key):  # what by=month reads: tracking rows only
        return original(scope, "month")

    with (
        mock.patch.object(metrics, "attributed_sales", rows_only),
        mock.patch.object(cost, "attributed_sales", rows_only),
    ):
        from_rows = _ask(store, text)
    assert _rounded(from_weeks) == _rounded(from_rows)


@PROPERTY_SETTINGS
@given(
    data=datasets(),
    first=st.integers(min_value=0, max_value=20),
    length=st.integers(min_value=0, max_value=20),
    by=st.sampled_from(["influencer", "week", "month", "tier", "platform"]),
    windowed=st.booleans(),
)
def test_the_per_influencer_rollups_give_the_figures_of_the_sales_groups_and_their_rates(
    store, data, first, length, by, windowed
):
    """Answers without brand filters read influencer_days/weeks/totals, whose cost ingest
    multiplied; forced through sales groups times cost_rates (and posts) they are the same."""
    _replace(store, data)
    start = DAY0 + dt.timedelta(days=first)
    window = f"from={start} to={start + dt.timedelta(days=length)}" if windowed else ""
    text = f"/roas by={by} top=1000 {window}"
    rolled_up = _ask(store, text)
    with (
        mock.patch.object(metrics, "influencer_grain", lambda scope, key: False),
        mock.patch.object(cost, "influencer_grain", lambda scope, key: False),
    ):
        from_groups = _ask(store, text)
    assert _rounded(rolled_up) == _rounded(from_groups)


def _rounded(value):
    """Floats to 6 decimals, inside any dicts and lists: sums in another order may differ in
    the last bits."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize(
    "scope", ["from=2025-03-01 to=2025-03-21", "from=2025-03-05 to=2025-03-15 brand=B1"]
)
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=datasets(),
    organic=st.lists(st.integers(min_value=0, max_value=500), min_size=60, max_size=60),
    both=st.booleans(),
)
def test_incremental_revenue_of_every_breakdown_sums_to_the_totals(
    store, scope, data, organic, both
):
    """With baselines (60 days of organic sales before March for B1, and B2 or not), every
    row's share of the brands' lifts adds up to the totals' incremental revenue."""
    influencers, posts, tracking, payouts = data
    brands = ["B1", "B2"] if both else ["B1"]
    before = [
        {"row_key": f"O{b}{d}", "source": "organic", "influencer_id": None, "brand": b,
         "product": "p", "campaign": None, "date": DAY0 - dt.timedelta(days=60 - d),
         "orders": 1, "revenue": float(organic[d])}
        for b in brands for d in range(60)
    ]  # fmt: skip
    _replace(store, (influencers, posts, tracking + before, payouts))
    for by in BREAKDOWNS:
        result = _ask(store, f"/roas {scope} by={by} top=1000")
        rows = [r["incremental_revenue"] or 0.0 for r in result["rows"]]
        total = result["totals"]["incremental_revenue"] or 0.0
        assert sum(rows) == pytest.approx(total, abs=0.05), by
