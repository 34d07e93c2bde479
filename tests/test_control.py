"""`control=`: a brand no influencer touched stands in for the baseline (docs/metrics.md, rule 7).

The data are built here so that every figure can be computed by hand: Gritzo (the control) sells
100 on weekdays and 200 at weekends before 1 Mar 2025 and half as much again in the window (a
market-wide sale); MuscleBlaze's organic sales are 2x Gritzo's on weekdays and 3x at weekends,
times e^0.1 in even weeks and e^-0.1 in odd ones, so each weekday's mean log ratio is exactly
log 2 or log 3 and the smearing factor is cosh(0.1). In the window MuscleBlaze sells Gritzo's
revenue times its ratio, plus 1,000 through Asha Rao, who is paid 500.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from insights.engine import Thresholds, answer
from insights.query import QueryError, parse, to_text
from storage.ingest import Upload, ingest_files

TODAY = dt.date(2025, 3, 10)
WINDOW = "from=2025-03-01 to=2025-03-07"  # Saturday to Friday
PRE_START = dt.date(2025, 1, 4)  # 56 days before, a Saturday too
SMEARING = math.cosh(0.1)
# In the window: 2 weekend days of Gritzo 300 x 3 and 5 weekdays of 150 x 2.
EXPECTED = (2 * 300 * 3 + 5 * 150 * 2) * SMEARING  # 3,316.51
REVENUE = 2 * 900 + 5 * 300 + 1000  # MuscleBlaze's organic 3,300 and attributed 1,000
LIFT = REVENUE - EXPECTED  # 983.49


def _weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


def _tracking() -> str:
    lines = ["tracking_id,source,influencer_id,brand,product,campaign,date,orders,revenue"]
    for i in range(63):
        day = PRE_START + dt.timedelta(days=i)
        inside = day >= dt.date(2025, 3, 1)
        gritzo = (300 if _weekend(day) else 150) if inside else (200 if _weekend(day) else 100)
        ratio = 3 if _weekend(day) else 2
        noise = 1.0 if inside else math.exp(0.1 if (i // 7) % 2 == 0 else -0.1)
        lines.append(f"G{i},organic,,Gritzo,Kids Protein,,{day},1,{gritzo}")
        lines.append(f"M{i},organic,,MuscleBlaze,Whey,,{day},1,{gritzo * ratio * noise:.6f}")
    lines.append("T1,influencer,A,MuscleBlaze,Whey,MB-Mar,2025-03-03,2,1000")
    return "\n".join(lines) + "\n"


@pytest.fixture
def db(store, tmp_path):
    files = {
        "influencers.csv": "influencer_id,name,category,gender,follower_count,platform\n"
        "A,Asha Rao,Fitness,Female,12000,Instagram\n",
        "payouts.csv": "payout_id,influencer_id,basis,total_payout,payout_date,brand,campaign\n"
        "P1,A,order,500,2025-03-03,MuscleBlaze,MB-Mar\n",
        "tracking_data.csv": _tracking(),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = ingest_files(store, [Upload.from_path(tmp_path / n) for n in files])
    assert result.ok, [f.message for f in result.files]
    return store


def ask(db, text: str) -> dict:
    return answer(db, parse(text, TODAY), Thresholds()).to_dict()


def test_the_controls_revenue_times_the_weekday_ratio_is_the_baseline(db):
    result = ask(db, f"/roas {WINDOW} control=Gritzo")
    t = result["totals"]
    assert t["baseline_revenue"] == pytest.approx(EXPECTED, abs=0.05)  # to 0.1
    assert t["incremental_revenue"] == pytest.approx(LIFT, abs=0.05)
    assert t["incremental_roas"] == pytest.approx(LIFT / 500, abs=1e-3)
    assert t["incremental_revenue_low"] < t["incremental_revenue"] < t["incremental_revenue_high"]
    assert (
        "baseline: Gritzo's revenue in the window times each brand's weekday ratio to it over "
        "the 56 days before 01 Mar 2025" in result["notes"]
    )
    # Without the control the sale is counted as influencers' lift: MuscleBlaze's weekday
    # means (2,200 x cosh 0.1 over the window) are far below what it sold anyway.
    plain = ask(db, f"/roas {WINDOW}")["totals"]
    assert plain["incremental_revenue"] == pytest.approx(REVENUE - 2200 * SMEARING, abs=0.05)


def test_a_product_control_and_any_spelling_give_the_same_figures(db):
    brand = ask(db, f"/roas {WINDOW} control=Gritzo")["totals"]
    product = ask(db, f'/roas {WINDOW} control="kids protein" brand=muscleblaze')["totals"]
    assert product["incremental_revenue"] == pytest.approx(brand["incremental_revenue"])
    assert product["incremental_revenue_low"] == pytest.approx(brand["incremental_revenue_low"])


def test_a_control_with_influencer_activity_is_refused_naming_who(db):
    with pytest.raises(QueryError, match=r"control=MuscleBlaze had influencer activity in the "
                       r"window \(Asha Rao sold it\)"):  # fmt: skip
        ask(db, f"/roas {WINDOW} control=MuscleBlaze")
    # After Asha Rao's sale, MuscleBlaze had none: then it may be a control (of Gritzo).
    after = ask(db, "/roas from=2025-03-04 to=2025-03-07 control=MuscleBlaze")
    assert after["totals"]["all_revenue"] == 4 * 150 + 4 * 300
    assert not [n for n in after["notes"] if "distinguishable" in n]  # nothing sold: no interval


def test_the_control_cannot_be_measured_nor_be_unknown(db):
    with pytest.raises(QueryError, match="Gritzo is the control: it cannot also be what is"):
        ask(db, f"/roas {WINDOW} brand=Gritzo control=gritzo")
    with pytest.raises(QueryError, match="no brand or product 'Gritz' — did you mean Gritzo"):
        ask(db, f"/roas {WINDOW} control=Gritz")


def test_a_brand_without_enough_days_alongside_the_control_has_no_baseline(db):
    result = ask(db, "/roas from=2025-01-31 to=2025-03-07 control=Gritzo")
    assert result["totals"]["incremental_roas"] is None
    assert any(
        n.startswith("no baseline: MuscleBlaze has 27 days of sales alongside Gritzo")
        for n in result["notes"]
    ), result["notes"]


def test_control_parses_back_from_its_text():
    query = parse(f'/roas {WINDOW} control="Kids Protein"', TODAY)
    assert query.control == "Kids Protein"
    assert parse(to_text(query), TODAY) == query
