"""Identical commands share one computation, and a load makes the next one fresh."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from bot.answer_cache import AnswerCache
from insights.engine import Thresholds, answer, previous_totals
from insights.query import QueryError, parse
from storage.ingest import Origin, Upload, ingest_bytes, ingest_files
from tests.conftest import FIXTURES

TODAY = dt.date(2025, 3, 15)


@pytest.fixture
def db(store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return store


def _cache(db, charts: list | None = None) -> AnswerCache:
    def chart(result):
        if charts is not None:
            charts.append(result.title)
        return b"PNG:" + result.title.encode()

    return AnswerCache(db, chart=chart)


def test_concurrent_identical_commands_compute_once_and_get_the_same_answer(db):
    charts: list = []
    cache = _cache(db, charts)
    query = parse("/roas by=brand from=2025-03-01 to=2025-03-10", TODAY)
    start = threading.Barrier(8)
    got: list = []

    def ask() -> None:
        start.wait()
        got.append(cache.prepared(query, Thresholds()))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.computed == 1 and len(charts) == 1
    assert len(got) == 8 and all(p is got[0] for p in got)
    expected = answer(db, query, Thresholds())
    assert got[0].answer.to_dict() == expected.to_dict()
    assert got[0].previous == previous_totals(db, query, Thresholds())
    assert got[0].chart == b"PNG:" + expected.title.encode()


def test_a_load_makes_the_next_answer_fresh(db):
    cache = _cache(db)
    query = parse("/roas from=2025-03-01 to=2025-03-10", TODAY)
    before = cache.prepared(query, Thresholds()).answer.totals.revenue
    assert cache.prepared(query, Thresholds()).answer.totals.revenue == before
    assert cache.computed == 1
    extra = (
        "tracking_id,source,influencer_id,brand,product,campaign,date,orders,revenue\n"
        "T900,influencer,A,MuscleBlaze,Whey,MB-Mar,2025-03-05,1,1000\n"
    )
    assert ingest_bytes(db, extra.encode(), "more.csv", Origin("cli", "tester")).status == "loaded"
    after = cache.prepared(query, Thresholds()).answer.totals.revenue
    assert cache.computed == 2
    assert after == pytest.approx(before + 1000.0)


def test_other_thresholds_or_another_day_are_other_answers(db):
    cache = _cache(db)
    text = "/roas period=last_7d"
    cache.prepared(parse(text, TODAY), Thresholds())
    cache.prepared(parse(text, TODAY), Thresholds(roas_target=2.0))
    cache.prepared(parse(text, TODAY + dt.timedelta(days=1)), Thresholds())
    assert cache.computed == 3


def test_a_failed_answer_is_not_kept(db):
    cache = _cache(db)
    query = parse("/roas brand=NoSuchBrand", TODAY)
    for attempt in (1, 2):
        with pytest.raises(QueryError, match="no brand 'NoSuchBrand'"):
            cache.prepared(query, Thresholds())
        assert cache.computed == attempt


def test_only_the_most_recent_answers_are_kept(db):
    cache = AnswerCache(db, chart=lambda result: None, entries=2)
    queries = [parse(f"/roas period={p}", TODAY) for p in ("last_7d", "last_30d", "last_90d")]
    for query in queries:
        cache.prepared(query, Thresholds())
    cache.prepared(queries[2], Thresholds())  # kept
    assert cache.computed == 3
    cache.prepared(queries[0], Thresholds())  # evicted, computed again
    assert cache.computed == 4


# Commands that differ in breakdown, ranking or influencer filters, over two windows, with and
# without brand filters: each must equal its answer computed alone.
SHARING = [
    "/roas from=2025-03-01 to=2025-03-10",
    "/roas by=tier from=2025-03-01 to=2025-03-10",
    "/roas platform=Instagram by=category from=2025-03-01 to=2025-03-10",
    "/underperformers from=2025-03-01 to=2025-03-10",
    "/personas from=2025-03-01 to=2025-03-10",
    "/roas brand=MuscleBlaze by=influencer from=2025-03-01 to=2025-03-10",
    "/roas brand=MuscleBlaze gender=Female from=2025-03-01 to=2025-03-10",
    "/roas trend from=2025-03-01 to=2025-03-10",
    "/roas by=platform",
    "/influencer A",
]


def test_answers_sharing_sums_equal_the_answers_computed_alone(db):
    cache = _cache(db)
    for text in SHARING:
        query = parse(text, TODAY)
        got = cache.prepared(query, Thresholds())
        assert got.answer.to_dict() == answer(db, query, Thresholds()).to_dict(), text
        assert got.previous == previous_totals(db, query, Thresholds()), text
    # Sums and all revenue per (window, brand filter): 03-01..10 and the 10 days before, with
    # and without MuscleBlaze, and all-time: 5 x 2 parts, for 10 commands and their deltas; the
    # brands' lifts per window, whatever the filters: 3; and the influencers with their tiers.
    assert cache.sums.computed == 14


def test_shared_sums_follow_the_data(db):
    cache = _cache(db)
    by_tier = parse("/roas by=tier from=2025-03-01 to=2025-03-10", TODAY)
    before = cache.prepared(by_tier, Thresholds()).answer.totals
    extra = (
        "tracking_id,source,influencer_id,brand,product,campaign,date,orders,revenue\n"
        "T901,influencer,A,MuscleBlaze,Whey,MB-Mar,2025-03-05,1,1000\n"
    )
    assert ingest_bytes(db, extra.encode(), "more.csv", Origin("cli", "tester")).status == "loaded"
    # Another command over the same window after the load: the sums are not the old ones.
    by_gender = parse("/roas by=gender from=2025-03-01 to=2025-03-10", TODAY)
    after = cache.prepared(by_gender, Thresholds()).answer.totals
    assert after.revenue == pytest.approx(before.revenue + 1000.0)
    assert after == answer(db, by_gender, Thresholds()).totals
