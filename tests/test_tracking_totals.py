"""The derived tables stay equal to what they derive from, through loads and upgrades."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from alembic import command
from sqlalchemy import func, insert, select

from storage import ledger_basis, models, tracking_totals
from storage.db import _alembic_config, create_store_engine, upgrade
from tests.helpers import INFLUENCERS_CSV, load, write

_t, _s = models.tracking, models.tracking_totals
INFLUENCERS = ["INF1", "INF2", "INF3", ""]  # "" is an unattributed row


def _tracking_csv(rows: list[dict]) -> str:
    lines = ["tracking_id,source,influencer_id,brand,product,date,orders,revenue,campaign"]
    lines += [
        f"{r['id']},influencer,{r['influencer']},{r['brand']},{r['product']},{r['date']},"
        f"{r['orders']},{r['revenue']},{r['campaign']}"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def _random_rows(rng: random.Random, ids: range, influencers=INFLUENCERS) -> list[dict]:
    return [
        {
            "id": f"T{i}",
            "influencer": rng.choice(influencers),
            "brand": rng.choice(["MuscleBlaze", "HKVitals"]),
            "product": rng.choice(["Whey", "Fish Oil"]),
            "date": f"2025-01-{rng.randint(1, 28):02d}",
            "orders": rng.randint(0, 4),
            "revenue": f"{rng.randint(0, 500000) / 100:.2f}",
            "campaign": rng.choice(["", "Jan", "Feb"]),
        }
        for i in ids
    ]


def _normal(rows) -> list[tuple]:
    """(influencer, brand, product, campaign, orders, revenue, rows), comparable across stores."""
    return sorted(((*r[:4], int(r[4]), round(float(r[5]), 2), int(r[6])) for r in rows), key=repr)


def _from_tracking(conn) -> list[tuple]:
    group = (_t.c.influencer_id, _t.c.brand, _t.c.product, _t.c.campaign)
    sums = (func.sum(_t.c.orders), func.sum(_t.c.revenue), func.count())
    return _normal(conn.execute(select(*group, *sums).group_by(*group)).all())


def _stored(conn) -> list[tuple]:
    columns = ("influencer_id", "brand", "product", "campaign", "orders", "revenue", "row_count")
    return _normal(conn.execute(select(*(_s.c[c] for c in columns))).all())


@pytest.mark.parametrize("full_rebuild", [False, True], ids=["per-influencer", "full-rebuild"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_totals_equal_the_tracking_sums_after_loads_that_insert_move_and_change_rows(
    store, tmp_path, monkeypatch, seed, full_rebuild
):
    if full_rebuild:
        monkeypatch.setattr(tracking_totals, "FULL_REBUILD_ROWS", 0)
    rng = random.Random(seed)
    load(store, write(tmp_path, "influencers.csv", INFLUENCERS_CSV))
    first = _random_rows(rng, range(40))
    assert load(store, write(tmp_path, "t1.csv", _tracking_csv(first))).files[0].status == "loaded"
    # The second file re-sends half the rows with new values (another influencer, brand,
    # product or count: old groups must lose them) and adds rows of its own. It names only
    # INF1 and no influencer, so INF2's and INF3's totals change only through the moved rows.
    second = _random_rows(rng, range(20, 60), influencers=["INF1", ""])
    assert load(store, write(tmp_path, "t2.csv", _tracking_csv(second))).files[0].status == "loaded"
    with store.connect() as conn:
        expected = _from_tracking(conn)
        assert len(expected) > 5 and sum(r[6] for r in expected) == 60
        assert _stored(conn) == expected


def test_a_reload_of_the_same_file_leaves_the_totals_alone(store, tmp_path):
    load(store, write(tmp_path, "influencers.csv", INFLUENCERS_CSV))
    path = write(tmp_path, "t.csv", _tracking_csv(_random_rows(random.Random(7), range(30))))
    load(store, path)
    with store.connect() as conn:
        before = _stored(conn)
    load(store, path)
    with store.connect() as conn:
        assert _stored(conn) == before == _from_tracking(conn)


def test_upgrading_a_store_with_tracking_rows_fills_the_totals(store_url):
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
            conn.execute(insert(models.influencers).values(
                influencer_id="I1", name="A", category="Fit", gender="Male",
                follower_count=10, platform="Instagram"))  # fmt: skip
            conn.execute(insert(_t), [
                {"row_key": "a", "source": "x", "influencer_id": "I1", "brand": "B",
                 "product": "p", "date": dt.date(2025, 1, 1), "orders": 2, "revenue": 10.5},
                {"row_key": "b", "source": "x", "influencer_id": "I1", "brand": "B",
                 "product": "p", "date": dt.date(2025, 1, 2), "orders": 1, "revenue": 4.5},
                {"row_key": "c", "source": "x", "influencer_id": None, "brand": "B",
                 "product": "p", "date": dt.date(2025, 1, 2), "orders": 3, "revenue": 1.0},
            ])  # fmt: skip
            conn.execute(insert(models.payouts).values(
                row_key="y", influencer_id="I1", basis="order", total_payout=6.0))  # fmt: skip
        assert upgrade(engine) is True
        with engine.connect() as conn:
            assert _stored(conn) == sorted(
                [("I1", "B", "p", None, 3, 15.0, 2), (None, "B", "p", None, 3, 1.0, 1)], key=repr
            )
            plans = models.payout_plans
            plan = conn.execute(select(plans.c.rule, plans.c.orders_total, plans.c.total)).all()
            assert [tuple(p) for p in plan] == [(ledger_basis.RULE_ORDERS, 3.0, 6.0)]
    finally:
        engine.dispose()
