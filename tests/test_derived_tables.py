"""The derived tables stay equal to what they derive from, through loads and upgrades."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from alembic import command
from sqlalchemy import func, insert, inspect, select

from storage import bulk, derived, influencer_rollups, ledger_basis, models, tracking_rollups
from storage.db import _alembic_config, create_store_engine, upgrade
from storage.ingest import load as load_module
from storage.summary import summarise
from tests.helpers import INFLUENCERS_CSV, counts, load, write

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


def _random_rows(
    rng: random.Random, ids: range, influencers=INFLUENCERS, days: int = 28
) -> list[dict]:
    return [
        {
            "id": f"T{i}",
            "influencer": rng.choice(influencers),
            "brand": rng.choice(["MuscleBlaze", "HKVitals"]),
            "product": rng.choice(["Whey", "Fish Oil"]),
            "date": f"2025-01-{rng.randint(1, days):02d}",
            "orders": rng.randint(0, 4),
            "revenue": f"{rng.randint(0, 500000) / 100:.2f}",
            "campaign": rng.choice(["", "Jan", "Feb"]),
        }
        for i in ids
    ]


def _normal(rows) -> list[tuple]:
    """Rows with numbers rounded alike and dates as text, comparable across stores."""
    out = []
    for row in rows:
        out.append(tuple(
            round(float(v), 2) if isinstance(v, float) or type(v).__name__ == "Decimal"
            else v.isoformat() if isinstance(v, dt.date) else v
            for v in row
        ))  # fmt: skip
    return sorted(out, key=repr)


def _from_tracking(conn, rollup: tracking_rollups.Rollup) -> list[tuple]:
    """What the rollup should hold, straight from tracking with the rollup's own sums."""
    return _normal(conn.execute(rollup.grouped(conn.dialect.name)).all())


def _stored(conn, rollup: tracking_rollups.Rollup) -> list[tuple]:
    return _normal(conn.execute(select(rollup.table)).all())


def _rollups_match(conn) -> None:
    for rollup in tracking_rollups.ROLLUPS:
        assert _stored(conn, rollup) == _from_tracking(conn, rollup), rollup.table.name


@pytest.mark.parametrize("full_rebuild", [False, True], ids=["per-partition", "full-rebuild"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_the_tracking_sums_after_loads_that_insert_move_and_change_rows(
    store, tmp_path, monkeypatch, seed, full_rebuild
):
    if full_rebuild:
        monkeypatch.setattr(derived, "FULL_REBUILD_ROWS", 0)
    rng = random.Random(seed)
    load(store, write(tmp_path, "influencers.csv", INFLUENCERS_CSV))
    first = _random_rows(rng, range(40))
    assert load(store, write(tmp_path, "t1.csv", _tracking_csv(first))).files[0].status == "loaded"
    # The second file re-sends half the rows with new values (another influencer, day, brand,
    # product or count: old groups must lose them) and adds rows of its own. It names only
    # INF1 and no influencer, and days of the first half of the month only, so other
    # influencers' totals and later days change only through the moved rows.
    second = _random_rows(rng, range(20, 60), influencers=["INF1", ""], days=14)
    assert load(store, write(tmp_path, "t2.csv", _tracking_csv(second))).files[0].status == "loaded"
    with store.connect() as conn:
        totals = _from_tracking(conn, tracking_rollups.TOTALS)
        assert len(totals) > 5 and sum(r[6] for r in totals) == 60
        days = _from_tracking(conn, tracking_rollups.DAILY)
        assert len(days) > 10 and sum(r[7] for r in days) > 0  # some unattributed rows
        _rollups_match(conn)


def test_a_reload_of_the_same_file_leaves_the_rollups_alone(store, tmp_path):
    load(store, write(tmp_path, "influencers.csv", INFLUENCERS_CSV))
    path = write(tmp_path, "t.csv", _tracking_csv(_random_rows(random.Random(7), range(30))))
    load(store, path)
    with store.connect() as conn:
        before = [_stored(conn, r) for r in tracking_rollups.ROLLUPS]
    load(store, path)
    with store.connect() as conn:
        assert [_stored(conn, r) for r in tracking_rollups.ROLLUPS] == before
        _rollups_match(conn)


def _ledger(conn) -> list[list[tuple]]:
    tables = (models.payout_pairs, models.payout_plans, models.cost_rates)
    return [_normal(conn.execute(select(t)).all()) for t in tables]


def _posts_csv(rng: random.Random, ids: range, influencers: list[str]) -> str:
    lines = ["post_id,influencer_id,platform,date,reach,likes,comments"]
    lines += [
        f"S{i},{rng.choice(influencers)},Instagram,2025-01-{rng.randint(1, 28):02d},1000,10,1"
        for i in ids
    ]
    return "\n".join(lines) + "\n"


def _payouts_csv(rng: random.Random, ids: range, influencers: list[str]) -> str:
    lines = ["payout_id,influencer_id,basis,total_payout,payout_date,brand,campaign"]
    lines += [
        f"Y{i},{rng.choice(influencers)},{rng.choice(['order', 'post', 'flat'])},"
        f"{rng.randint(100, 5000)},2025-01-{rng.randint(1, 28):02d},"
        f"{rng.choice(['', 'MuscleBlaze', 'HKVitals', 'Gritzo'])},{rng.choice(['', 'Jan', 'Feb'])}"
        for i in ids
    ]
    return "\n".join(lines) + "\n"


def _moving_files(rng: random.Random) -> list[tuple[str, str]]:
    """Files of sales, posts and payouts whose later ones move rows between influencers."""
    everyone, some = ["INF1", "INF2", "INF3"], ["INF2", "INF3"]
    return [
        ("influencers.csv", INFLUENCERS_CSV),
        ("t1.csv", _tracking_csv(_random_rows(rng, range(40)))),
        ("posts1.csv", _posts_csv(rng, range(12), everyone)),
        ("payouts1.csv", _payouts_csv(rng, range(15), everyone)),
        # Each later file re-sends rows of the first ones under other influencers, or adds some:
        # the influencers that lose them must be rebuilt as well as those that gain them.
        ("t2.csv", _tracking_csv(_random_rows(rng, range(30, 50), influencers=["INF1", ""]))),
        ("posts2.csv", _posts_csv(rng, range(6, 16), some)),
        ("payouts2.csv", _payouts_csv(rng, range(10, 20), ["INF1"])),
        ("t3.csv", _tracking_csv(_random_rows(rng, range(0, 10), influencers=["INF3"]))),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ledger_of_touched_influencers_equals_a_whole_rebuild(store, tmp_path, seed):
    """Loads that move sales, posts and payouts between influencers rebuild only the
    influencers they touch; the result must equal rebuilding every payout from scratch."""
    for name, text in _moving_files(random.Random(seed)):
        result = load(store, write(tmp_path, name, text)).files[0]
        assert result.status == "loaded", (name, result.message)
        with store.connect() as conn:
            kept = _ledger(conn)
            ledger_basis.rebuild(conn, None)
            assert _ledger(conn) == kept, f"after {name}"
            conn.rollback()
    assert all(kept), "every ledger table holds rows"


def _influencer_tables(conn) -> list[list[tuple]]:
    tables = (models.influencer_days, models.influencer_weeks, models.influencer_totals)
    return [_normal(conn.execute(select(t)).all()) for t in tables]


def _folded(days: list[tuple], bucket) -> list[tuple]:
    """Days' rows (date, influencer, sums...) summed per (bucket(date), influencer)."""
    out: dict[tuple, list[float]] = {}
    for date, who, *sums in days:
        day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
        key = (bucket(day), who)
        out[key] = [a + b for a, b in zip(out.get(key, [0] * len(sums)), sums, strict=True)]
    return _normal([(*(k for k in key if k is not None), *sums) for key, sums in out.items()])


def _expected_days(conn) -> tuple[list[tuple], list[tuple]]:
    """influencer_days' sales and post columns straight from tracking and posts."""
    t, p = _t, models.posts
    sales = conn.execute(
        select(t.c.date, t.c.influencer_id, func.sum(t.c.orders), func.sum(t.c.revenue),
               func.count())
        .where(t.c.influencer_id.is_not(None)).group_by(t.c.date, t.c.influencer_id)
    ).all()  # fmt: skip
    posts = conn.execute(
        select(p.c.date, p.c.influencer_id, func.count(),
               func.sum(p.c.likes + p.c.comments), func.sum(p.c.reach))
        .where(p.c.reach > 0).group_by(p.c.date, p.c.influencer_id)
    ).all()  # fmt: skip
    return _normal(sales), _normal(posts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_influencer_rollups_equal_tracking_and_posts_after_loads_that_move_rows(
    store, tmp_path, seed
):
    """Loads that move sales, posts and payouts between influencers and days recompute the
    influencers they touch: the rows must equal a whole rebuild, the GROUP BY of tracking and
    posts per influencer and day, weeks and all time folded from the days, and every payout
    must be in the cost (shares in the rollups, undivided ones in payout_plans)."""
    days_t, weeks_t, totals_t = (models.influencer_days, models.influencer_weeks,
                                 models.influencer_totals)  # fmt: skip
    for name, text in _moving_files(random.Random(seed)):
        result = load(store, write(tmp_path, name, text)).files[0]
        assert result.status == "loaded", (name, result.message)
        with store.connect() as conn:
            kept = _influencer_tables(conn)
            influencer_rollups.rebuild(conn, None)
            assert _influencer_tables(conn) == kept, f"after {name}"
            conn.rollback()
            days = conn.execute(select(days_t)).all()
            sales, posts = _expected_days(conn)
            assert _normal(r[:5] for r in days if r.sales_rows) == sales, name
            assert _normal((*r[:2], *r[5:8]) for r in days if r.reach) == posts, name
            weeks = _folded(days, lambda d: d - dt.timedelta(days=d.weekday()))
            assert _stored_rows(conn, weeks_t) == weeks, name
            assert _stored_rows(conn, totals_t) == _folded(days, lambda d: None), name
            paid = conn.execute(select(func.sum(models.payouts.c.total_payout))).scalar()
            plans = models.payout_plans
            undivided = conn.execute(
                select(func.coalesce(func.sum(plans.c.total), 0)).where(plans.c.rule == 0)
            ).scalar()
            shares = conn.execute(select(func.coalesce(func.sum(totals_t.c.cost), 0))).scalar()
            assert shares + undivided == pytest.approx(float(paid or 0), abs=1e-6), name
    assert all(kept), "every table holds rows"


def test_the_store_summary_counts_what_the_tables_hold(store, tmp_path):
    """`summarise` reads the derived tables: after loads that move rows it must still say
    what a count of the data tables says."""
    rng = random.Random(5)
    files = [
        ("influencers.csv", INFLUENCERS_CSV),
        ("t1.csv", _tracking_csv(_random_rows(rng, range(40)))),
        ("posts1.csv", _posts_csv(rng, range(12), ["INF1", "INF2", "INF3"])),
        ("payouts1.csv", _payouts_csv(rng, range(15), ["INF1", "INF2"])),
        ("t2.csv", _tracking_csv(_random_rows(rng, range(20, 60), influencers=["INF1", ""]))),
        ("posts2.csv", _posts_csv(rng, range(6, 16), ["INF3"])),
    ]
    for name, text in files:
        assert load(store, write(tmp_path, name, text)).files[0].status == "loaded", name
    summary = summarise(store)
    table_of = {"influencers": "influencers", "posts": "posts", "tracking_data": "tracking",
                "payouts": "payouts"}  # fmt: skip
    expected = counts(store)
    assert {d.name: d.rows for d in summary.datasets} == {
        name: expected[table] for name, table in table_of.items()
    }
    with store.connect() as conn:
        attributed = conn.execute(
            select(func.count()).select_from(_t).where(_t.c.influencer_id.is_not(None))
        ).scalar()
        brands = sorted(conn.execute(select(_t.c.brand).distinct()).scalars())
        first, last = conn.execute(select(func.min(_t.c.date), func.max(_t.c.date))).one()
    tracking = next(d for d in summary.datasets if d.name == "tracking_data")
    assert (summary.attributed_rows, summary.brands) == (attributed, brands)
    assert (tracking.first, tracking.last) == (first, last)
    assert 0 < attributed < expected["tracking"]


def _stored_rows(conn, table) -> list[tuple]:
    return _normal(conn.execute(select(table)).all())


@pytest.mark.parametrize("start", ["0003", "0004"])
def test_upgrading_a_store_with_data_fills_every_derived_table(store_url, start):
    """0004 and 0005 add derived tables to stores that may hold data already; the rows must
    be there after the upgrade, whichever revision the store was at."""
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            config = _alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, start)
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
            assert _stored(conn, tracking_rollups.TOTALS) == _normal(
                [("I1", "B", "p", None, 3, 15.0, 2), (None, "B", "p", None, 3, 1.0, 1)]
            )
            assert _stored(conn, tracking_rollups.DAILY) == _normal([
                (dt.date(2025, 1, 1), "B", "p", None, 10.5, 2, 0.0, 0),
                (dt.date(2025, 1, 2), "B", "p", None, 4.5, 1, 1.0, 1),
            ])  # fmt: skip
            # Both attributed rows fall in the ISO week starting Monday 30 December 2024.
            assert _stored(conn, tracking_rollups.WEEKLY) == _normal(
                [(dt.date(2024, 12, 30), "I1", "B", "p", None, 3, 15.0)]
            )
            plans = models.payout_plans
            plan = conn.execute(select(plans.c.rule, plans.c.orders_total, plans.c.total)).all()
            assert [tuple(p) for p in plan] == [(ledger_basis.RULE_ORDERS, 3.0, 6.0)]
            # 6.00 over the payout's 3 orders: 2.00 per order of that group, nothing per post
            assert _normal(conn.execute(select(models.cost_rates)).all()) == [
                ("I1", "B", "p", None, 2.0, 0.0)
            ]
    finally:
        engine.dispose()


def derived_tables() -> tuple:
    return (*(r.table for r in tracking_rollups.ROLLUPS), models.influencer_days,
            models.influencer_weeks, models.influencer_totals)  # fmt: skip


def _indexes(engine) -> dict[str, list]:
    inspector = inspect(engine)
    return {
        t.name: sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(t.name))
        for t in (_t, *derived_tables())
    }


def test_a_first_bulk_load_writes_the_derived_tables_without_indexes_and_puts_every_one_back(
    store, tmp_path, monkeypatch
):
    """A load big enough to rebuild the derived tables whole, into an empty store, writes them
    (and tracking) with no secondary index and builds the indexes afterwards: the rows must be
    the same as ever and every index back as the schema defines it."""
    monkeypatch.setattr(derived, "FULL_REBUILD_ROWS", 0)
    monkeypatch.setattr(load_module, "BULK_MIN_ROWS", 2)
    dropped: list[str] = []
    real = bulk.DeferredIndexes.apply

    def apply(self, conn):
        if self.table in {t.name for t in derived_tables()}:
            dropped.extend(self.drop)
        real(self, conn)

    monkeypatch.setattr(bulk.DeferredIndexes, "apply", apply)
    before = _indexes(store)
    load(store, write(tmp_path, "influencers.csv", INFLUENCERS_CSV))
    rows = _random_rows(random.Random(7), range(60))
    assert load(store, write(tmp_path, "t.csv", _tracking_csv(rows))).files[0].status == "loaded"
    assert len(dropped) >= len(derived_tables())  # every derived table was written without
    assert _indexes(store) == before
    with store.connect() as conn:
        _rollups_match(conn)
        kept = _influencer_tables(conn)
        influencer_rollups.rebuild(conn, None)
        assert _influencer_tables(conn) == kept
    # Tables that hold rows keep their indexes while rebuilt, readers reading the last commit.
    dropped.clear()
    more = _random_rows(random.Random(8), range(60, 90))
    assert load(store, write(tmp_path, "t2.csv", _tracking_csv(more))).files[0].status == "loaded"
    assert dropped == [] and _indexes(store) == before
    with store.connect() as conn:
        _rollups_match(conn)


@pytest.mark.parametrize("setting", ["on", "off"])
def test_sorted_grouping_turns_hashing_off_for_one_statement_and_restores_the_setting(
    pg_url, setting
):
    """influencer_days' whole rebuild groups by sorting; the rollups after it in the same
    transaction must hash again, or keep what the session had chosen."""
    engine = create_store_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SET LOCAL enable_hashagg = {setting}")
            with bulk.sorted_grouping(conn):
                assert conn.exec_driver_sql("SHOW enable_hashagg").scalar_one() == "off"
            assert conn.exec_driver_sql("SHOW enable_hashagg").scalar_one() == setting
    finally:
        engine.dispose()
