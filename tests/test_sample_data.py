"""The sample data must be relationally consistent and deterministic, because the analytics and
the bot's demos treat it as ground truth: a broken join or a drifting file would be read as a
product bug."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pandas as pd
import pytest

from sample_data.generator import generate

END = datetime.date(2026, 11, 20)
DAYS = 60
START = END - datetime.timedelta(days=DAYS - 1)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BRANDS = {"MuscleBlaze": "MB", "HKVitals": "HKV", "Gritzo": "GR"}
HEADERS = {
    "influencers": "influencer_id,name,category,gender,follower_count,platform",
    "posts": "post_id,influencer_id,platform,date,reach,likes,comments,url,caption",
    "tracking_data": (
        "tracking_id,source,influencer_id,brand,product,campaign,date,orders,revenue"
    ),
    "payouts": (
        "payout_id,influencer_id,basis,rate,orders,total_payout,payout_date,campaign,brand"
    ),
}


def _read(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    # Empty text cells stay "" (not NaN) where emptiness is the meaning being tested.
    text = {"influencer_id": str, "campaign": str}
    return {
        "influencers": pd.read_csv(paths["influencers"]),
        "posts": pd.read_csv(paths["posts"]),
        "tracking_data": pd.read_csv(paths["tracking_data"], dtype=text, keep_default_na=False),
        "payouts": pd.read_csv(paths["payouts"]),
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("small"), influencers=30, days=DAYS, end_date=END)


@pytest.fixture(scope="module")
def data(small: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return _read(small)


@pytest.fixture(scope="module")
def default_size(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    return _read(generate(tmp_path_factory.mktemp("default"), end_date=END))


def _month(dates: pd.Series) -> pd.Series:
    """'Nov-2026' for each ISO date, spelled out so the system locale cannot change it."""
    parsed = pd.to_datetime(dates)
    return parsed.dt.month.map(lambda m: MONTHS[m - 1]) + "-" + parsed.dt.year.astype(str)


def _attributed(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    tracking = data["tracking_data"]
    return tracking[tracking["source"] == "influencer"]


def test_writes_the_four_files_with_exact_headers(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "dir"
    paths = generate(out, influencers=5, days=10, end_date=END)
    assert paths == {name: out / f"{name}.csv" for name in HEADERS}
    for name, path in paths.items():
        assert path.read_text(encoding="utf-8").split("\n", 1)[0] == HEADERS[name]


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", influencers=30, days=DAYS, end_date=END, seed=11)
    again = generate(tmp_path / "b", influencers=30, days=DAYS, end_date=END, seed=11)
    other = generate(tmp_path / "c", influencers=30, days=DAYS, end_date=END, seed=12)
    for name in HEADERS:
        assert first[name].read_bytes() == again[name].read_bytes(), name
        assert first[name].read_bytes() != other[name].read_bytes(), name


@pytest.mark.parametrize("kwargs", [{"influencers": 0}, {"days": 0}, {"influencers": 10**6}])
def test_rejects_sizes_it_cannot_honour(tmp_path: Path, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, end_date=END, **kwargs)


@pytest.mark.parametrize(
    ("name", "column", "pattern"),
    [
        ("influencers", "influencer_id", r"INF\d{4}"),
        ("posts", "post_id", r"P\d{6}"),
        ("tracking_data", "tracking_id", r"T\d{8}"),
        ("payouts", "payout_id", r"PAY\d{5}"),
    ],
)
def test_ids_are_unique_and_well_formed(
    data: dict[str, pd.DataFrame], name: str, column: str, pattern: str
) -> None:
    ids = data[name][column]
    assert ids.is_unique
    assert ids.str.fullmatch(pattern).all()


def test_names_are_unique_and_genders_mixed(data: dict[str, pd.DataFrame]) -> None:
    influencers = data["influencers"]
    assert influencers["name"].is_unique
    assert influencers["name"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").all()
    assert {"Male", "Female"} <= set(influencers["gender"]) <= {"Male", "Female", "Other"}


def test_every_reference_resolves_to_an_influencer(data: dict[str, pd.DataFrame]) -> None:
    known = set(data["influencers"]["influencer_id"])
    assert set(data["posts"]["influencer_id"]) <= known
    assert set(data["payouts"]["influencer_id"]) <= known
    tracked = set(data["tracking_data"]["influencer_id"]) - {""}
    assert tracked and tracked <= known


def test_post_platform_is_the_influencers_platform(data: dict[str, pd.DataFrame]) -> None:
    platform = data["influencers"].set_index("influencer_id")["platform"]
    posts = data["posts"]
    assert (posts["platform"] == posts["influencer_id"].map(platform)).all()
    hosts = {"Instagram": "instagram.com/p/", "YouTube": "youtube.com/watch?v=",
             "Twitter": "twitter.com/"}  # fmt: skip
    for platform_name, host in hosts.items():
        urls = posts.loc[posts["platform"] == platform_name, "url"]
        assert urls.str.startswith(f"https://{host}").all()


def test_captions_with_commas_survive_csv_quoting(data: dict[str, pd.DataFrame]) -> None:
    captions = data["posts"]["caption"]
    assert captions.str.contains(",").any()
    products = set(data["tracking_data"]["product"])
    mentions = "|".join(re.escape(name) for name in [*BRANDS, *products])
    assert captions.str.contains(mentions).all()


def test_attributed_and_baseline_rows_are_told_apart(data: dict[str, pd.DataFrame]) -> None:
    tracking = data["tracking_data"]
    attributed = tracking["source"] == "influencer"
    assert attributed.any() and (~attributed).any()
    assert (tracking.loc[attributed, "influencer_id"] != "").all()
    assert (tracking.loc[~attributed, "influencer_id"] == "").all()
    assert (tracking.loc[~attributed, "campaign"] == "").all()
    assert set(tracking.loc[~attributed, "source"]) == {"organic", "direct", "ads", "affiliate"}
    rows = tracking[attributed]
    expected = rows["brand"].map(BRANDS) + "-" + _month(rows["date"])
    assert (rows["campaign"] == expected).all()


def test_one_row_per_key_in_the_documented_order(data: dict[str, pd.DataFrame]) -> None:
    tracking = data["tracking_data"]
    keys = ["date", "source", "brand", "product", "influencer_id"]
    assert not tracking.duplicated(keys).any()
    ordered = tracking.sort_values(keys, kind="stable")
    assert list(ordered["tracking_id"]) == sorted(tracking["tracking_id"])


def test_dates_stay_in_the_window_and_tracking_reaches_the_end(
    data: dict[str, pd.DataFrame],
) -> None:
    window = (START.isoformat(), END.isoformat())
    for name, column in [("posts", "date"), ("tracking_data", "date"), ("payouts", "payout_date")]:
        dates = data[name][column]
        assert dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
        assert dates.between(*window).all(), name
    assert data["tracking_data"]["date"].max() == END.isoformat()
    payout_dates = pd.to_datetime(data["payouts"]["payout_date"])
    assert (payout_dates.dt.is_month_end | (payout_dates == pd.Timestamp(END))).all()


def test_numbers_are_non_negative_and_plausible(data: dict[str, pd.DataFrame]) -> None:
    posts, tracking, payouts = data["posts"], data["tracking_data"], data["payouts"]
    assert (posts[["reach", "likes", "comments"]] >= 0).all().all()
    assert (posts["likes"] <= posts["reach"]).all()
    assert (tracking["orders"] > 0).all()
    per_order = tracking["revenue"] / tracking["orders"]
    assert per_order.between(0.8 * 499 - 0.01, 3299 + 0.01).all()
    assert (payouts[["rate", "total_payout"]] >= 0).all().all()
    assert (data["influencers"]["follower_count"] > 0).all()


def test_all_follower_tiers_appear_at_default_size(
    default_size: dict[str, pd.DataFrame],
) -> None:
    followers = default_size["influencers"]["follower_count"]
    assert len(followers) == 60
    tiers = pd.cut(followers, [0, 10_000, 50_000, 500_000, 1_000_000, float("inf")], right=False)
    assert (tiers.value_counts() >= 2).all()


def test_default_size_tracking_volume(default_size: dict[str, pd.DataFrame]) -> None:
    assert 5_000 <= len(default_size["tracking_data"]) <= 20_000


def test_every_brand_sells_and_is_paid_for(data: dict[str, pd.DataFrame]) -> None:
    assert set(data["tracking_data"]["brand"]) == set(BRANDS)
    assert set(_attributed(data)["brand"]) == set(BRANDS)
    assert set(data["payouts"]["brand"]) <= set(BRANDS)


def test_weekends_sell_more_than_weekdays(data: dict[str, pd.DataFrame]) -> None:
    tracking = data["tracking_data"]
    baseline = tracking[tracking["source"] != "influencer"]
    daily = baseline.groupby("date")["orders"].sum()
    weekend = pd.to_datetime(daily.index).day_of_week >= 5
    assert daily[weekend].mean() > daily[~weekend].mean()


def test_sales_follow_posts_and_decay(data: dict[str, pd.DataFrame]) -> None:
    posts = data["posts"][["influencer_id", "date"]].assign(date=lambda f: pd.to_datetime(f.date))
    sales = _attributed(data)[["influencer_id", "date", "orders"]].copy()
    sales["date"] = pd.to_datetime(sales["date"])
    # Days since the influencer's latest post on or before the sale.
    joined = pd.merge_asof(
        sales.sort_values("date"),
        posts.sort_values("date").rename(columns={"date": "posted"}),
        left_on="date",
        right_on="posted",
        by="influencer_id",
    )
    assert joined["posted"].notna().all(), "a sale came before the influencer ever posted"
    lag = (joined["date"] - joined["posted"]).dt.days
    assert lag.max() < 14
    by_lag = joined.groupby(lag)["orders"].sum()
    assert by_lag[0] > by_lag[2] > by_lag[5]


def test_both_bases_are_used(data: dict[str, pd.DataFrame]) -> None:
    assert set(data["payouts"]["basis"]) == {"post", "order"}


def test_some_paid_influencers_sell_nothing(data: dict[str, pd.DataFrame]) -> None:
    payouts = data["payouts"]
    paid = payouts.groupby("influencer_id")["total_payout"].sum()
    sellers = set(_attributed(data)["influencer_id"])
    non_sellers = [i for i in paid[paid > 0].index if i not in sellers]
    assert len(non_sellers) >= 2
    assert set(payouts.loc[payouts["influencer_id"].isin(non_sellers), "basis"]) == {"post"}
    assert set(non_sellers) <= set(data["posts"]["influencer_id"])


def test_order_basis_pays_commission_on_tracked_orders(data: dict[str, pd.DataFrame]) -> None:
    keys = ["influencer_id", "brand", "campaign"]
    payouts = data["payouts"]
    order_basis = payouts[payouts["basis"] == "order"]
    assert order_basis["orders"].notna().all()
    assert (
        order_basis["total_payout"] - order_basis["rate"] * order_basis["orders"]
    ).abs().max() <= 0.01
    tracked = _attributed(data).groupby(keys)["orders"].sum()
    paid_orders = order_basis.set_index(keys)["orders"]
    assert paid_orders.index.is_unique
    assert (paid_orders == tracked.reindex(paid_orders.index, fill_value=0)).all()
    # And nothing an affiliate sold goes unpaid.
    affiliates = set(order_basis["influencer_id"])
    affiliate_sales = tracked[tracked.index.get_level_values("influencer_id").isin(affiliates)]
    assert set(affiliate_sales.index) <= set(paid_orders.index)


def test_post_basis_pays_the_fee_per_post_that_month(data: dict[str, pd.DataFrame]) -> None:
    payouts = data["payouts"]
    post_basis = payouts[payouts["basis"] == "post"].copy()
    assert post_basis["orders"].isna().all()
    assert not post_basis.duplicated(["influencer_id", "campaign"]).any()
    posts = data["posts"]
    posts_per_month = posts.groupby([posts["influencer_id"], _month(posts["date"])]).size()
    month = post_basis["campaign"].str.split("-", n=1).str[1]
    count = pd.Series(list(zip(post_basis["influencer_id"], month, strict=True))).map(
        posts_per_month
    )
    assert (count.to_numpy() >= 1).all()
    expected = post_basis["rate"].to_numpy() * count.to_numpy()
    assert abs(post_basis["total_payout"].to_numpy() - expected).max() <= 0.01


def test_roas_ranges_from_losses_to_stars(default_size: dict[str, pd.DataFrame]) -> None:
    revenue = _attributed(default_size).groupby("influencer_id")["revenue"].sum()
    cost = default_size["payouts"].groupby("influencer_id")["total_payout"].sum()
    roas = revenue.reindex(cost.index, fill_value=0.0) / cost
    assert ((roas > 0) & (roas < 1)).sum() >= 2
    assert (roas > 8).sum() >= 2
    assert roas.between(1.5, 6).mean() > 0.5


def test_more_influencers_than_name_pairs_get_unique_names_with_a_middle_initial(
    tmp_path: Path,
) -> None:
    """Beyond the 3,600 first + last pairs (benchmarks ask for 20,000), names take a middle
    initial and stay unique and deterministic."""
    first = generate(tmp_path / "a", influencers=4000, days=2, end_date=END, seed=3)
    again = generate(tmp_path / "b", influencers=4000, days=2, end_date=END, seed=3)
    assert first["influencers"].read_bytes() == again["influencers"].read_bytes()
    names = pd.read_csv(first["influencers"])["name"]
    assert names.is_unique and len(names) == 4000
    assert names.str.fullmatch(r"[A-Z][a-z]+ (?:[A-Z]\. )?[A-Z][a-z]+").all()
    assert names.str.contains(r" [A-Z]\. ").sum() > 3000  # most of them, drawn among 97,200


def test_the_shipped_files_extend_the_demo_store_without_replacing_anything(store, tmp_path):
    """sample_data/*.csv are a batch of new creators (ids of their own, their sales only): what
    `make run` loads stays as it was, and they add to it (README: Loading data)."""
    import datetime as dt

    from sample_data.generator import generate
    from storage.ingest import Upload, ingest_files
    from tests.conftest import ROOT
    from tests.helpers import counts

    demo = generate(tmp_path, influencers=60, days=90, end_date=dt.date(2026, 12, 1), seed=7)
    assert ingest_files(store, [Upload.from_path(p) for p in demo.values()]).ok
    before = counts(store)
    shipped = sorted((ROOT / "sample_data").glob("*.csv"))
    result = ingest_files(store, [Upload.from_path(p) for p in shipped])
    assert result.ok
    assert all(f.total("updated") == 0 and f.total("unchanged") == 0 for f in result.files)
    after = counts(store)
    assert after["influencers"] == before["influencers"] + 12
    assert all(after[name] > before[name] for name in before)
