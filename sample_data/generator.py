"""Deterministic, relationally consistent sample data for influencer-marketing ROAS analytics.

The bot must be demoed and load-tested on data that behaves like HealthKart's (MuscleBlaze,
HKVitals, Gritzo) without touching real sales: sales that spike after a post and fade, a weekly
baseline that no influencer caused, creators paid per post or per order, a few stars and a few
who are paid and sell nothing. Everything is drawn from one seeded numpy generator in a fixed
order, so the same arguments always give byte-identical CSV files.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------------------------
# Catalogue


@dataclass(frozen=True)
class _Product:
    name: str
    price: float  # list price, INR
    # Mean daily orders from all non-influencer sources together, for a programme of
    # _BASELINE_CREATORS creators; it grows with the programme so the influencer share of sales
    # stays plausible (roughly 40-50%) at any size.
    baseline_orders: float


@dataclass(frozen=True)
class _Brand:
    name: str
    code: str  # prefix of the brand's monthly campaign names
    products: tuple[_Product, ...]


_BRANDS = (
    _Brand(
        "MuscleBlaze",
        "MB",
        (
            _Product("Biozyme Performance Whey", 3299.0, 360.0),
            _Product("Raw Whey Protein", 1999.0, 270.0),
            _Product("Creatine Monohydrate", 849.0, 210.0),
            _Product("Mass Gainer XXL", 2499.0, 120.0),
            _Product("Pre-Workout 200", 1299.0, 75.0),
        ),
    ),
    _Brand(
        "HKVitals",
        "HKV",
        (
            _Product("Multivitamin Tablets", 499.0, 330.0),
            _Product("Fish Oil Omega-3", 699.0, 240.0),
            _Product("Biotin Hair Gummies", 649.0, 180.0),
            _Product("Skin Radiance Collagen", 1499.0, 90.0),
            _Product("Apple Cider Vinegar", 549.0, 135.0),
        ),
    ),
    _Brand(
        "Gritzo",
        "GR",
        (
            _Product("SuperMilk Growth 3-5y", 549.0, 105.0),
            _Product("SuperMilk Height+ 6-9y", 599.0, 90.0),
            _Product("SuperMilk Daily Nutrition 10+", 649.0, 60.0),
        ),
    ),
)
_PRODUCT_NAME = np.array([p.name for b in _BRANDS for p in b.products])
_PRODUCT_BRAND = np.array([i for i, b in enumerate(_BRANDS) for _ in b.products])
_PRODUCT_PRICE = np.array([p.price for b in _BRANDS for p in b.products])
_PRODUCT_BASELINE = np.array([p.baseline_orders for b in _BRANDS for p in b.products])
_BRAND_PRODUCTS = np.split(
    np.arange(len(_PRODUCT_NAME)), np.cumsum([len(b.products) for b in _BRANDS])[:-1]
)

_BASELINE_CREATORS = 60
_SOURCE_INFLUENCER = "influencer"
# Non-attributed sources and their share of a product's baseline demand.
_BASELINE_SOURCES = ("organic", "direct", "ads", "affiliate")
_BASELINE_SHARE = np.array([0.42, 0.23, 0.25, 0.10])
# Monday..Sunday demand; weekends sell more. Normalised so a week averages 1.
_WEEKDAY = np.array([0.93, 0.92, 0.94, 0.97, 1.04, 1.12, 1.08])
_WEEKDAY = _WEEKDAY / _WEEKDAY.mean()
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MEAN_DISCOUNT = 0.9  # revenue per order is price x U(0.8, 1.0)

# ---------------------------------------------------------------------------------------------
# Creators

_MALE_FIRST = (
    "Aarav", "Vihaan", "Arjun", "Rohan", "Karan", "Aditya", "Siddharth", "Rahul", "Vikram",
    "Nikhil", "Ankit", "Varun", "Harsh", "Kunal", "Manish", "Pranav", "Yash", "Abhishek",
    "Gaurav", "Rishabh", "Sahil", "Amit", "Deepak", "Akash", "Tanmay", "Ishaan", "Kabir",
    "Arnav", "Dhruv", "Raghav",
)  # fmt: skip
_FEMALE_FIRST = (
    "Priya", "Ananya", "Diya", "Isha", "Kavya", "Meera", "Neha", "Pooja", "Riya", "Sneha",
    "Shreya", "Tanvi", "Aditi", "Anjali", "Divya", "Kriti", "Nisha", "Sakshi", "Simran",
    "Swati", "Aishwarya", "Bhavna", "Ishita", "Jhanvi", "Komal", "Mansi", "Payal", "Radhika",
    "Sanya", "Tanya",
)  # fmt: skip
_FIRST = _MALE_FIRST + _FEMALE_FIRST
_LAST = (
    "Sharma", "Verma", "Gupta", "Singh", "Kumar", "Patel", "Shah", "Mehta", "Joshi", "Iyer",
    "Nair", "Menon", "Reddy", "Rao", "Naidu", "Pillai", "Das", "Banerjee", "Chatterjee",
    "Mukherjee", "Bose", "Sen", "Ghosh", "Kapoor", "Malhotra", "Khanna", "Chopra", "Arora",
    "Bhatia", "Sethi", "Ahuja", "Saxena", "Srivastava", "Tiwari", "Pandey", "Mishra", "Dubey",
    "Chauhan", "Rathore", "Yadav", "Jain", "Agarwal", "Bansal", "Goel", "Mittal", "Kulkarni",
    "Deshpande", "Patil", "Pawar", "Jadhav", "Gill", "Sandhu", "Dhillon", "Grewal", "Thakur",
    "Bhatt", "Trivedi", "Desai", "Hegde", "Shetty",
)  # fmt: skip
# Names are unique: first + last pairs while there are enough of them (3,600), beyond that a
# middle initial too ("Aarav K. Sharma"), which makes room for 97,200 creators.
_PAIRS = len(_FIRST) * len(_LAST)
_INITIALS = " ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # " ": no initial
MAX_INFLUENCERS = _PAIRS * len(_INITIALS)

_GENDERS = ("Male", "Female", "Other")
_OTHER_GENDER_SHARE = 0.03
_CATEGORIES = ("Fitness", "Health", "Nutrition", "Beauty", "Kids")
# P(category | gender), rows in _GENDERS order; Fitness is the most common overall.
_CATEGORY_BY_GENDER = np.array(
    [
        [0.50, 0.20, 0.20, 0.03, 0.07],
        [0.30, 0.20, 0.15, 0.20, 0.15],
        [0.35, 0.20, 0.15, 0.20, 0.10],
    ]
)
# P(brand | category), columns in _BRANDS order.
_BRAND_BY_CATEGORY = np.array(
    [
        [0.85, 0.15, 0.00],
        [0.10, 0.90, 0.00],
        [0.34, 0.33, 0.33],
        [0.00, 1.00, 0.00],
        [0.00, 0.10, 0.90],
    ]
)
# Per-order affiliates sometimes carry a second brand; fixed-fee deals are single-brand so that a
# post's fee is unambiguously one brand's cost.
_SECOND_BRAND_SHARE = 0.2
_SECOND_BRAND_POST_SHARE = 0.35
_PRODUCTS_PER_BRAND_P = np.array([0.15, 0.35, 0.50])  # 1, 2 or 3 products promoted

# Follower tiers: [low, high) bounds, share of creators, and days between posts (inclusive).
_TIER_BOUNDS = np.array(
    [[1_000, 10_000], [10_000, 50_000], [50_000, 500_000], [500_000, 1_000_000],
     [1_000_000, 8_000_000]]
)  # fmt: skip
_TIER_SHARE = np.array([0.32, 0.30, 0.26, 0.08, 0.04])
_TIER_GAP = np.array([[3, 5], [3, 6], [4, 8], [6, 9], [7, 10]])
_MIN_PER_TIER = 2  # once there are enough creators, every tier shows up at least this often

_PLATFORMS = ("Instagram", "YouTube", "Twitter")
_PLATFORM_P = np.array([0.72, 0.18, 0.10])
_REACH_FRACTION = np.array([0.25, 0.18, 0.08])  # of followers, per post
_LIKE_RATE = np.array([0.035, 0.020, 0.008])  # of reach
_COMMENT_RATE = np.array([0.0012, 0.0035, 0.0005])  # of reach
_URL_TEMPLATES = (  # in _PLATFORMS order
    "https://instagram.com/p/{code}",
    "https://youtube.com/watch?v={code}",
    "https://twitter.com/{handle}/status/{status}",
)
_URL_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))

# ROAS profile quotas (share of all creators, floor) taken from the fixed-fee group, because only
# there is ROAS free to vary: a per-order commission pins ROAS near price / commission.
_NON_SELLER_SHARE, _POOR_SHARE, _STAR_SHARE = 0.05, 0.10, 0.07
_MIN_PER_PROFILE = 2
_COMMISSION_RANGE = (0.15, 0.35)  # of the creator's average product price, per order
_DECAY_WINDOW = 10  # days a post keeps selling; the exponential makes the tail small
_DECAY_TAU_RANGE = (1.2, 2.5)  # days

_CAPTIONS = (
    "Fuelling my mornings with {brand} {product}, no shortcuts",
    "Honest review: {brand} {product} after 30 days",
    "Use code {code} for extra off on {brand} {product}!",
    "My go-to is {product} by {brand}. Link in bio",
    "Why {product} is now part of my daily routine #{brand}",
    "Unboxing the new {brand} {product}, first impressions inside",
    "Small habits, big results: {brand} {product}",
    "Swipe for my {product} routine, and grab code {code}",
    'Tried {brand} {product} so you don\'t have to. Verdict: "worth it"',
    "Consistency > intensity. Powered by {brand} {product}",
)


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """How sales respond to creators, for checking the incremental-revenue estimator.

    `incremental_share` of influencer-attributed orders would not have happened without the
    posts; the rest displace orders the brand would have had anyway (a code used on a purchase
    already planned), removed from its organic, direct, ads and affiliate sales. `noise` is the
    log-normal spread of daily organic demand, `baseline_scale` its size; `campaign_start` drops
    the posts before it, so the days before are untouched by creators; `festival_start` puts
    `festival_days` of organic demand `festival_lift` times the usual, which no influencer
    caused. The defaults give the same data as ever: every attributed order incremental.
    """

    incremental_share: float = 1.0
    noise: float = 0.15
    baseline_scale: float = 1.0  # organic demand, times the usual for the programme's size
    campaign_start: datetime.date | None = None  # no posts before it (None: always on)
    festival_start: datetime.date | None = None
    festival_days: int = 7
    festival_lift: float = 1.5


@dataclass(frozen=True)
class Simulated:
    frames: dict[str, pd.DataFrame]  # influencers, posts, tracking_data, payouts
    truth: pd.DataFrame  # date, brand, incremental_revenue: what the creators really added


def generate(
    out_dir: Path,
    *,
    influencers: int = 60,
    days: int = 90,
    end_date: datetime.date,
    seed: int = 7,
    demand: Demand | None = None,
    truth: bool = False,
    id_prefix: str = "",
    attributed_only: bool = False,
) -> dict[str, Path]:
    """Writes influencers.csv, posts.csv, tracking_data.csv and payouts.csv into `out_dir`
    (and truth.csv, the true incremental revenue per day and brand, with `truth`).

    `id_prefix` goes before every id, and `attributed_only` leaves out the sales no creator
    made: together they make a batch of new creators that extends a store holding other data
    (the files shipped in sample_data/) without replacing or doubling anything in it.

    The window is the `days` days ending on `end_date`. Returns the written paths keyed
    "influencers", "posts", "tracking_data", "payouts" (and "truth").
    """
    data = simulate(influencers=influencers, days=days, end_date=end_date, seed=seed, demand=demand)
    frames = {**data.frames, **({"truth": data.truth} if truth else {})}
    if attributed_only:
        tracking = frames["tracking_data"]
        frames["tracking_data"] = tracking[tracking["source"] == _SOURCE_INFLUENCER]
    if id_prefix:
        frames = {name: _prefixed(frame, id_prefix) for name, frame in frames.items()}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in frames.items():
        paths[name] = out_dir / f"{name}.csv"
        # Fixed line ending and float format: output must be byte-identical on every platform.
        frame.to_csv(
            paths[name], index=False, float_format="%.2f", lineterminator="\n", encoding="utf-8"
        )
    return paths


def simulate(
    *,
    influencers: int = 60,
    days: int = 90,
    end_date: datetime.date,
    seed: int = 7,
    demand: Demand | None = None,
) -> Simulated:
    """The sample data as frames, with the truth behind it (`generate` writes them)."""
    if influencers < 1 or days < 1:
        raise ValueError("influencers and days must be at least 1")
    if influencers > MAX_INFLUENCERS:
        raise ValueError(f"at most {MAX_INFLUENCERS} influencers: names must stay unique")
    demand = demand or Demand()
    rng = np.random.default_rng(seed)
    cal = _Calendar.build(end_date, days)
    roster = _Roster.build(rng, influencers)
    posts = _Posts.build(rng, roster, cal)
    if demand.campaign_start is not None:
        posts = posts.since(cal.day_of(demand.campaign_start))
    orders = _attributed_orders(rng, roster, posts, cal)
    people, post_frame = roster.frame(), posts.frame(rng, roster, cal)
    scale = influencers / _BASELINE_CREATORS * demand.baseline_scale
    baseline = _baseline_orders(rng, cal, scale, demand)
    baseline, displaced = _displace(rng, roster, orders, baseline, demand.incremental_share)
    tracking = _tracking_frame(rng, roster, orders, baseline, cal)
    frames = {
        "influencers": people,
        "posts": post_frame,
        "tracking_data": tracking,
        "payouts": _payouts_frame(roster, posts, orders, cal),
    }
    return Simulated(frames, _truth(tracking, displaced, cal))


def _displace(
    rng: np.random.Generator,
    roster: _Roster,
    attributed: np.ndarray,
    baseline: np.ndarray,
    share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each attributed order is not incremental with probability 1 - share: it takes the place
    of an order of the same product that day from the other sources, or of another product of
    the brand when it had too few. Returns the baseline left and the displaced orders per
    (product, day)."""
    displaced = np.zeros((len(_PRODUCT_NAME), attributed.shape[1]), dtype=np.int64)
    if share >= 1:
        return baseline, displaced
    per_product = np.zeros_like(displaced)
    np.add.at(per_product, roster.pair_product, attributed)
    wanted = rng.binomial(per_product, 1 - max(share, 0.0))
    left = baseline.astype(np.int64)
    _take(left, displaced, wanted, range(len(_PRODUCT_NAME)))  # the same product first
    for products in _BRAND_PRODUCTS:  # then, when it had too few, the brand's other products
        short = wanted[products].sum(axis=0) - displaced[products].sum(axis=0)
        _take(left, displaced, np.broadcast_to(short, (len(products), len(short))), products,
              pooled=True)  # fmt: skip
    return left.astype(np.int32), displaced


def _take(
    left: np.ndarray,
    displaced: np.ndarray,
    wanted: np.ndarray,
    products,
    pooled: bool = False,
) -> None:
    """Remove orders from the baseline `left` (products, sources, days), source by source:
    `wanted[i]` of product `products[i]`, or, `pooled`, `wanted[0]` in all over `products`."""
    remaining = wanted[0].copy() if pooled else None
    for i, product in enumerate(products):
        need = remaining if pooled else wanted[i] - displaced[product]
        for source in range(left.shape[1]):
            take = np.minimum(need, left[product, source])
            left[product, source] -= take
            displaced[product] += take
            need = need - take
        if pooled:
            remaining = need


def _truth(tracking: pd.DataFrame, displaced: np.ndarray, cal: _Calendar) -> pd.DataFrame:
    """True incremental revenue per day and brand: the attributed revenue, less what the
    displaced orders would have brought (at their product's mean price after discount)."""
    attributed = tracking[tracking["source"] == _SOURCE_INFLUENCER]
    by_day = attributed.groupby(["date", "brand"], observed=True)["revenue"].sum()
    lost = displaced * (_PRODUCT_PRICE * _MEAN_DISCOUNT)[:, None]
    rows = []
    for b, brand in enumerate(_BRANDS):
        per_day = lost[_BRAND_PRODUCTS[b]].sum(axis=0)
        for d, date in enumerate(cal.dates):
            made = float(by_day.get((date, brand.name), 0.0))
            rows.append((date, brand.name, round(made - float(per_day[d]), 2)))
    return pd.DataFrame(rows, columns=["date", "brand", "incremental_revenue"])


@dataclass(frozen=True)
class _Calendar:
    """Day-indexed window; day 0 is the first day, days-1 is end_date."""

    dates: np.ndarray  # ISO strings
    weekday_factor: np.ndarray
    month_of_day: np.ndarray  # index into the month arrays below
    month_start: np.ndarray  # first day index of each month within the window
    month_label: np.ndarray  # "Nov-2026"
    payout_date: np.ndarray  # ISO month end, or end_date for the unfinished last month

    @staticmethod
    def build(end_date: datetime.date, days: int) -> _Calendar:
        start = np.datetime64(end_date, "D") - (days - 1)
        dates = start + np.arange(days)
        months = dates.astype("datetime64[M]")
        month_of_day = (months - months[0]).astype(np.int64)
        unique_months = months[0] + np.arange(month_of_day[-1] + 1)
        month_end = np.minimum((unique_months + 1).astype("datetime64[D]") - 1, dates[-1])
        years = unique_months.astype("datetime64[Y]").astype(np.int64) + 1970
        month_numbers = unique_months.astype(np.int64) % 12
        labels = [f"{_MONTHS[m]}-{y}" for m, y in zip(month_numbers, years, strict=True)]
        weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        return _Calendar(
            dates=dates.astype(str),
            weekday_factor=_WEEKDAY[weekday],
            month_of_day=month_of_day,
            month_start=np.flatnonzero(np.diff(month_of_day, prepend=-1)),
            month_label=np.array(labels),
            payout_date=month_end.astype(str),
        )

    @property
    def days(self) -> int:
        return len(self.dates)

    def day_of(self, date: datetime.date) -> int:
        """The index of `date` (negative before the first day)."""
        return int((np.datetime64(date, "D") - np.datetime64(self.dates[0])).astype(int))


@dataclass(frozen=True)
class _Roster:
    """Creators, the brands they carry (slots) and the products they push (pairs)."""

    ids: np.ndarray
    first: np.ndarray  # index into _FIRST
    initial: np.ndarray  # index into _INITIALS (0: none)
    last: np.ndarray  # index into _LAST
    gender: np.ndarray
    category: np.ndarray
    followers: np.ndarray
    platform: np.ndarray
    tier: np.ndarray
    paid_per_post: np.ndarray  # bool; else paid per order
    rate: np.ndarray  # INR per post, or INR per order
    reach_fraction: np.ndarray  # expected reach / followers
    engagement: np.ndarray  # multiplier on platform like/comment rates
    orders_per_post: np.ndarray  # expected orders from a post of average reach
    decay_tau: np.ndarray
    slot_influencer: np.ndarray  # slot = (creator, brand); a creator's slots are adjacent
    slot_brand: np.ndarray
    first_slot: np.ndarray  # per creator
    has_second: np.ndarray  # per creator
    pair_slot: np.ndarray  # pair = (slot, product), grouped by slot
    pair_product: np.ndarray
    pair_share: np.ndarray  # share of the slot's orders, sums to 1 per slot
    slot_share_cum: np.ndarray  # (slots, 3) cumulative pair shares, padded with 1

    @staticmethod
    def build(rng: np.random.Generator, n: int) -> _Roster:
        # Up to _PAIRS creators the draw is the one it always was, so those data sets stay
        # byte-identical; larger rosters draw among names with a middle initial as well.
        name_index = rng.choice(_PAIRS if n <= _PAIRS else MAX_INFLUENCERS, size=n, replace=False)
        initial, pair = np.divmod(name_index, _PAIRS)
        first, last = np.divmod(pair, len(_LAST))
        gender = (first >= len(_MALE_FIRST)).astype(np.int64)
        gender[rng.random(n) < _OTHER_GENDER_SHARE] = 2
        category = _draw_rows(rng, _CATEGORY_BY_GENDER[gender])
        platform = rng.choice(len(_PLATFORMS), size=n, p=_PLATFORM_P)
        tier = rng.permutation(np.repeat(np.arange(len(_TIER_SHARE)), _tier_counts(n)))
        low, high = np.log(_TIER_BOUNDS[tier, 0]), np.log(_TIER_BOUNDS[tier, 1])
        followers = np.exp(low + rng.random(n) * (high - low)).astype(np.int64)
        followers = np.minimum(followers, _TIER_BOUNDS[tier, 1] - 1)

        # Fixed-fee creators get the ROAS profiles; the rest are per-order affiliates.
        fixed_fee = rng.permutation(n)[: (n + 1) // 2]
        paid_per_post = np.zeros(n, dtype=bool)
        paid_per_post[fixed_fee] = True
        quotas = [
            max(_MIN_PER_PROFILE, round(share * n))
            for share in (_NON_SELLER_SHARE, _POOR_SHARE, _STAR_SHARE)
        ]
        bounds = np.minimum(np.cumsum(quotas), len(fixed_fee))
        non_seller, poor, star = np.split(fixed_fee, bounds)[:3]
        target_roas = np.exp(rng.uniform(np.log(1.7), np.log(5.5), n))
        target_roas[poor] = rng.uniform(0.3, 0.85, len(poor))
        target_roas[star] = rng.uniform(9.0, 16.0, len(star))
        target_roas[non_seller] = 0.0

        # Market fee per post: roughly INR 3k for 5k followers, 4.5 lakh for 2M.
        fee = 2.0 * followers**0.85 * rng.lognormal(0.0, 0.25, n)
        fee = np.maximum(500.0, np.round(fee, -2))
        reach_fraction = (
            _REACH_FRACTION[platform]
            * np.clip((followers / 1e5) ** -0.08, 0.7, 1.4)
            * rng.lognormal(0.0, 0.2, n)
        )
        engagement = np.clip((followers / 1e5) ** -0.12, 0.6, 1.6) * rng.lognormal(0.0, 0.2, n)
        decay_tau = rng.uniform(*_DECAY_TAU_RANGE, n)

        first_brand = _draw_rows(rng, _BRAND_BY_CATEGORY[category])
        second_p = _BRAND_BY_CATEGORY[category].copy()
        second_p[np.arange(n), first_brand] = 0.0
        has_second = (
            ~paid_per_post & (second_p.sum(axis=1) > 0) & (rng.random(n) < _SECOND_BRAND_SHARE)
        )
        second_brand = _draw_rows(rng, second_p[has_second])
        slots_per = 1 + has_second.astype(np.int64)
        slot_influencer = np.repeat(np.arange(n), slots_per)
        first_slot = np.cumsum(slots_per) - slots_per
        slot_brand = np.empty(len(slot_influencer), dtype=np.int64)
        slot_brand[first_slot] = first_brand
        slot_brand[first_slot[has_second] + 1] = second_brand

        pair_slot, pair_product, pair_share = [], [], []
        slot_share_cum = np.ones((len(slot_brand), len(_PRODUCTS_PER_BRAND_P)))
        for slot, brand in enumerate(slot_brand):
            catalogue = _BRAND_PRODUCTS[brand]
            k = min(
                len(catalogue), 1 + rng.choice(len(_PRODUCTS_PER_BRAND_P), p=_PRODUCTS_PER_BRAND_P)
            )
            popularity = _PRODUCT_BASELINE[catalogue] / _PRODUCT_BASELINE[catalogue].sum()
            chosen = np.sort(rng.choice(catalogue, size=k, replace=False, p=popularity))
            share = rng.dirichlet(np.full(k, 2.0))
            pair_slot.append(np.full(k, slot))
            pair_product.append(chosen)
            pair_share.append(share)
            slot_share_cum[slot, :k] = np.cumsum(share)
            slot_share_cum[slot, k - 1 :] = 1.0  # exact, so no draw can fall past the last
        pair_slot_arr = np.concatenate(pair_slot)
        pair_product_arr = np.concatenate(pair_product)
        pair_share_arr = np.concatenate(pair_share)

        # Conversion quality is solved from the target ROAS against the market fee, so "great"
        # and "poor" creators differ in sales per reach, not merely in what they are paid.
        weight = pair_share_arr / slots_per[slot_influencer[pair_slot_arr]]
        avg_price = np.bincount(
            slot_influencer[pair_slot_arr], weight * _PRODUCT_PRICE[pair_product_arr], minlength=n
        )
        orders_per_post = target_roas * fee / (avg_price * _MEAN_DISCOUNT)
        commission = np.round(rng.uniform(*_COMMISSION_RANGE, n) * avg_price, 2)
        return _Roster(
            ids=_ids("INF", n, 4),
            first=first,
            initial=initial,
            last=last,
            gender=gender,
            category=category,
            followers=followers,
            platform=platform,
            tier=tier,
            paid_per_post=paid_per_post,
            rate=np.where(paid_per_post, fee, commission),
            reach_fraction=reach_fraction,
            engagement=engagement,
            orders_per_post=orders_per_post,
            decay_tau=decay_tau,
            slot_influencer=slot_influencer,
            slot_brand=slot_brand,
            first_slot=first_slot,
            has_second=has_second,
            pair_slot=pair_slot_arr,
            pair_product=pair_product_arr,
            pair_share=pair_share_arr,
            slot_share_cum=slot_share_cum,
        )

    def frame(self) -> pd.DataFrame:
        names = [
            f"{_FIRST[f]} {_INITIALS[i] + '. ' if i else ''}{_LAST[s]}"
            for f, i, s in zip(self.first, self.initial, self.last, strict=True)
        ]
        return pd.DataFrame(
            {
                "influencer_id": self.ids,
                "name": names,
                "category": np.array(_CATEGORIES)[self.category],
                "gender": np.array(_GENDERS)[self.gender],
                "follower_count": self.followers,
                "platform": np.array(_PLATFORMS)[self.platform],
            }
        )


@dataclass(frozen=True)
class _Posts:
    """Posts in creator order (then date); written out sorted by date."""

    influencer: np.ndarray
    day: np.ndarray
    slot: np.ndarray
    product: np.ndarray
    reach: np.ndarray

    def since(self, first_day: int) -> _Posts:
        """Only the posts from `first_day` on (a campaign that starts then)."""
        keep = self.day >= first_day
        return _Posts(*(column[keep] for column in (self.influencer, self.day, self.slot,
                                                     self.product, self.reach)))  # fmt: skip

    @staticmethod
    def build(rng: np.random.Generator, roster: _Roster, cal: _Calendar) -> _Posts:
        n, days = len(roster.ids), cal.days
        gap_low, gap_high = _TIER_GAP[roster.tier, 0], _TIER_GAP[roster.tier, 1]
        max_posts = days // int(_TIER_GAP[:, 0].min()) + 1
        span = (gap_high - gap_low + 1)[:, None]
        gaps = gap_low[:, None] + np.floor(rng.random((n, max_posts)) * span).astype(np.int64)
        # The first post lands inside the window, so every creator (non-sellers too) posts.
        gaps[:, 0] = np.floor(rng.random(n) * np.minimum(gap_high, days)).astype(np.int64)
        post_days = np.cumsum(gaps, axis=1)
        influencer, column = np.nonzero(post_days < days)
        day = post_days[influencer, column]

        second = roster.has_second[influencer] & (rng.random(len(day)) < _SECOND_BRAND_POST_SHARE)
        slot = roster.first_slot[influencer] + second
        picked = (roster.slot_share_cum[slot] < rng.random(len(day))[:, None]).sum(axis=1)
        slot_start = np.searchsorted(roster.pair_slot, slot)
        product = roster.pair_product[slot_start + picked]
        expected = roster.followers[influencer] * roster.reach_fraction[influencer]
        reach = np.maximum(1, np.rint(expected * _noise(rng, 0.35, len(day)))).astype(np.int64)
        return _Posts(influencer=influencer, day=day, slot=slot, product=product, reach=reach)

    def frame(self, rng: np.random.Generator, roster: _Roster, cal: _Calendar) -> pd.DataFrame:
        count = len(self.day)
        platform = roster.platform[self.influencer]
        engagement = roster.engagement[self.influencer] * self.reach
        likes = np.rint(engagement * _LIKE_RATE[platform] * _noise(rng, 0.3, count))
        comments = np.rint(engagement * _COMMENT_RATE[platform] * _noise(rng, 0.5, count))
        codes = _URL_ALPHABET[rng.integers(0, len(_URL_ALPHABET), (count, 11))]
        codes = codes.view("<U11").ravel()
        status = rng.integers(1_600_000_000_000_000_000, 1_900_000_000_000_000_000, count)
        template = rng.integers(0, len(_CAPTIONS), count)
        discount = rng.choice([10, 15, 20], size=len(roster.ids))
        handles = [
            f"{_FIRST[f]}_{_LAST[s]}".lower()
            for f, s in zip(roster.first, roster.last, strict=True)
        ]
        urls, captions = [], []
        for i in range(count):
            who = self.influencer[i]
            urls.append(
                _URL_TEMPLATES[platform[i]].format(
                    code=codes[i], handle=handles[who], status=status[i]
                )
            )
            captions.append(
                _CAPTIONS[template[i]].format(
                    brand=_BRANDS[roster.slot_brand[self.slot[i]]].name,
                    product=_PRODUCT_NAME[self.product[i]],
                    code=f"{_FIRST[roster.first[who]].upper()}{discount[who]}",
                )
            )
        order = np.lexsort((self.influencer, self.day))
        return pd.DataFrame(
            {
                "post_id": _ids("P", count, 6),
                "influencer_id": roster.ids[self.influencer[order]],
                "platform": np.array(_PLATFORMS)[platform[order]],
                "date": cal.dates[self.day[order]],
                "reach": self.reach[order],
                "likes": likes[order].astype(np.int64),
                "comments": comments[order].astype(np.int64),
                "url": np.array(urls, dtype=object)[order],
                "caption": np.array(captions, dtype=object)[order],
            }
        )


def _attributed_orders(
    rng: np.random.Generator, roster: _Roster, posts: _Posts, cal: _Calendar
) -> np.ndarray:
    """Daily orders per (slot, product) pair: each post's sales spike that day and decay."""
    days = cal.days
    typical_reach = roster.followers * roster.reach_fraction
    strength = (
        posts.reach / typical_reach[posts.influencer] * roster.orders_per_post[posts.influencer]
    )
    impulse = np.zeros((len(roster.slot_brand), days))
    np.add.at(impulse, (posts.slot, posts.day), strength)
    lags = np.arange(min(_DECAY_WINDOW, days))
    kernel = np.exp(-lags / roster.decay_tau[:, None])
    kernel = (kernel / kernel.sum(axis=1, keepdims=True))[roster.slot_influencer]
    intensity = np.zeros_like(impulse)
    for lag in lags:
        intensity[:, lag:] += impulse[:, : days - lag] * kernel[:, lag : lag + 1]
    mean = intensity[roster.pair_slot]
    mean *= roster.pair_share[:, None] * cal.weekday_factor
    mean *= _noise(rng, 0.3, mean.shape)
    return rng.poisson(mean).astype(np.int32)


def _baseline_orders(
    rng: np.random.Generator, cal: _Calendar, scale: float, demand: Demand
) -> np.ndarray:
    """Daily orders per (product, source) no creator can claim, shaped (products, sources, days)."""
    factor = cal.weekday_factor.copy()
    if demand.festival_start is not None:
        first = cal.day_of(demand.festival_start)
        festival = slice(max(first, 0), max(first + demand.festival_days, 0))
        factor[festival] *= demand.festival_lift
    mean = (
        scale
        * _PRODUCT_BASELINE[:, None, None]
        * _BASELINE_SHARE[None, :, None]
        * factor[None, None, :]
    )
    return rng.poisson(mean * _noise(rng, demand.noise, mean.shape)).astype(np.int32)


def _tracking_frame(
    rng: np.random.Generator,
    roster: _Roster,
    attributed: np.ndarray,
    baseline: np.ndarray,
    cal: _Calendar,
) -> pd.DataFrame:
    """One row per (creator, product, day) and per (product, source, day) with orders > 0."""
    sources = sorted((_SOURCE_INFLUENCER, *_BASELINE_SOURCES))
    brands = sorted(b.name for b in _BRANDS)
    products = sorted(_PRODUCT_NAME.tolist())
    source_rank = {s: i for i, s in enumerate(sources)}
    brand_rank = np.array([brands.index(b.name) for b in _BRANDS])
    product_rank = np.array([products.index(p) for p in _PRODUCT_NAME])
    baseline_rank = np.array([source_rank[s] for s in _BASELINE_SOURCES])

    pair, a_day = np.nonzero(attributed)
    a_orders = attributed[pair, a_day]
    a_product = roster.pair_product[pair]
    a_influencer = roster.slot_influencer[roster.pair_slot[pair]]
    product, source, b_day = np.nonzero(baseline)
    b_orders = baseline[product, source, b_day]

    day = np.concatenate([a_day, b_day])
    prod = np.concatenate([a_product, product])
    src = np.concatenate(
        [np.full(len(a_day), source_rank[_SOURCE_INFLUENCER]), baseline_rank[source]]
    )
    influencer = np.concatenate([a_influencer, np.full(len(b_day), -1)])
    orders = np.concatenate([a_orders, b_orders])

    order = np.lexsort((influencer, product_rank[prod], brand_rank[_PRODUCT_BRAND[prod]], src, day))
    day, prod, src, influencer, orders = (
        column[order] for column in (day, prod, src, influencer, orders)
    )
    brand = _PRODUCT_BRAND[prod]
    n_months = len(cal.month_label)
    campaign = np.where(influencer >= 0, brand * n_months + cal.month_of_day[day], -1)
    campaigns = [f"{b.code}-{label}" for b in _BRANDS for label in cal.month_label]
    revenue = np.round(orders * _PRODUCT_PRICE[prod] * rng.uniform(0.8, 1.0, len(day)), 2)
    return pd.DataFrame(
        {
            "tracking_id": _ids("T", len(day), 8),
            "source": pd.Categorical.from_codes(src, sources),
            "influencer_id": pd.Categorical.from_codes(influencer, roster.ids),
            "brand": pd.Categorical.from_codes(brand_rank[brand], brands),
            "product": pd.Categorical.from_codes(product_rank[prod], products),
            "campaign": pd.Categorical.from_codes(campaign, campaigns),
            "date": pd.Categorical.from_codes(day, cal.dates),
            "orders": orders,
            "revenue": revenue,
        }
    )


def _payouts_frame(
    roster: _Roster, posts: _Posts, attributed: np.ndarray, cal: _Calendar
) -> pd.DataFrame:
    """One payout per creator, brand and month the creator posted or sold in."""
    n_slots, n_months = len(roster.slot_brand), len(cal.month_label)
    monthly = np.add.reduceat(attributed, cal.month_start, axis=1, dtype=np.int64)
    orders = np.zeros((n_slots, n_months), dtype=np.int64)
    np.add.at(orders, roster.pair_slot, monthly)
    post_count = np.zeros((n_slots, n_months), dtype=np.int64)
    np.add.at(post_count, (posts.slot, cal.month_of_day[posts.day]), 1)
    per_post = roster.paid_per_post[roster.slot_influencer]
    active = (post_count > 0) | (~per_post[:, None] & (orders > 0))
    month, slot = np.nonzero(active.T)
    influencer = roster.slot_influencer[slot]
    paid_per_post = per_post[slot]
    units = np.where(paid_per_post, post_count[slot, month], orders[slot, month])
    rate = roster.rate[influencer]
    brand = roster.slot_brand[slot]
    return pd.DataFrame(
        {
            "payout_id": _ids("PAY", len(slot), 5),
            "influencer_id": roster.ids[influencer],
            "basis": np.where(paid_per_post, "post", "order"),
            "rate": rate,
            "orders": pd.array(np.where(paid_per_post, None, units), dtype="Int64"),
            "total_payout": np.round(rate * units, 2),
            "payout_date": cal.payout_date[month],
            "campaign": [
                f"{_BRANDS[b].code}-{cal.month_label[m]}" for b, m in zip(brand, month, strict=True)
            ],
            "brand": [_BRANDS[b].name for b in brand],
        }
    )


# ---------------------------------------------------------------------------------------------


def _tier_counts(n: int) -> np.ndarray:
    """Creators per tier by quota, not by chance, so small samples still span every tier."""
    exact = _TIER_SHARE * n
    counts = np.floor(exact).astype(np.int64)
    by_remainder = np.argsort(-(exact - counts), kind="stable")
    counts[by_remainder[: n - counts.sum()]] += 1
    if n >= _MIN_PER_TIER * len(counts) * 2:
        for tier in range(len(counts)):
            short = _MIN_PER_TIER - counts[tier]
            if short > 0:
                counts[tier] += short
                counts[np.argmax(counts)] -= short
    return counts


def _draw_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix (rows need not be normalised)."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    return (cumulative <= u[:, None]).sum(axis=1)


def _noise(rng: np.random.Generator, sigma: float, size: int | tuple[int, ...]) -> np.ndarray:
    """Log-normal multiplier with mean 1, so noise never shifts the expected totals."""
    return rng.lognormal(-(sigma**2) / 2, sigma, size)


def _prefixed(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Every id column of a frame with `prefix` in front (missing ids stay missing)."""
    out = frame.copy()
    for column in ("influencer_id", "post_id", "tracking_id", "payout_id"):
        if column in out:
            values = out[column].astype(object)
            out[column] = [None if pd.isna(v) else f"{prefix}{v}" for v in values]
    return out


def _ids(prefix: str, count: int, min_width: int) -> np.ndarray:
    """Zero-padded ids numbered from 1; they sort as text in numbering order."""
    width = max(min_width, len(str(count)))
    if count == 0:  # e.g. no posts at all: a campaign that starts after the data ends
        return np.array([], dtype=f"<U{len(prefix) + width}")
    return np.char.add(prefix, np.char.zfill(np.arange(1, count + 1).astype(str), width))
