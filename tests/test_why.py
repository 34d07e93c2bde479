"""`/roas why` and `/roas whatif` on the worked example of docs/metrics.md, both stores.

The fixture's figures by influencer (tests/fixtures/metrics; docs/metrics.md "Why a figure
changed" has the same table):

| influencer | 28 Feb - 4 Mar revenue / cost | 5 - 9 Mar revenue / cost |
| --- | --- | --- |
| A Asha Rao | 2,000 (T1) / 1,000 (P1's posts on 1 and 4 Mar) | 1,000 (T2, T3) / 0 |
| B Ravi Kumar | 1,500 (T4) / 450 (P2 on T4) | 500 (T5) / 150 (P2 on T5) |
| C Kabir Shah | 0 / 400 (P3, 3 Mar) | (gone) |
| D Meera Iyer | (absent) | 0 / 250 (P4, 9 Mar): new |

ROAS₀ = 3,500 / 1,850 = 70/37 = 1.8919x, ROAS₁ = 1,500 / 400 = 3.75x; each contribution is
(ΔR − 70/37 · ΔC) / 400.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.charts import render_chart, waterfall_steps
from bot.cli.console import Console
from bot.export import answer_csv
from bot.labels import why_summary
from bot.service import Question, Service
from bot.settings import Settings
from bot.slack.blocks import answer_message
from bot.text import answer_text
from insights.drivers import decompose
from insights.engine import Thresholds, answer
from insights.query import QueryError, parse
from insights.results import Explained, Row, Totals
from storage.ingest import Upload, ingest_files
from tests.conftest import FIXTURES
from tests.inprocess import app_for, dispatch
from tests.slack_standin import SlackStandIn, slash_command_body

TODAY = dt.date(2025, 3, 15)
ROAS0 = 3500 / 1850
WHY = "/roas why from=2025-03-05 to=2025-03-09"


@pytest.fixture
def db(store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return store


def ask(db, text: str, today: dt.date = TODAY):
    return answer(db, parse(text, today), Thresholds())


def by_key(result: dict) -> dict[str, dict]:
    return {c["key"]: c for c in result["contributions"]}


def test_new_gone_and_continuing_segments_add_up_to_the_change(db):
    result = ask(db, WHY)
    out = result.to_dict()
    assert out["window"] == {"from": "2025-03-05", "to": "2025-03-09"}
    assert out["comparison"]["window"] == {"from": "2025-02-28", "to": "2025-03-04"}
    assert (out["totals"]["revenue"], out["totals"]["cost"]) == (1500.0, 400.0)
    assert (out["comparison"]["totals"]["revenue"], out["comparison"]["totals"]["cost"]) == (
        3500.0,
        1850.0,
    )
    assert out["change"] == pytest.approx(3.75 - 70 / 37, abs=1e-6)
    rows = by_key(out)
    assert {k: r["status"] for k, r in rows.items()} == {
        "A": "continuing", "B": "continuing", "C": "gone", "D": "new",
    }  # fmt: skip
    expected = {  # (ΔR, ΔC) by hand, points = (ΔR − ROAS₀ ΔC) / 400
        "A": (-1000, -1000, 33000 / 37 / 400),  # 2.2297
        "B": (-1000, -300, -16000 / 37 / 400),  # -1.0811
        "C": (0, -400, 28000 / 37 / 400),  # 1.8919: C's 400 of spend at 0x is gone
        "D": (0, 250, -17500 / 37 / 400),  # -1.1824: D's 250 at 0x is new
    }
    for key, (revenue, cost, points) in expected.items():
        row = rows[key]
        assert (row["revenue_change"], row["cost_change"]) == (revenue, cost), key
        assert row["roas_points"] == pytest.approx(points, abs=1e-6), key
        assert row["roas_points_as_revenue"] == pytest.approx(revenue - ROAS0 * cost, abs=0.01)
    assert sum(r["roas_points"] for r in rows.values()) == pytest.approx(out["change"], abs=1e-5)
    assert set(rows["A"]) == {
        "key", "label", "status", "roas_points", "roas_points_as_revenue", "revenue_change",
        "cost_change",
    }  # fmt: skip
    # A brings 1,000 of the 1,500: more than CONCENTRATION_SHARE (50%).
    assert "67% of revenue from one influencer (Asha Rao)" in out["notes"]
    assert [c.key for c in result.ranked(up=True, count=5)] == ["A", "C"]
    assert [c.key for c in result.ranked(up=False, count=5)] == ["D", "B"]


def test_the_summary_text_blocks_and_chart_say_the_same(db):
    result = ask(db, WHY)
    assert why_summary(result) == (
        "ROAS rose 1.86 (1.89x → 3.75x): Asha Rao +2.23, Kabir Shah (gone) +1.89"
    )  # the segments that pushed it up; Ravi Kumar and Meera Iyer pushed the other way
    text = answer_text(result)
    assert "Pushing up:\n  Asha Rao +2.23 (+₹892): cost ₹1k → ₹0, ROAS 2.00x → n/a" in text
    assert "  Meera Iyer (new) −1.18 (−₹473): cost ₹250, ROAS 0.00x" in text
    assert "Against 28 Feb 2025 – 04 Mar 2025: ROAS 1.89x · Revenue ₹3,500 · Cost ₹1,850" in text
    fallback, blocks = answer_message(result, "why from=2025-03-05 to=2025-03-09")
    assert fallback == why_summary(result)
    assert any("Kabir Shah (gone) +1.89 (+₹757)" in b.get("text", {}).get("text", "")
               for b in blocks)  # fmt: skip
    steps = waterfall_steps(result)  # the bars run from ROAS₀ to ROAS₁ through every segment
    assert steps[0][2] == pytest.approx(ROAS0) and steps[-1][2] == pytest.approx(3.75)
    assert steps[-2][2] == pytest.approx(3.75)
    assert render_chart(result).startswith(b"\x89PNG")
    csv = answer_csv(result).decode("utf-8-sig").splitlines()
    assert csv[0].startswith("key,label,status,roas_points,points_as_numerator,revenue_before")
    assert len(csv) == 5


def test_a_window_without_cost_is_said_in_words_and_its_sums_still_split(db):
    result = ask(db, "/roas why from=2025-03-05 to=2025-03-07")  # A's sales, nobody's cost
    out = result.to_dict()
    assert out["change"] is None and out["totals"]["roas"] is None
    rows = by_key(out)
    split = {k: (r["revenue_change"], r["cost_change"], r["roas_points"]) for k, r in rows.items()}
    assert split == {
        "A": (-1000.0, -500.0, None), "B": (-1500.0, -450.0, None), "C": (0.0, -400.0, None),
    }  # fmt: skip
    assert (
        "ROAS is n/a in 05 Mar 2025 – 07 Mar 2025 (no cost), so its change cannot be split: "
        "segments are ranked by their change of revenue"
    ) in out["notes"]
    # 2-4 March: A 2,000 / 500, B 1,500 / 450, C 0 / 400: 3,500 / 1,350 = 2.59x.
    assert why_summary(result).startswith("ROAS 2.59x → n/a: it is n/a in a window without cost")
    assert render_chart(result) is None  # a chart of parts that do not exist would be a lie
    # And the comparison window without cost: 5-7 Mar against 8-10 Mar.
    before = ask(db, "/roas why from=2025-03-08 to=2025-03-10 vs=2025-03-05..2025-03-07")
    assert before.change is None
    assert before.notes[-2].startswith("ROAS is n/a in 05 Mar 2025 – 07 Mar 2025 (no cost)")
    assert before.notes[-1] == "100% of revenue from one influencer (Ravi Kumar)"


def test_cpa_and_revenue_split_with_their_own_formula(db):
    cpa = by_key(ask(db, f"{WHY} metric=cpa").to_dict())
    # CPA₀ = 1,850 / 5 orders = 370, CPA₁ = 400 / 3; points = (ΔCost − 370 ΔOrders) / 3.
    assert {k: r["cpa_points"] for k, r in cpa.items()} == pytest.approx(
        {"A": -1000 / 3, "B": 440 / 3, "C": -400 / 3, "D": 250 / 3}
    )
    assert cpa["B"]["orders_change"] == -2
    revenue = ask(db, f"{WHY} metric=revenue")
    assert {c.key: c.points for c in revenue.contributions} == {
        "A": -1000, "B": -1000, "C": 0, "D": 0,
    }  # fmt: skip
    assert revenue.change == -2000


def test_comparison_windows_and_breakdowns(db):
    last_year = ask(db, f"{WHY} vs=last_year").to_dict()
    assert last_year["comparison"]["window"] == {"from": "2024-03-05", "to": "2024-03-09"}
    assert last_year["change"] is None  # no cost a year before: nothing to split
    by_brand = ask(db, f"{WHY} by=brand").to_dict()
    keys = {c["key"]: c["status"] for c in by_brand["contributions"]}
    assert keys == {"MuscleBlaze": "continuing", "HKVitals": "continuing",
                    "unattributed": "new"}  # fmt: skip
    assert sum(c["roas_points"] for c in by_brand["contributions"]) == pytest.approx(
        by_brand["change"], abs=1e-5
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{WHY} by=week", "they share no week"),
        (f"{WHY} by=brand metric=engagement_rate", "comes from posts, which have no brand"),
        ("/roas why vs=yesterday", "write vs=previous"),
        ("/roas why metric=incremental_roas", "metric= takes"),
        ("/underperformers vs=previous", "vs= belongs to `/roas` and `/roas why`"),
    ],
)
def test_what_why_cannot_answer_is_said(db, text, message):
    with pytest.raises(QueryError, match=message):
        ask(db, text)


# --- the sum, on random data --------------------------------------------------------------

_PAISE = st.integers(0, 10**9).map(lambda paise: paise / 100)  # money as the store keeps it
_SUMS = st.tuples(_PAISE, _PAISE, st.integers(0, 500))


@settings(max_examples=300, deadline=None)
@given(
    segments=st.lists(
        st.tuples(st.one_of(st.none(), _SUMS), st.one_of(st.none(), _SUMS)), min_size=1,
        max_size=30,
    ),
    name=st.sampled_from(["roas", "cpa", "revenue", "cost", "orders"]),
)  # fmt: skip
def test_contributions_always_add_up_to_the_change(segments, name):
    def row(key: str, sums) -> Row:
        revenue, cost, orders = sums
        return Row(key=key, label=key, revenue=revenue, cost=cost, orders=orders, posts=0)

    before = [row(str(i), b) for i, (b, _) in enumerate(segments) if b is not None]
    after = [row(str(i), a) for i, (_, a) in enumerate(segments) if a is not None]

    def totals(rows: list[Row]) -> Totals:
        return Totals(revenue=sum(r.revenue for r in rows), cost=sum(r.cost for r in rows),
                      orders=sum(r.orders for r in rows), posts=0)  # fmt: skip

    result = Explained(command="why", filters={}, window_from=None, window_to=None,
                       totals=totals(after), comparison=totals(before), metric=name)  # fmt: skip
    result.contributions = decompose(name, before, after, result.comparison, result.totals)
    for s in ("revenue", "cost", "orders"):
        assert sum(c.change(s) for c in result.contributions) == pytest.approx(
            result.totals.value(s) - result.comparison.value(s), rel=1e-9, abs=1e-6
        )
    if result.change is None:
        assert all(c.points is None for c in result.contributions)
        return
    scale = max(abs(c.points or 0) for c in result.contributions) if result.contributions else 0
    # Each point is (ΔR − ROAS₀ ΔC) / C₁: sums of ~|R| + ROAS₀|C| cancel to far less, then are
    # divided by C₁, so rounding grows by their ratio (a cost of 0.01 after 67,124 magnifies it
    # ~10⁷ times: seen in CI). The tolerance is that rounding, a few thousand ulps of it.
    ratio = {"roas": ("revenue", "cost"), "cpa": ("cost", "orders")}.get(name)
    magnitude = 0.0  # sums' points are their changes: no division
    if ratio is not None:
        num, den = ratio
        before_value = result.comparison.value(name) or 0.0
        terms = sum(getattr(r, num) + before_value * getattr(r, den) for r in [*before, *after])
        magnitude = terms / result.totals.value(den)
    assert sum(c.points or 0.0 for c in result.contributions) == pytest.approx(
        result.change, rel=1e-9, abs=1e-9 * max(scale, 1.0) + 1e-12 * magnitude
    )


# --- what if ------------------------------------------------------------------------------

MARCH = dt.date(2025, 3, 10)  # period=this_month is then 1-10 March, the worked example's window


def test_a_move_at_each_sides_iroas_with_its_interval(db):
    result = ask(db, "/roas whatif move=200 from=influencer:C to=influencer:A period=this_month",
                 MARCH)  # fmt: skip
    out = result.to_dict()
    assert out["window"] == {"from": "2025-03-01", "to": "2025-03-10"}
    # C sold nothing: iROAS 0 exactly. A: 1,100 of MuscleBlaze's lift over A's MuscleBlaze
    # cost 833.33 = 1.32x (docs/metrics.md). 200 moved: 200 x (1.32 - 0) = 264 more revenue,
    # 264 / 2,250 = +0.117 ROAS at unchanged total cost.
    assert (out["from"]["incremental_roas"], out["from"]["incremental_roas_low"]) == (0.0, 0.0)
    assert out["to"]["incremental_roas"] == pytest.approx(1100 / 833.3333, abs=1e-4)
    assert out["revenue_change"]["value"] == pytest.approx(264.0, abs=0.01)
    assert out["roas_change"]["value"] == pytest.approx(264 / 2250, abs=1e-6)
    a = ask(db, "/roas period=this_month", MARCH).rows
    [row_a] = [r for r in a if r.key == "A"]
    assert out["revenue_change"]["low"] == pytest.approx(200 * row_a.incremental_roas_low, abs=0.01)
    assert out["revenue_change"]["high"] == pytest.approx(200 * row_a.incremental_roas_high,
                                                          abs=0.01)  # fmt: skip
    assert any(n.startswith("assumes returns stay constant at the margin") for n in out["notes"])
    assert any("moves 50% of Kabir Shah's spend, more than the 20%" in n for n in out["notes"])
    text = answer_text(result)
    assert "Move ₹200 from Kabir Shah to Asha Rao" in text
    assert "Expected revenue +₹264" in text


def test_what_a_move_cannot_say(db):
    na = ask(db, "/roas whatif move=100 from=influencer:B to=influencer:A period=this_month", MARCH)
    assert na.revenue_change is None  # B sells only HKVitals, which has no baseline
    assert "Ravi Kumar has no iROAS in the window: the change cannot be estimated" in na.notes
    with pytest.raises(QueryError, match="Kabir Shah spent ₹400 in the window"):
        ask(db, "/roas whatif move=500 from=influencer:C to=influencer:A period=this_month", MARCH)
    with pytest.raises(QueryError, match="no tier 'mego' with figures in the window — did you"):
        ask(db, "/roas whatif move=5 from=tier:mego to=tier:micro period=this_month", MARCH)
    with pytest.raises(QueryError, match="whatif needs move="):
        ask(db, "/roas whatif from=tier:mega to=tier:micro")


# --- every surface --------------------------------------------------------------------------


WHATIF = "/roas whatif move=200 from=influencer:C to=influencer:A period=2025-03-01..2025-03-10"


def test_the_console_ask_json_and_slack_answer_why_and_whatif(db, cli_env, store_url, tmp_path):
    service = Service(Settings(database_url=store_url), db, clock=lambda: dt.datetime(
        2025, 3, 10, 12, tzinfo=dt.UTC))  # fmt: skip
    reply = service.run(f"{WHY[1:]}", service.console_caller())
    assert isinstance(reply, Question) and reply.query.command == "why"
    prepared = service.prepared(reply.query)
    assert prepared.previous == prepared.answer.comparison  # deltas against its own window
    assert prepared.answer.to_dict()["change"] == pytest.approx(3.75 - ROAS0, abs=1e-6)
    console = Console(service, tmp_path)
    assert console.answer(WHY).splitlines()[1].startswith("ROAS rose 1.86 (1.89x → 3.75x)")
    assert "Expected revenue +₹264" in console.answer(
        "/roas whatif move=200 from=influencer:C to=influencer:A period=this_month"
    )
    with SlackStandIn() as slack:
        app = app_for(slack, db)
        for text in (WHY, WHATIF):
            dispatch(app, slash_command_body("/roas", text.removeprefix("/roas "), "http://x"))
        posted = slack.wait_for("chat.postMessage", count=2, timeout=60)
        texts = sorted(c.params["text"] for c in posted)
        assert texts[0].startswith("ROAS rose 1.86 (1.89x → 3.75x): Asha Rao +2.23")
        assert texts[1].startswith("What if spend moved: ROAS")
        blocks = json.dumps([c.params["blocks"] for c in posted], ensure_ascii=False)
        assert "Expected revenue +₹264" in blocks and "Pushing down" in blocks
        slack.wait_for("files.completeUploadExternal", timeout=30)  # why's waterfall
    for text in (f"{WHY} vs=previous", WHATIF):
        out = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "--json", text],
                             capture_output=True, text=True, env=cli_env, timeout=300)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["command"] in ("why", "whatif")
