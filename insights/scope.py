"""Resolving a parsed `Query` against the store: exact values, influencer ids, the window.

The parser cannot know that `brand=muscleblaze` means "MuscleBlaze"; this module asks the store
for the values it holds and matches case- and space-insensitively, so that afterwards every
filter is a set of exact values bound as SQL parameters. Unknown values get the closest match.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

from insights.catalogue import TIERS
from insights.query import Query, QueryError, Window
from storage import models
from storage.frames import columns_frame

DEFAULT_TIER_BOUNDS = (10_000, 50_000, 500_000, 1_000_000)
PRODUCT_KEYS = ("brand", "product", "campaign")
INFLUENCER_KEYS = ("influencer", "platform", "category", "gender", "tier")


def normalise(value: str) -> str:
    """'HK Vitals' and 'hkvitals' are the same brand to a person typing a command."""
    return re.sub(r"[\s_\-]+", "", str(value)).lower()


def tier_of(followers: int, bounds: tuple[int, ...] = DEFAULT_TIER_BOUNDS) -> str:
    """Half-open tiers: nano < 10k <= micro < 50k <= mid < 500k <= macro < 1M <= mega."""
    for name, upper in zip(TIERS, bounds, strict=False):
        if followers < upper:
            return name
    return TIERS[-1]


@dataclass(frozen=True)
class Control:
    """`control=`: the brand or product whose revenue stands in for the baseline."""

    column: str  # "brand" or "product"
    values: frozenset[str]  # every stored spelling of it
    name: str  # the one shown


@dataclass(frozen=True)
class Scope:
    """A query in exact store terms.

    `influencer_ids` is None when no influencer attribute is filtered; `brands`/`products`/
    `campaigns` hold every stored spelling that matched (a payout may say "Muscleblaze").
    """

    window: Window  # concrete dates, clipped to the data; open ends only when there is none
    explicit_window: bool  # the user gave from/to/period (undated cost is then out of scope)
    data_through: dt.date | None = None  # the last date with tracking rows
    requested: Window = field(default_factory=Window)  # the window asked for, before clipping
    influencer_ids: frozenset[str] | None = None
    brands: frozenset[str] | None = None
    products: frozenset[str] | None = None
    campaigns: frozenset[str] | None = None
    shown_filters: dict[str, list[str]] = field(default_factory=dict)
    control: Control | None = None

    @property
    def clipped(self) -> bool:
        """The window asked for runs past the data: it is answered up to `data_through`."""
        end = self.requested.end
        return end is not None and self.data_through is not None and end > self.data_through

    @property
    def after_data(self) -> bool:
        """The window asked for starts after the last day of data: there is nothing yet."""
        start = self.requested.start
        return start is not None and self.data_through is not None and start > self.data_through

    @property
    def product_filtered(self) -> bool:
        return any(v is not None for v in (self.brands, self.products, self.campaigns))

    def in_window(self, column) -> list[ColumnElement[bool]]:
        """Conditions keeping `column` in the window, only when the query names one: without a
        window, undated cost and rows outside the data's first-to-last dates still count."""
        if not self.explicit_window:
            return []
        conditions = []
        if self.window.start is not None:
            conditions.append(column >= self.window.start)
        if self.window.end is not None:
            conditions.append(column <= self.window.end)
        return conditions

    def in_influencers(self, column) -> list[ColumnElement[bool]]:
        """Conditions keeping `column` (an influencer id) among the filtered influencers."""
        if self.influencer_ids is None:
            return []
        return [column.in_(sorted(self.influencer_ids))]

    def in_products(self, table) -> list[ColumnElement[bool]]:
        """Conditions on `table`'s brand, product and campaign columns for the filtered ones."""
        filters = (("brand", self.brands), ("product", self.products), ("campaign", self.campaigns))
        return [table.c[name].in_(sorted(values)) for name, values in filters if values is not None]


def load_influencers(conn: Connection, bounds: tuple[int, ...]) -> pd.DataFrame:
    """The influencers with their tier, indexed by influencer_id (20,000 rows at most seen).

    Built column by column (`storage.frames`) and tiered with one comparison per bound: from
    SQLAlchemy rows and `tier_of` per influencer this took ~0.2 s at 20,000 influencers."""
    inf = models.influencers
    names = ["influencer_id", "name", "category", "gender", "follower_count", "platform"]
    rows = conn.execute(select(*(inf.c[n] for n in names)))
    frame = columns_frame(rows, names)
    followers = frame["follower_count"].to_numpy()
    tiers = np.full(len(frame), TIERS[-1], dtype=object)
    for name, upper in reversed(list(zip(TIERS, bounds, strict=False))):
        tiers[followers < upper] = name  # the first bound above wins, as in `tier_of`
    frame["tier"] = tiers
    return frame.set_index("influencer_id", drop=False)


def resolve(conn: Connection, query: Query, influencers: pd.DataFrame) -> Scope:
    """Exact values for every filter, or a `QueryError` suggesting what the user meant."""
    shown: dict[str, list[str]] = {}
    ids: set[str] | None = None
    for key in INFLUENCER_KEYS:
        if key not in query.filters:
            continue
        matched = _match_influencer_attribute(key, query.filters[key], influencers)
        values = set(
            influencers.loc[list(matched), key if key != "influencer" else "influencer_id"]
        )
        shown[key] = sorted(v.capitalize() for v in values) if key == "tier" else sorted(values)
        ids = matched if ids is None else ids & matched
    product_values: dict[str, frozenset[str]] = {}
    for key in PRODUCT_KEYS:
        if key in query.filters:
            spellings = canonical(conn, key)
            stored = sorted(spellings)
            matched_values: set[str] = set()
            for wanted in query.filters[key]:
                hits = {v for v in stored if normalise(v) == normalise(wanted)}
                if not hits:
                    raise QueryError(_no_such(key, wanted, stored))
                matched_values |= hits
            product_values[key] = frozenset(matched_values)
            shown[key] = sorted({spellings[v] for v in matched_values})
    window, explicit, through = _window(conn, query)
    control = _control(conn, query.control) if query.control else None
    if control is not None and control.values & product_values.get(control.column, frozenset()):
        raise QueryError(
            f"{control.name} is the control: it cannot also be what is measured "
            f"(drop control= or {control.column}={control.name})"
        )
    return Scope(
        window=window,
        explicit_window=explicit,
        data_through=through,
        requested=query.window,
        influencer_ids=frozenset(ids) if ids is not None else None,
        brands=product_values.get("brand"),
        products=product_values.get("product"),
        campaigns=product_values.get("campaign"),
        shown_filters=shown,
        control=control,
    )


def _control(conn: Connection, wanted: str) -> Control:
    """The brand, else the product, that `control=` names."""
    stored: list[str] = []
    for column in ("brand", "product"):
        spellings = canonical(conn, column)
        hits = {v for v in spellings if normalise(v) == normalise(wanted)}
        if hits:
            return Control(column, frozenset(hits), spellings[next(iter(hits))])
        stored += sorted(set(spellings.values()))
    raise QueryError(_no_such("brand or product", wanted, stored))


def find_influencer(subject: str, influencers: pd.DataFrame) -> str:
    """An influencer id from an id or a name, as typed."""
    matched = _match_influencer_attribute("influencer", (subject,), influencers)
    if len(matched) > 1:
        names = ", ".join(f"{i} ({influencers.at[i, 'name']})" for i in sorted(matched))
        raise QueryError(f"'{subject}' matches several influencers: {names}")
    return next(iter(matched))


def _match_influencer_attribute(
    key: str, wanted: tuple[str, ...], influencers: pd.DataFrame
) -> set[str]:
    ids: set[str] = set()
    for value in wanted:
        target = normalise(value)
        if key == "influencer":
            hits = influencers.index[
                (influencers["influencer_id"].map(normalise) == target)
                | (influencers["name"].map(normalise) == target)
            ]
            stored = list(influencers["influencer_id"]) + list(influencers["name"])
        else:
            column = influencers[key]
            hits = influencers.index[column.map(normalise) == target]
            stored = sorted(set(column))
        if len(hits) == 0:
            if key == "tier":
                raise QueryError(f"no influencer in the {value} tier")
            raise QueryError(_no_such(key, value, stored))
        ids |= set(hits)
    return ids


def _no_such(key: str, wanted: str, stored: list[str]) -> str:
    by_norm = {normalise(s): s for s in stored}
    close = difflib.get_close_matches(normalise(wanted), list(by_norm), n=3, cutoff=0.6)
    if close:
        return f"no {key} '{wanted}' — did you mean {' or '.join(by_norm[c] for c in close)}?"
    sample = ", ".join(stored[:8]) + (", ..." if len(stored) > 8 else "")
    return f"no {key} '{wanted}'\nKnown: {sample or 'none yet (load some data)'}"


def _window(conn: Connection, query: Query) -> tuple[Window, bool, dt.date | None]:
    """The window the answer covers: the user's, else the first to the last date of data; in
    either case clipped to the last date of data (`data_through`, also returned). A window
    wholly after the data keeps its dates, and the answer says there is nothing yet."""
    w = query.window
    explicit = w.start is not None or w.end is not None
    d = models.daily_sales  # every date of tracking, in a few rows per day
    first, last = (
        _as_date(v) for v in conn.execute(select(func.min(d.c.date), func.max(d.c.date))).one()
    )
    start = w.start or first
    end = w.end or last
    if start is not None and last is not None and start > last and w.end is not None:
        return w, explicit, last  # wholly after the data: the dates asked for, nothing in them
    if end is not None and last is not None and end > last:
        end = last
    if start is not None and end is not None and start > end:
        start, end = (start, start) if w.start else (end, end)
    return Window(start, end), explicit, last


def data_through(conn: Connection) -> dt.date | None:
    """The store's last date with tracking rows (None: no data)."""
    d = models.daily_sales
    return _as_date(conn.execute(select(func.max(d.c.date))).scalar_one())


def dates_with_data(conn: Connection, start: dt.date, end: dt.date) -> set[dt.date]:
    """The dates from `start` to `end` that have tracking rows (the others are not days of no
    sales: they are days the data does not cover)."""
    d = models.daily_sales
    statement = select(d.c.date).where(d.c.date >= start, d.c.date <= end).distinct()
    return {day for day in map(_as_date, conn.execute(statement).scalars()) if day is not None}


def canonical(conn: Connection, key: str) -> dict[str, str]:
    """Every stored spelling of a brand, product or campaign -> the one spelling shown for it
    everywhere: the tracking data's (payouts may write "gritzo" for "Gritzo"), else the first.
    From daily_sales, which holds every brand, product and campaign of tracking in ~10 k rows a
    year, and payouts."""
    d, p = models.daily_sales, models.payouts
    tracked = {v for v in conn.execute(select(d.c[key]).distinct()).scalars() if v is not None}
    paid: set[str] = set()
    if key != "product":  # payouts name a brand and a campaign, never a product
        paid = {v for v in conn.execute(select(p.c[key]).distinct()).scalars() if v is not None}
    spelling: dict[str, str] = {}
    for value in sorted(tracked | paid, key=lambda v: (v not in tracked, v)):
        spelling.setdefault(normalise(value), value)
    return {value: spelling[normalise(value)] for value in tracked | paid}


def _as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
