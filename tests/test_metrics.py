"""Every definition in docs/metrics.md, checked on a hand-built dataset, on both stores.

The dataset (tests/fixtures/metrics) and the figures below are the worked example of
docs/metrics.md; each number was computed by hand there.
"""

from __future__ import annotations

import datetime as dt

import pytest

from insights.engine import Thresholds, answer
from insights.query import QueryError, parse
from storage.ingest import Upload, ingest_files
from tests.conftest import FIXTURES

TODAY = dt.date(2025, 3, 15)
WINDOW = "from=2025-03-01 to=2025-03-10"


@pytest.fixture
def db(store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    result = ingest_files(store, [Upload.from_path(p) for p in paths])
    assert result.ok, [f.message for f in result.files]
    return store


def ask(db, text: str, **thresholds):
    return answer(db, parse(text, TODAY), Thresholds(**thresholds)).to_dict()


def by_key(result: dict) -> dict[str, dict]:
    return {r["key"]: r for r in result["rows"]}


def test_roas_is_revenue_over_cost_with_post_and_order_basis_payouts(db):
    result = ask(db, f"/roas {WINDOW}")
    t = result["totals"]
    assert (t["revenue"], t["cost"], t["orders"]) == (5000.0, 2250.0, 8)
    assert t["roas"] == pytest.approx(5000 / 2250, abs=1e-4)
    assert t["cpa"] == pytest.approx(2250 / 8, abs=0.01)
    rows = by_key(result)
    assert (rows["A"]["cost"], rows["A"]["roas"]) == (1000.0, 3.0)  # post basis
    assert (rows["B"]["cost"], rows["B"]["roas"]) == (600.0, pytest.approx(2000 / 600, abs=1e-4))
    assert result["window"] == {"from": "2025-03-01", "to": "2025-03-10"}


def test_cost_spreads_over_dates_and_brands(db):
    # A's post fee (1000) sits half on 1 March, half on 4 March; B's commission on its orders.
    early = ask(db, "/roas from=2025-03-01 to=2025-03-02")["totals"]
    assert early["cost"] == 500.0  # A1 only: B's orders start 3 March
    brands = by_key(ask(db, f"/roas {WINDOW} by=brand"))
    assert brands["MuscleBlaze"]["cost"] == pytest.approx(1000 * 2500 / 3000 + 400, abs=0.01)
    assert brands["HKVitals"]["cost"] == pytest.approx(1000 * 500 / 3000 + 600, abs=0.01)
    assert brands["unattributed"]["cost"] == 250.0


def test_an_influencer_paid_with_no_orders_is_an_underperformer_with_roas_zero(db):
    result = ask(db, f"/underperformers {WINDOW}")
    assert [r["key"] for r in result["rows"]] == ["C", "D"]  # tie at 0: more wasted spend first
    c = result["rows"][0]
    assert (c["roas"], c["revenue"], c["cost"], c["wasted_spend"]) == (0.0, 0.0, 400.0, 400.0)
    assert (c["posts"], c["engagement_rate"]) == (1, 3.0)


def test_underperformer_threshold_and_min_spend(db):
    keys = [r["key"] for r in ask(db, f"/underperformers {WINDOW} threshold=3.1")["rows"]]
    assert keys == ["C", "D", "A"]  # A at 3.0 < 3.1, B at 3.33 is not
    spend = ask(db, f"/underperformers {WINDOW} min_spend=300")["rows"]
    assert [r["key"] for r in spend] == ["C"]
    setting = ask(db, f"/underperformers {WINDOW}", underperformer_min_spend=300)["rows"]
    assert [r["key"] for r in setting] == ["C"]


def test_unattributed_cost_counts_only_without_brand_filters_and_undated_only_without_dates(db):
    assert ask(db, "/roas")["totals"]["cost"] == 2300.0  # every payout
    assert ask(db, f"/roas {WINDOW}")["totals"]["cost"] == 2250.0  # undated P5 out
    mb = ask(db, f"/roas {WINDOW} brand=MuscleBlaze")["totals"]
    assert mb["cost"] == pytest.approx(1233.33, abs=0.01)  # D's unattributed 250 out
    # C sold nothing but its payout names MuscleBlaze: it stays MuscleBlaze cost.
    assert by_key(ask(db, f"/roas {WINDOW} brand=MuscleBlaze"))["C"]["cost"] == 400.0


BREAKDOWNS = ["influencer", "brand", "product", "campaign", "platform", "category", "gender",
              "tier", "persona", "week", "month"]  # fmt: skip


@pytest.mark.parametrize("scope", ["", WINDOW, f"{WINDOW} brand=MuscleBlaze", "platform=Instagram",
                                   "product=Whey", "campaign=HKV-Mar from=2025-03-05"])  # fmt: skip
def test_breakdown_costs_and_revenues_sum_to_the_totals(db, scope):
    for by in BREAKDOWNS:
        result = ask(db, f"/roas {scope} by={by} top=100")
        assert sum(r["cost"] for r in result["rows"]) == pytest.approx(
            result["totals"]["cost"], abs=0.02
        ), by
        assert sum(r["revenue"] for r in result["rows"]) == pytest.approx(
            result["totals"]["revenue"], abs=0.02
        ), by


HKV_NOTE = "HKVitals has 0 days of sales in the 56 days before 01 Mar 2025, 28 needed"


def test_the_baseline_is_each_brands_weekday_means_over_the_56_days_before(db):
    result = ask(db, f"/roas {WINDOW}")
    t = result["totals"]
    # MuscleBlaze: 4 weekend days x 300 + 6 weekdays x 100 expected; 2,900 sold in W.
    assert t["baseline_revenue"] == 1800.0
    assert t["incremental_revenue"] == pytest.approx(2900 - 1800)
    # Only MuscleBlaze has a baseline: iROAS is its lift over its cost.
    assert t["incremental_roas"] == pytest.approx(1100 / 1233.33, abs=1e-4)
    assert (
        f"iROAS covers MuscleBlaze only: {HKV_NOTE} (50% of attributed revenue)"
        in (result["notes"])
    )
    mb = ask(db, f"/roas {WINDOW} brand=MuscleBlaze")
    assert mb["totals"]["incremental_revenue"] == pytest.approx(1100)
    assert mb["totals"]["incremental_roas"] == pytest.approx(1100 / 1233.33, abs=1e-4)
    assert not [n for n in mb["notes"] if "baseline" in n or "covers" in n]


def test_a_brand_without_a_baseline_is_na_never_zero(db):
    hkv = ask(db, f"/roas {WINDOW} brand=HKVitals")
    assert hkv["totals"]["incremental_revenue"] is None
    assert hkv["totals"]["incremental_roas"] is None
    assert f"no baseline: {HKV_NOTE}" in hkv["notes"]
    assert by_key(ask(db, f"/roas {WINDOW}"))["B"]["incremental_roas"] is None  # HKVitals only
    everything = ask(db, "/roas")  # 4 Jan - 10 Mar: no data before it for any brand
    assert everything["totals"]["incremental_roas"] is None
    assert all(r["incremental_revenue"] is None for r in everything["rows"])
    assert any(n.startswith("no baseline: HKVitals has 0 days") for n in everything["notes"])


def test_products_campaigns_influencers_and_weeks_get_their_share_of_the_lift(db):
    whey = ask(db, f"/roas {WINDOW} product=Whey")["totals"]  # T1: 2,000 of MB's 2,500
    assert whey["incremental_revenue"] == pytest.approx(2000 * 1100 / 2500)
    assert whey["incremental_roas"] == pytest.approx(880 / 666.67, abs=1e-3)
    campaign = ask(db, f"/roas {WINDOW} campaign=MB-Mar")["totals"]
    assert campaign["incremental_revenue"] == pytest.approx(1100)
    assert campaign["incremental_roas"] == pytest.approx(1100 / 833.33, abs=1e-3)
    rows = by_key(ask(db, f"/roas {WINDOW}"))
    assert rows["A"]["incremental_revenue"] == pytest.approx(1100)  # its MuscleBlaze sales
    assert rows["A"]["incremental_roas"] == pytest.approx(1100 / 833.33, abs=1e-3)
    assert (rows["C"]["incremental_revenue"], rows["C"]["incremental_roas"]) == (0.0, 0.0)
    weeks = ask(db, f"/roas {WINDOW} by=week")["rows"]
    assert [(w["key"], w["label"]) for w in weeks] == [
        ("2025-W09", "2025-W09 (partial)"), ("2025-W10", "2025-W10"),
    ]  # fmt: skip
    assert [w["incremental_revenue"] for w in weeks] == [pytest.approx(880), pytest.approx(220)]


@pytest.mark.parametrize("scope", ["", WINDOW, f"{WINDOW} brand=MuscleBlaze", "platform=Instagram",
                                   "product=Whey", "campaign=MB-Mar from=2025-03-05"])  # fmt: skip
def test_incremental_revenue_adds_up_over_every_breakdown(db, scope):
    for by in BREAKDOWNS:
        result = ask(db, f"/roas {scope} by={by} top=100")
        rows = [r["incremental_revenue"] for r in result["rows"] if r["incremental_revenue"]]
        total = result["totals"]["incremental_revenue"]
        assert sum(rows) == pytest.approx(total or 0.0, abs=0.02), by


def test_the_interval_brackets_the_estimate_and_is_the_same_every_time(db):
    t = ask(db, f"/roas {WINDOW}")["totals"]
    low, high = t["incremental_revenue_low"], t["incremental_revenue_high"]
    assert low < t["incremental_revenue"] < high
    assert t["incremental_roas_low"] == pytest.approx(low / 1233.33, abs=1e-3)
    assert t["incremental_roas_high"] == pytest.approx(high / 1233.33, abs=1e-3)
    assert ask(db, f"/roas {WINDOW}")["totals"] == t  # a fixed seed: the same data, the same
    # A row's interval is its share of its brands': A has all of MuscleBlaze's attributed sales.
    a = by_key(ask(db, f"/roas {WINDOW}"))["A"]
    assert (a["incremental_revenue_low"], a["incremental_revenue_high"]) == (low, high)


def test_a_window_past_the_data_is_clipped_and_one_after_it_has_no_data_yet(db):
    clipped = ask(db, "/roas from=2025-03-01 to=2025-03-31")
    assert clipped["window"] == {"from": "2025-03-01", "to": "2025-03-10"}
    assert clipped["data_through"] == "2025-03-10"
    assert clipped["totals"] == ask(db, f"/roas {WINDOW}")["totals"]
    assert (
        "answered to 10 Mar 2025, the last day of data: the window asked for runs to 31 Mar 2025"
        in clipped["notes"]
    )
    after = ask(db, "/roas from=2025-04-01 to=2025-04-30")
    assert after["window"] == {"from": "2025-04-01", "to": "2025-04-30"}
    assert (after["totals"]["cost"], after["totals"]["roas"], after["rows"]) == (0.0, None, [])
    assert after["notes"] == ["no data yet: the store has data through 10 Mar 2025"]


def test_cpa_is_cost_over_orders_whenever_there_are_orders(db):
    rows = by_key(ask(db, "/roas from=2025-03-02 to=2025-03-03"))
    assert rows["A"]["cpa"] == 0.0  # 2 orders, no cost in those days (posts on 1 and 4 Mar)
    assert rows["B"]["cpa"] == pytest.approx(450 / 3)
    assert by_key(ask(db, f"/roas {WINDOW}"))["D"]["cpa"] is None  # cost, no orders


def test_engagement_rate_is_a_ratio_of_sums_skipping_posts_without_reach(db):
    t = ask(db, "/roas")["totals"]
    # B1 has reach 0 and is skipped: (100 + 50 + 400 + 15) / (1000 + 1000 + 10000 + 500).
    assert t["engagement_rate"] == pytest.approx(565 / 12500 * 100, abs=1e-4)


def test_tiers_at_their_boundaries(db):
    tiers = by_key(ask(db, "/roas by=tier"))
    assert set(tiers) == {"nano", "micro", "macro", "mega"}  # 9,999 / 12,000 / 600k / 1M
    assert tiers["nano"]["cost"] == 400.0 and tiers["mega"]["cost"] == 300.0
    bounds = (10_000, 12_001, 500_000, 1_000_001)
    moved = by_key(answer(db, parse("/roas by=tier", TODAY), Thresholds(tier_bounds=bounds))
                   .to_dict())  # fmt: skip
    assert set(moved) == {"nano", "micro", "macro"}  # 12,000 < 12,001; 1M < 1,000,001


def test_personas_need_enough_influencers_and_spend(db):
    assert ask(db, "/personas")["rows"] == []  # every persona here has one influencer
    ranked = ask(db, "/personas min_influencers=1")
    assert [r["key"] for r in ranked["rows"]] == [
        "macro · Health", "micro · Fitness", "mega · Kids", "nano · Fitness",
    ]  # fmt: skip
    assert ranked["rows"][0]["influencers"] == 1
    by_platform = ask(db, "/personas by=platform")
    assert [(r["key"], r["influencers"]) for r in by_platform["rows"]] == [("Instagram", 2)]
    assert ask(db, "/personas by=platform min_spend=1500")["rows"] == []


def test_filter_values_match_case_and_space_insensitively(db):
    a = ask(db, "/roas brand=hkvitals")["totals"]
    b = ask(db, '/roas brand="HK Vitals"')["totals"]
    assert a == b and a["revenue"] == 2500.0
    assert ask(db, "/roas influencer=asha rao".replace("asha rao", '"asha rao"'))["totals"][
        "revenue"] == 3000.0  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/roas brand=MuslceBlaze", "no brand 'MuslceBlaze' — did you mean MuscleBlaze?"),
        ('/roas brand="x\'; DROP TABLE payouts; --"', "no brand"),
        ("/roas campaign=1'OR'1'='1", "no campaign"),
        ("/roas platform=Instagarm", "did you mean Instagram?"),
        ("/influencer nobody", "no influencer 'nobody'"),
    ],
)
def test_unknown_values_get_suggestions_and_never_reach_sql(db, text, message):
    with pytest.raises(QueryError) as err:
        ask(db, text)
    assert message in str(err.value)
    assert ask(db, "/roas")["totals"]["cost"] == 2300.0  # the store is intact


def test_trend_and_influencer_profile(db):
    weeks = by_key(ask(db, "/trend"))
    assert weeks["2025-W09"]["revenue"] == 2000.0 and weeks["2025-W09"]["cost"] == 500.0
    assert weeks["undated"]["cost"] == 50.0
    profile = ask(db, "/influencer Asha Rao")
    assert profile["influencer"]["tier"] == "micro"
    assert profile["totals"]["roas"] == 3.0
    assert [r["key"] for r in profile["rows"]] == ["2025-W09", "2025-W10"]


def test_an_empty_store_answers_with_nulls_not_zeros(store):
    result = answer(store, parse("/roas", TODAY)).to_dict()
    assert result["totals"]["roas"] is None and result["totals"]["cost"] == 0.0
    assert result["rows"] == []
    assert any("no data" in n for n in result["notes"])


def test_an_influencer_with_orders_but_no_revenue_still_gets_a_row(store):
    # Found by the property tests: such a row was dropped and the rows' orders fell short.
    from sqlalchemy import insert

    from storage import derived, models

    with store.begin() as conn:
        conn.execute(
            insert(models.influencers).values(
                influencer_id="I0",
                name="Free Sample",
                category="Fit",
                gender="Male",
                follower_count=500,
                platform="Instagram",
            )
        )
        conn.execute(
            insert(models.tracking).values(
                row_key="T0",
                source="x",
                influencer_id="I0",
                brand="B1",
                product="p",
                date=dt.date(2025, 3, 1),
                orders=1,
                revenue=0.0,
            )
        )
        derived.rebuild_all(conn)
    result = ask(store, "/roas by=influencer")
    assert result["totals"]["orders"] == 1
    assert [(r["key"], r["orders"]) for r in result["rows"]] == [("I0", 1)]


def test_conversion_rate_is_orders_over_the_reach_of_posts_in_scope(db):
    result = ask(db, f"/roas {WINDOW}")
    assert result["totals"]["conversion_rate"] == pytest.approx(8 / 12_500 * 100, abs=1e-4)
    rows = by_key(result)
    assert rows["A"]["conversion_rate"] == pytest.approx(4 / 2_000 * 100, abs=1e-4)
    assert rows["B"]["conversion_rate"] == pytest.approx(4 / 10_000 * 100, abs=1e-4)
    assert rows["C"]["conversion_rate"] == 0.0
    assert rows["D"]["conversion_rate"] is None  # no post reached anyone: n/a, never 0
    mb = ask(db, f"/roas {WINDOW} brand=MuscleBlaze")["totals"]
    assert mb["conversion_rate"] == pytest.approx(3 / 2_000 * 100, abs=1e-4)


def test_one_spelling_per_brand_whatever_a_payout_wrote(db, tmp_path):
    # A payout of D (who sold nothing) naming "muscleblaze": by=brand still has one row for
    # MuscleBlaze, spelled as the tracking data spells it, with that payout's cost in it.
    extra = tmp_path / "payouts.csv"
    extra.write_text(
        "payout_id,influencer_id,basis,total_payout,payout_date,brand,campaign\n"
        "P6,D,post,70,2025-03-05,muscleblaze,\n"
    )
    assert ingest_files(db, [Upload.from_path(extra)]).ok
    brands = ask(db, f"/roas {WINDOW} by=brand")["rows"]
    assert [r["key"] for r in brands if r["key"].lower() == "muscleblaze"] == ["MuscleBlaze"]
    mb = by_key({"rows": brands})["MuscleBlaze"]
    assert mb["cost"] == pytest.approx(1233.33 + 70, abs=0.01)
    assert ask(db, f"/roas {WINDOW} brand=muscleblaze")["filters"] == {"brand": ["MuscleBlaze"]}


def test_time_breakdowns_keep_the_latest_periods_and_say_so(db):
    weeks = ask(db, "/roas by=week top=1")  # attributed sales and cost in W09 and W10 only
    assert [r["key"] for r in weeks["rows"]] == ["2025-W10", "undated"]  # the latest, not W09
    assert "showing the latest 1 of 2 week rows" in weeks["notes"]


def test_tiers_read_alike_everywhere_and_notes_say_something(db):
    personas = ask(db, "/personas min_influencers=1")
    first = personas["rows"][0]
    assert (first["key"], first["label"]) == ("macro · Health", "Macro · Health")
    tiers = ask(db, "/roas by=tier")
    assert {r["label"] for r in tiers["rows"]} == {"Nano", "Micro", "Macro", "Mega"}
    assert ask(db, "/roas tier=macro")["filters"] == {"tier": ["Macro"]}
    under = ask(db, f"/underperformers {WINDOW}")["notes"]
    assert "2 influencers with ROAS below 1" in under  # no "spend of at least 0"
    assert not [n for n in ask(db, "/personas")["notes"] if "under 0" in n]
