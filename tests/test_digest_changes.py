"""The digest's "What changed" and its reallocation advice, on a hand-made dataset, both stores.

Week 2025-W23 (2-8 June), pre-period 7 April - 1 June (56 days). Two brands sell organically
every day from 7 April:

- Steady: 1,000 a day, always. Its baseline is 1,000 a day with no residual at all, so every
  bootstrap draw errs by 0 and an interval is a point. Its lift in W23 is its revenue minus
  7 x 1,000 = its attributed revenue: iROAS = ROAS, exactly.
- Noisy: 10,000 ± 5,000 on alternate days: every weekday's mean is 10,000, the residuals are
  ±5,000, and its intervals are wide.

| influencer | persona | brand | W23 revenue / cost | iROAS |
| --- | --- | --- | --- | --- |
| M1 Mohan Das | macro · Fitness | Steady | 10,000 / 10,000 | 1.00 (1.00-1.00) |
| U1 Uma Sen | micro · Nutrition | Steady | 30,000 / 10,000 | 3.00 (3.00-3.00) |
| N1 Nila Roy | mid · Health | Noisy | 10,000 / 10,000 | wide |
| N2 Neel Jha | nano · Kids | Noisy | 12,000 / 10,000 | wide |

brand=Steady: the intervals [1, 1] and [3, 3] do not overlap: move REALLOCATION_CAP (20%) of
macro · Fitness's 10,000 = 2,000 to micro · Nutrition, expected 2,000 x (3 - 1) = +4,000
revenue, interval 2,000 x (3 - 1) to 2,000 x (3 - 1). brand=Noisy: the intervals overlap, so
no move. Nobody sold anything in W22: every influencer is new, and W22's ROAS is n/a.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.labels import digest_changes
from bot.slack.blocks import digest_message
from bot.text import digest_text
from insights.digest import build_digest
from insights.engine import Thresholds, answer, daily_totals, totals
from insights.query import Query, Window, parse
from tests.helpers import load, write

W23 = dt.date(2025, 6, 2)
FIRST = dt.date(2025, 4, 7)
TH = Thresholds(persona_min_influencers=1)

INFLUENCERS = """influencer_id,name,category,gender,follower_count,platform
M1,Mohan Das,Fitness,Male,600000,Instagram
U1,Uma Sen,Nutrition,Female,20000,Instagram
N1,Nila Roy,Health,Female,100000,YouTube
N2,Neel Jha,Kids,Male,5000,YouTube
"""
SALES = (("M1", "Steady", "2025-06-03", 10_000), ("U1", "Steady", "2025-06-04", 30_000),
         ("N1", "Noisy", "2025-06-03", 10_000), ("N2", "Noisy", "2025-06-05", 12_000))  # fmt: skip


@pytest.fixture
def db(store, tmp_path):
    lines = ["source,influencer_id,brand,product,date,orders,revenue,campaign"]
    for n in range((W23 + dt.timedelta(days=6) - FIRST).days + 1):
        day = FIRST + dt.timedelta(days=n)
        lines.append(f"organic,,Steady,Pill,{day},1,1000.00,")
        lines.append(f"organic,,Noisy,Syrup,{day},1,{10_000 + (5_000 if n % 2 else -5_000)},")
    lines += [f"influencer,{who},{brand},Pill,{day},10,{revenue},C1"
              for who, brand, day, revenue in SALES]  # fmt: skip
    payouts = ["payout_id,influencer_id,basis,rate,orders,total_payout,payout_date,campaign,brand"]
    payouts += [f"P{who},{who},order,1000,10,10000,2025-06-08,C1,{brand}"
                for who, brand, _, _ in SALES]  # fmt: skip
    paths = (
        write(tmp_path, "influencers.csv", INFLUENCERS),
        write(tmp_path, "tracking.csv", "\n".join(lines) + "\n"),
        write(tmp_path, "payouts.csv", "\n".join(payouts) + "\n"),
    )
    assert load(store, *paths).ok
    return store


def test_a_move_when_the_intervals_do_not_overlap(db):
    digest = build_digest(db, W23, filters="brand=Steady", thresholds=TH)
    move = digest.move
    assert move is not None
    assert (move.source.label, move.destination.label) == ("Macro · Fitness", "Micro · Nutrition")
    assert (move.source.incremental_roas_low, move.source.incremental_roas_high) == (
        pytest.approx(1.0),
        pytest.approx(1.0),
    )
    assert move.destination.incremental_roas_low == pytest.approx(3.0)
    assert move.amount == pytest.approx(2_000)
    assert (move.revenue, move.low, move.high) == (
        pytest.approx(4_000),
        pytest.approx(4_000),
        pytest.approx(4_000),
    )
    assert digest.recommendations == [
        "Move ₹2k from Macro · Fitness creators (iROAS 1.00x, 1.00–1.00) to Micro · Nutrition "
        "creators (iROAS 3.00x, 3.00–3.00): expected +₹4k revenue (+₹4k to +₹4k)"
    ]


def test_no_move_when_they_overlap(db):
    digest = build_digest(db, W23, filters="brand=Noisy", thresholds=TH)
    assert digest.move is None
    assert digest.recommendations == [
        "No move is clearly better: their iROAS 90% intervals overlap"
    ]
    rows = answer(db, parse("/personas brand=Noisy from=2025-06-02 to=2025-06-08 "
                            "min_influencers=1", W23), TH).rows  # fmt: skip
    low = max(r.incremental_roas_low for r in rows)
    high = min(r.incremental_roas_high for r in rows)
    assert low <= high  # the best persona's low end is under the worst one's high end


def test_what_changed_says_the_week_before_had_no_cost_and_who_brings_the_revenue(db):
    digest = build_digest(db, W23, filters="brand=Steady", thresholds=TH)
    assert digest.changes is not None and digest.changes.change is None  # W22 had no cost
    assert {c.key: c.status for c in digest.changes.contributions} == {"M1": "new", "U1": "new"}
    assert digest.concentration == "75% of revenue from one influencer (Uma Sen)"
    lines = digest_changes(digest)
    assert lines[0] == (
        "ROAS n/a → 2.00x: it is n/a in a window without cost, so the change cannot be split"
    )
    assert lines[1] == "▲ Uma Sen (new) revenue +₹30k: cost ₹10k, ROAS 3.00x"
    assert lines[-1] == "Concentration: 75% of revenue from one influencer (Uma Sen)"
    text = digest_text(digest)
    assert "What changed\n  ROAS n/a → 2.00x" in text
    _, blocks = digest_message(digest)
    assert any("*What changed*" in b.get("text", {}).get("text", "") for b in blocks)


def test_unusual_days_and_an_empty_week_said_once(db):
    digest = build_digest(db, W23, thresholds=TH)
    # Every day of W23 before the sales was like its weekdays before (attributed: 0, expected
    # 0); the sales days are against expected 0, which is a start, not an anomaly.
    assert digest.unusual == []
    empty = build_digest(db, dt.date(2025, 6, 9), thresholds=TH)
    assert not empty.has_data and empty.changes is None
    text = digest_text(empty)
    assert text.count("No data for 2025-W24") == 1 and "What changed" not in text


def test_daily_totals_are_the_totals_of_each_day(db):
    days = [W23 + dt.timedelta(days=n) for n in range(7)]
    for scope in ({}, {"brand": ("Noisy",)}, {"platform": ("Instagram",)}):
        daily = daily_totals(db, Query("roas", scope), days)
        for day in days:
            whole = totals(db, Query("roas", scope, Window(day, day)))
            assert (daily[day].revenue, daily[day].orders) == (whole.revenue, whole.orders)
            assert daily[day].cost == pytest.approx(whole.cost)
