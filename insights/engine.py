"""Answering a query: totals, breakdowns, underperformers, personas, trends, profiles.

One per-influencer aggregate (three grouped queries: revenue, cost, posts) gives the totals and
every breakdown by an influencer attribute, because every attributed sale and every cost share
belongs to exactly one influencer. Breakdowns by brand/product/campaign or by week/month are
grouped in SQL by that key. Ratios are always computed from sums (`insights.results`).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

import pandas as pd
from sqlalchemy import Connection, Engine

from insights import drivers, incremental, metrics
from insights.catalogue import BREAKDOWN, COMMAND, QUERY_COMMANDS, TIME_BREAKDOWNS, metric
from insights.formatting import money
from insights.query import Query, QueryError, Segment, Window, comparison_window
from insights.results import Answer, Explained, Metrics, Row, Totals, WhatIf
from insights.scope import (
    DEFAULT_TIER_BOUNDS,
    Control,
    Scope,
    canonical,
    data_through,
    find_influencer,
    load_influencers,
    normalise,
    resolve,
)
from insights.single_flight import SingleFlight
from storage.summary import data_version

_SUMS = ["revenue", "orders", "cost", "posts", "engagements", "reach"]
_BRAND = "brand:"  # prefix of the per-brand attributed revenue columns of per-influencer sums
T = TypeVar("T")


@dataclass(frozen=True)
class Thresholds:
    """Defaults that come from settings; a query's own options win."""

    tier_bounds: tuple[int, ...] = DEFAULT_TIER_BOUNDS
    roas_target: float = 1.0
    underperformer_min_spend: float = 0.0
    persona_min_influencers: int = 2
    persona_min_spend: float = 0.0
    baseline: incremental.Baseline = field(default_factory=incremental.Baseline)
    concentration_share: float = 0.5  # `why` and digests say so when one segment has more
    reallocation_cap: float = 0.2  # of the source's spend, the most a recommended move takes
    holiday_country: str = "IN"  # whose public holidays anomaly alerts leave out ("": none)


class SharedSums:
    """A window's per-influencer sums and baseline, and the influencers' traits, shared by
    answers until the data changes.

    Commands that differ in breakdown, ranking or influencer filters (`by=tier`, `/personas`,
    `platform=Instagram`) all start from the same per-influencer sums of their window and brand/
    product/campaign filters, and the previous window's deltas from the same sums again: a
    burst of questions about last month computes them once. Keyed by the data version, so a
    load makes the next answer fresh.
    """

    def __init__(self, entries: int = 32) -> None:
        self._values: SingleFlight = SingleFlight(entries)

    @property
    def computed(self) -> int:
        return self._values.computed

    def get(self, conn: Connection, key: tuple, compute: Callable[[], T]) -> T:
        """The value of `key` (what it depends on besides the data) under the data version."""
        # The version is read before computing: values stored under a version are never older.
        return self._values.get((data_version(conn), *key), compute)


def _people(conn: Connection, thresholds: Thresholds, shared: SharedSums | None) -> pd.DataFrame:
    """The influencers with their tiers (thousands of rows; every answer needs them)."""
    bounds = thresholds.tier_bounds
    if shared is None:
        return load_influencers(conn, bounds)
    return shared.get(conn, ("people", bounds), lambda: load_influencers(conn, bounds))


def answer(
    db: Engine,
    query: Query,
    thresholds: Thresholds | None = None,
    shared: SharedSums | None = None,
) -> Answer:
    """The answer to one parsed query, or a `QueryError` for values the store does not hold."""
    thresholds = thresholds or Thresholds()
    with db.connect() as conn:
        people = _people(conn, thresholds, shared)
        if query.command == "influencer":
            subject = find_influencer(query.subject or "", people)
            filters = {**query.filters, "influencer": (subject,)}
            query = replace(query, filters=filters)
        scope = resolve(conn, query, people)
        ctx = _Context(conn, query, scope, people, thresholds, shared)
        if query.command not in QUERY_COMMANDS:
            raise QueryError(f"'{query.command}' is not a query command")
        # Each query command of the catalogue is the `_Context` method of its name.
        return getattr(ctx, query.command)()


def totals(
    db: Engine,
    query: Query,
    thresholds: Thresholds | None = None,
    shared: SharedSums | None = None,
) -> Totals:
    """Only the totals of `query`'s scope (for deltas against an earlier window)."""
    thresholds = thresholds or Thresholds()
    with db.connect() as conn:
        people = _people(conn, thresholds, shared)
        scope = resolve(conn, query, people)
        return _Context(conn, query, scope, people, thresholds, shared).totals()


def daily_totals(
    db: Engine, query: Query, days: list[dt.date], thresholds: Thresholds | None = None
) -> dict[dt.date, Totals]:
    """Revenue, orders and cost (and their ratios) of `query`'s scope on each of `days`: the
    sums `totals` adds up, read with a statement each, the scope resolved once (a digest's
    unusual days need 63 of them; a whole answer a day took ~0.15 s)."""
    thresholds = thresholds or Thresholds()
    out = {}
    with db.connect() as conn:
        people = _people(conn, thresholds, None)
        scope = resolve(conn, replace(query, window=Window(min(days), max(days))), people)
        for day in days:
            window = Window(day, day)
            one = replace(scope, window=window, requested=window, explicit_window=True)
            revenue = metrics.revenue(conn, one, None)
            cost = metrics.cost(conn, one, None)
            out[day] = Totals(
                revenue=float(revenue["revenue"].sum()),
                orders=int(revenue["orders"].sum()),
                cost=float(cost["cost"].sum()),
            )
    return out


def previous_totals(
    db: Engine,
    query: Query,
    thresholds: Thresholds | None = None,
    shared: SharedSums | None = None,
) -> Totals | None:
    """Totals over the window the query's changes are against (as answered: clipped to the
    data): of equal length right before it, or the one `vs=` names; None for an open window."""
    window = query.window
    if window.start is None or window.end is None:
        return None
    with db.connect() as conn:
        through = data_through(conn)
    end = min(window.end, through) if through is not None else window.end
    if end < window.start:
        return None  # nothing yet in the window, so nothing to compare with
    earlier_window = comparison_window(query.vs, Window(window.start, end))
    earlier = replace(query, window=earlier_window, period=None, vs=None)
    return totals(db, earlier, thresholds, shared)


class _Context:
    def __init__(
        self,
        conn: Connection,
        query: Query,
        scope: Scope,
        people: pd.DataFrame,
        th: Thresholds,
        shared: SharedSums | None,
    ) -> None:
        self.conn, self.query, self.scope, self.people, self.th = conn, query, scope, people, th
        self.shared = shared
        self._per_influencer: pd.DataFrame | None = None
        self._share: incremental.Share | None = None  # of the totals, for the notes
        self._lifts: incremental.Lifts | None = None
        # Rows whose interval is left until it is known that they are shown: row id -> its
        # attributed revenue by brand (`_by_trait(None, defer=True)`, then `_intervals`).
        self._deferred: dict[int, dict[str, float]] = {}

    # --- building blocks -------------------------------------------------------------------

    def _window_part(self, part: str, compute: Callable[[Scope], T]) -> T:
        """`compute` over the scope without influencer filters, shared when possible: the
        influencer filters are applied afterwards (per-influencer rows) or not at all (lift)."""
        scope = replace(self.scope, influencer_ids=None)
        if self.shared is None:
            return compute(scope)
        key = (part, scope.window, scope.explicit_window, scope.brands, scope.products,
               scope.campaigns)  # fmt: skip
        return self.shared.get(self.conn, key, lambda: compute(scope))

    def _sums(self, scope: Scope) -> pd.DataFrame:
        key = "influencer_id"
        frame = metrics.influencer_sums(self.conn, scope)
        if frame is None:  # brand/product/campaign filters: from the sales groups
            rev = metrics.revenue(self.conn, scope, key).drop(columns="influencers")
            cost = metrics.cost(self.conn, scope, key)
            posts = metrics.posts(self.conn, scope, key)
            frame = rev.merge(cost, on="key", how="outer").merge(posts, on="key", how="outer")
        frame = frame.rename(columns={"key": "influencer_id"}).set_index("influencer_id")
        frame = frame.reindex(columns=_SUMS).fillna(0)
        # Attributed revenue per brand, as columns: each row's incremental revenue is its share
        # of every brand's lift (insights.incremental).
        by_brand = metrics.revenue_by_brand(self.conn, scope, key)
        brands = by_brand.pivot_table(index="key", columns="brand", values="revenue",
                                      aggfunc="sum")  # fmt: skip
        brands.columns = [_BRAND + str(b) for b in brands.columns]
        return frame.join(brands, how="left").fillna(0)

    def per_influencer(self) -> pd.DataFrame:
        """Sums per influencer in scope, indexed by influencer_id, with the influencer's traits."""
        if self._per_influencer is None:
            if self.scope.after_data:  # nothing yet: every command answers with no figures
                frame = pd.DataFrame(columns=_SUMS, dtype=float)
            else:
                frame = self._window_part("sums", self._sums)
            if self.scope.influencer_ids is not None:
                frame = frame[frame.index.isin(self.scope.influencer_ids)]
            traits = self.people.drop(columns="influencer_id")
            self._per_influencer = frame.join(traits, how="left")
        return self._per_influencer

    def lifts(self) -> incremental.Lifts | None:
        """Every brand's lift over the window: brands, not scopes, have a baseline, and any
        scope or row takes shares of them (docs/metrics.md)."""
        window, baseline = self.scope.window, self.th.baseline
        if window.start is None or window.end is None or self.scope.after_data:
            return None
        start, end = window.start, window.end

        control = self.scope.control
        first = start - dt.timedelta(days=baseline.days)

        def compute() -> incremental.Lifts:
            daily = metrics.daily_by_brand(self.conn, first, end)
            if control is None:
                return incremental.estimate(daily, start, end, baseline)
            reference = metrics.daily_of(self.conn, control.column, control.values, first, end)
            self._refuse_active(control, float(reference.attributed[baseline.days :].sum()))
            if control.column == "brand":
                daily = {b: d for b, d in daily.items() if b not in control.values}
            return incremental.estimate_with_control(daily, reference, start, end, baseline)

        if self._lifts is None:  # once per answer, and shared between answers when possible
            key = ("lifts", start, end, baseline, control)
            shared = self.shared
            self._lifts = compute() if shared is None else shared.get(self.conn, key, compute)
        return self._lifts

    def _refuse_active(self, control: Control, attributed: float) -> None:
        """A control is what the brand would have done without influencers only if no
        influencer sold it in the window: refused otherwise, naming who did."""
        if attributed <= 0:
            return
        only = {"brands": None, "products": None, "campaigns": None}
        only[f"{control.column}s"] = control.values
        scope = replace(self.scope, influencer_ids=None, **only)
        sold = metrics.revenue(self.conn, scope, "influencer_id")
        sold = sold[sold["revenue"] > 0].sort_values("revenue", ascending=False)
        names = [str(self.people["name"].get(i, i)) for i in sold["key"]]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise QueryError(
            f"control={control.name} had influencer activity in the window ({shown} sold it): "
            "a control must be a brand or product no influencer touched in it"
        )

    def _covered_cost(self, key: str | None) -> dict[str | None, float]:
        """Cost by key of the brands with a baseline: what a partly covered iROAS divides by."""
        lifts = self.lifts()
        covered = set(lifts.covered) if lifts is not None else set()
        spellings = canonical(self.conn, "brand")
        brands = frozenset(v for v, c in spellings.items() if c in covered)
        if self.scope.brands is not None:
            brands &= self.scope.brands
        frame = metrics.cost(self.conn, replace(self.scope, brands=brands), key)
        if key is None:
            return {None: float(frame["cost"].sum())}
        return dict(zip(frame["key"], frame["cost"], strict=True))

    def _attach(
        self,
        results: list[Metrics],
        by_brand: list[dict[str, float]],
        covered_cost: list[Callable[[], float]],
        defer: bool = False,
    ) -> list[incremental.Share | None]:
        """Set each result's incremental revenue, its interval and the cost it is measured
        against (all the cost, or the covered brands' when some have no baseline), from its
        attributed revenue by brand; with `defer`, the interval only once `_intervals` is
        called for the results that are shown."""
        lifts = self.lifts()
        if lifts is None:
            return [None] * len(results)
        shares = lifts.shares(by_brand, intervals=not defer)
        if defer:
            self._deferred.update((id(r), b) for r, b in zip(results, by_brand, strict=True))
        for result, share, cost in zip(results, shares, covered_cost, strict=True):
            result.incremental_revenue = share.value
            result.incremental_revenue_low = share.low
            result.incremental_revenue_high = share.high
            if share.value is not None:
                result.incremental_cost = cost() if share.missing else result.cost
        return list(shares)

    def totals(self) -> Totals:
        frame = self.per_influencer()
        sums = frame[_SUMS].sum()
        active = frame[_has_figures(frame)]
        totals = Totals(
            revenue=float(sums["revenue"]),
            cost=float(sums["cost"]),
            orders=int(sums["orders"]),
            posts=int(sums["posts"]),
            influencers=len(active),
            engagements=float(sums["engagements"]),
            reach=float(sums["reach"]),
        )
        if self.scope.influencer_ids is None and self.scope.window.start is not None:
            totals.all_revenue = self._window_part(
                "all", lambda scope: metrics.all_revenue(self.conn, scope)
            )
        [self._share] = self._attach(
            [totals], [_brand_sums(frame.sum())], [lambda: self._covered_cost(None)[None]]
        )
        lifts = self.lifts()
        if self._share is not None and self._share.value is not None and lifts is not None:
            totals.baseline_revenue = sum(lifts.brands[b].expected for b in self._share.covered)
        return totals

    def notes(self, totals: Totals) -> list[str]:
        notes = []
        window = self.scope.window
        if window.start is None:
            notes.append("no data in the store yet: load some with `roasbot ingest`")
            return notes
        if self.scope.after_data:
            notes.append(
                f"no data yet: the store has data through {self.scope.data_through:%d %b %Y}"
            )
            return notes
        if self.scope.clipped:
            notes.append(
                f"answered to {self.scope.data_through:%d %b %Y}, the last day of data: the "
                f"window asked for runs to {self.scope.requested.end:%d %b %Y}"
            )
        notes += self._baseline_notes(totals)
        if totals.cost == 0:
            notes.append("no cost in scope: ROAS is n/a")
        return notes

    def _baseline_notes(self, totals: Totals) -> list[str]:
        """Why iROAS is n/a or covers only some brands, and whether it is told apart from 0."""
        lifts, share = self.lifts(), self._share
        if lifts is None or share is None:
            return []
        before = f"the {self.th.baseline.days} days before {lifts.start:%d %b %Y}"
        needed = self.th.baseline.min_days
        control = self.scope.control
        alongside = f" alongside {control.name}" if control is not None else ""
        reasons = [
            f"{b} has {lifts.brands[b].observed_days if b in lifts.brands else 0} days of sales"
            f"{alongside} in {before}, {needed} needed"
            for b in sorted(share.missing)
        ]
        notes = []
        if control is not None and share.covered:
            notes.append(
                f"baseline: {control.name}'s revenue in the window times each brand's weekday "
                f"ratio to it over {before}"
            )
        if share.value is None and reasons:
            notes.append("no baseline: " + "; ".join(reasons))
        elif share.missing:
            part = sum(share.missing.values()) / totals.revenue * 100 if totals.revenue else 0.0
            notes.append(
                f"iROAS covers {', '.join(share.covered)} only: {'; '.join(reasons)} "
                f"({part:.0f}% of attributed revenue)"
            )
        if share.low is not None and share.high is not None and share.low < share.high:
            spans = share.low <= 0 <= share.high
        else:  # no interval, or none to speak of: nothing attributed, so nothing added
            spans = False
        if spans:
            notes.append("iROAS is not distinguishable from no effect (its 90% interval spans 0)")
        return notes

    def base_answer(self, totals: Totals, title: str) -> Answer:
        return Answer(
            command=self.query.command,
            filters=self.scope.shown_filters,
            window_from=self.scope.window.start,
            window_to=self.scope.window.end,
            totals=totals,
            notes=self.notes(totals),
            title=title,
            data_through=self.scope.data_through,
        )

    # --- commands ------------------------------------------------------------------------------

    def roas(self) -> Answer:
        by = self.query.by[0]
        totals = self.totals()
        result = self.base_answer(totals, f"ROAS by {by}")
        result.by = by
        rows = self.breakdown(by, defer=True)
        result.rows, more = _top(rows, self.query.top, chronological=by in TIME_BREAKDOWNS)
        self._intervals(result.rows)
        if more:
            which = "the latest " if by in TIME_BREAKDOWNS else ""
            shown, total = (sum(r.key != "undated" for r in part) for part in (result.rows, rows))
            result.notes.append(f"showing {which}{shown} of {total} {by} rows")
        return result

    def breakdown(self, by: str, defer: bool = False) -> list[Row]:
        kind = BREAKDOWN[by].kind
        if kind == "influencer":
            return self._by_trait(by if by != "influencer" else None, defer=defer)
        return self._by_sql_key(by)

    def _by_trait(
        self, trait: str | None, attrs: tuple[str, ...] = (), defer: bool = False
    ) -> list[Row]:
        """Rows per influencer (`trait` None) or per value of a trait; `defer`: per-influencer
        rows without their intervals, for a caller that shows a few and calls `_intervals`."""
        frame = self.per_influencer()
        frame = frame[_has_figures(frame)]
        covered = _Lazy(lambda: self._covered_cost("influencer_id"))
        if trait is None:
            return self._influencer_rows(frame, covered, defer)
        labels = _persona_labels(frame, attrs) if trait == "persona" else frame[trait]
        summed = [*_SUMS, *(c for c in frame.columns if str(c).startswith(_BRAND))]
        rows = []
        for label, part in frame.groupby(labels, sort=False):
            ids = list(part.index)
            rows.append(
                self._row(str(label), _pretty(trait, str(label), attrs),
                          part[summed].sum(), len(ids),
                          lambda ids=ids: sum(covered().get(i, 0.0) for i in ids))
            )  # fmt: skip
        return rows

    def _influencer_rows(self, frame: pd.DataFrame, covered: _Lazy, defer: bool) -> list[Row]:
        """A row per influencer from the frame's columns as lists: per record (`to_dict`,
        a Series lookup per figure) it took ~0.28 s at 20,000 influencers."""
        brands = [c for c in frame.columns if str(c).startswith(_BRAND)]
        ids = frame.index.tolist()
        rows = [
            _figures_row(str(key), str(name), 1, *sums)
            for key, name, *sums in zip(
                ids, frame["name"].tolist(), *(frame[c].tolist() for c in _SUMS), strict=True
            )
        ]
        by_brand = [
            _brand_sums(dict(zip(brands, values, strict=True)))
            for values in zip(*(frame[c].tolist() for c in brands), strict=True)
        ]
        if not brands:
            by_brand = [{} for _ in rows]
        costs = [lambda i=i: covered().get(i, 0.0) for i in ids]
        self._attach(rows, by_brand, costs, defer=defer)
        return rows

    def _intervals(self, rows: list[Row]) -> None:
        """The intervals `_attach(defer=True)` left out, for these rows (the ones shown)."""
        lifts = self.lifts()
        pending = [r for r in rows if id(r) in self._deferred]
        if lifts is None or not pending:
            return
        shares = lifts.shares([self._deferred[id(r)] for r in pending])
        for row, share in zip(pending, shares, strict=True):
            row.incremental_revenue_low, row.incremental_revenue_high = share.low, share.high

    def _row(
        self, key: str, label: str, sums, influencers: int, covered: Callable[[], float]
    ) -> Row:
        row = _figures_row(key, label, influencers, *(sums[c] for c in _SUMS))
        self._attach([row], [_brand_sums(sums)], [covered])
        return row

    def _by_sql_key(self, by: str) -> list[Row]:
        if self.scope.after_data:
            return []
        rev = metrics.revenue(self.conn, self.scope, by)
        cost = metrics.cost(self.conn, self.scope, by)
        time = by in TIME_BREAKDOWNS
        frame = rev.merge(cost, on="key", how="outer")
        if time:
            frame = frame.merge(metrics.posts(self.conn, self.scope, by), on="key", how="outer")
        frame = frame.reindex(columns=["key", *_SUMS, "influencers"]).fillna(
            {c: 0 for c in [*_SUMS, "influencers"]}
        )
        by_brand: dict[str | None, dict[str, float]] = {}
        for k, brand, revenue in metrics.revenue_by_brand(self.conn, self.scope, by).itertuples(
            index=False
        ):
            shares = by_brand.setdefault(None if pd.isna(k) else k, {})
            shares[brand] = shares.get(brand, 0.0) + revenue
        spellings = canonical(self.conn, by) if BREAKDOWN[by].kind == "product" else {}
        if spellings:  # one row per brand, product or campaign, whatever a payout wrote
            frame["key"] = [spellings.get(k, k) if k is not None else None for k in frame["key"]]
            frame = frame.groupby("key", dropna=False, sort=False).sum().reset_index()
        covered = _Lazy(lambda: self._covered_cost(by))
        rows, brands, costs = [], [], []
        for _, r in frame.iterrows():
            raw = None if pd.isna(r["key"]) else r["key"]
            key = _time_key(by, raw) if time else raw
            if key is None:
                key = "undated" if time else "unattributed"
                label = "Undated cost" if key == "undated" else "Unattributed cost"
            else:
                label = str(key)
            row = Row(
                key=str(key), label=label, revenue=float(r["revenue"]), cost=float(r["cost"]),
                orders=int(r["orders"]), influencers=int(r["influencers"]),
            )  # fmt: skip
            if time:
                row.posts = int(r["posts"])
                row.engagements, row.reach = float(r["engagements"]), float(r["reach"])
            if time and _partial(by, raw, self.scope.window):
                row.label = f"{label} (partial)"
            cost_keys = [k for k, c in spellings.items() if c == raw] if spellings else [raw]
            rows.append(row)
            brands.append(by_brand.get(raw, {}))
            costs.append(lambda ks=cost_keys: sum(covered().get(k, 0.0) for k in ks))
        self._attach(rows, brands, costs)
        return rows

    def underperformers(self) -> Answer:
        threshold = _pick(self.query.threshold, self.th.roas_target)
        min_spend = _pick(self.query.min_spend, self.th.underperformer_min_spend)
        totals = self.totals()
        result = self.base_answer(totals, f"Underperformers (ROAS < {threshold:g})")
        result.by = "influencer"
        rows = [r for r in self._by_trait(None, defer=True) if r.cost > 0 and r.cost >= min_spend]
        rows = [r for r in rows if (r.roas or 0.0) < threshold]
        for r in rows:
            r.wasted_spend = r.cost - r.revenue
        rows.sort(key=lambda r: (r.roas or 0.0, -(r.wasted_spend or 0.0), r.key))
        result.rows = rows[: self.query.top]
        self._intervals(result.rows)
        if not self.scope.after_data:
            spend = f" and spend of at least {min_spend:,.0f}" if min_spend > 0 else ""
            result.notes.append(
                f"{len(rows)} influencer{'s' if len(rows) != 1 else ''} with ROAS below "
                f"{threshold:g}{spend}"
            )
        return result

    def personas(self) -> Answer:
        attrs = self.query.by
        min_inf = _pick(self.query.min_influencers, self.th.persona_min_influencers)
        min_spend = _pick(self.query.min_spend, self.th.persona_min_spend)
        totals = self.totals()
        result = self.base_answer(totals, f"Personas by {' x '.join(attrs)}")
        result.by = "persona"
        rows = self._by_trait("persona", attrs)
        eligible = [r for r in rows if (r.influencers or 0) >= min_inf and r.cost >= min_spend
                    and r.cost > 0]  # fmt: skip
        eligible.sort(key=lambda r: (-(r.roas or 0.0), -r.revenue, r.key))
        result.rows = eligible[: self.query.top]
        skipped = len(rows) - len(eligible)
        if skipped:
            spend = f" or spend under {min_spend:,.0f}" if min_spend > 0 else " or no spend"
            result.notes.append(
                f"{skipped} persona{'s' if skipped != 1 else ''} not ranked: fewer than "
                f"{min_inf} influencers{spend}"
            )
        return result

    def trend(self) -> Answer:
        totals = self.totals()
        result = self.base_answer(totals, "Weekly trend")
        result.by = "week"
        result.rows = sorted(self._by_sql_key("week"), key=lambda r: r.key)
        return result

    def influencer(self) -> Answer:
        [subject] = self.scope.influencer_ids or {None}
        if subject is None:
            raise QueryError("no such influencer")
        totals = self.totals()
        person = self.people.loc[subject]
        result = self.base_answer(totals, f"{person['name']} ({subject})")
        result.subject = {
            "influencer_id": subject, "name": person["name"], "platform": person["platform"],
            "category": person["category"], "gender": person["gender"],
            "followers": int(person["follower_count"]), "tier": person["tier"],
        }  # fmt: skip
        result.by = "week"
        result.rows = sorted(self._by_sql_key("week"), key=lambda r: r.key)
        return result

    def why(self) -> Answer:
        """The change of a metric against another window, split exactly by segment."""
        by, name = self.query.by[0], self.query.metric or "roas"
        spec = metric(name)
        if by in TIME_BREAKDOWNS:
            raise QueryError(
                f"why compares the segments two windows share, and they share no {by}: "
                "by= takes a breakdown such as influencer, brand or persona"
            )
        from_posts = {spec.name, spec.numerator, spec.denominator} & {"posts", "reach"}
        if from_posts and BREAKDOWN[by].kind == "product":
            raise QueryError(
                f"{spec.label} comes from posts, which have no {by}: break it down by "
                "influencer, platform, category, gender, tier or persona"
            )
        totals = self.totals()
        base = self.base_answer(totals, f"Why {spec.label} changed, by {by}")
        result = Explained(**{f.name: getattr(base, f.name) for f in fields(Answer)}, metric=name)
        result.by = by
        if self.scope.after_data or self.scope.window.start is None:
            return result  # its notes say there is no data
        other = self._other(comparison_window(self.query.vs, self.scope.window))
        result.comparison = other.totals()
        result.comparison_from = other.scope.window.start
        result.comparison_to = other.scope.window.end
        rows = self.breakdown(by)
        result.contributions = drivers.decompose(
            name, other.breakdown(by), rows, result.comparison, totals
        )
        if not result.split:
            result.notes.append(self._unsplit(result, other.scope))
        concentrated = drivers.concentration_note(rows, by, self.th.concentration_share)
        if concentrated:
            result.notes.append(concentrated)
        return result

    def _other(self, window: Window) -> _Context:
        """The same question over another window (why's comparison)."""
        query = replace(self.query, window=window, period=None)
        scope = resolve(self.conn, query, self.people)
        return _Context(self.conn, query, scope, self.people, self.th, self.shared)

    def _unsplit(self, result: Explained, other: Scope) -> str:
        """Why a ratio's change has no parts, in words (the sums' changes still have)."""
        spec = metric(result.metric)
        empty = [
            f"{w.start:%d %b %Y} – {w.end:%d %b %Y}"
            for w, t in ((other.window, result.comparison), (self.scope.window, result.totals))
            if w.start and w.end and not float(getattr(t, spec.denominator or "")) > 0
        ]
        return (
            f"{spec.label} is n/a in {' and '.join(empty)} (no {spec.denominator}), so its "
            f"change cannot be split: segments are ranked by their change of {spec.numerator}"
        )

    def whatif(self) -> Answer:
        """Revenue and ROAS had `move` of spend gone from one segment to another, at each
        side's incremental ROAS over the window (returns constant at the margin)."""
        q = self.query
        assert q.source is not None and q.destination is not None and q.move is not None
        totals = self.totals()
        base = self.base_answer(totals, "What if spend moved")
        source, destination = self._segment_row(q.source), self._segment_row(q.destination)
        result = WhatIf(**{f.name: getattr(base, f.name) for f in fields(Answer)}, move=q.move,
                        source=source, destination=destination,
                        segments=(q.source.by, q.destination.by))  # fmt: skip
        if q.move > source.cost:
            raise QueryError(
                f"{source.label} spent {money(source.cost)} in the window: move= can take at "
                "most that"
            )
        ends = [(r.incremental_roas, r.incremental_roas_low, r.incremental_roas_high)
                for r in (source, destination)]  # fmt: skip
        (s, s_low, s_high), (d, d_low, d_high) = ends
        if s is not None and d is not None:
            result.revenue_change = q.move * (d - s)
            if None not in (s_low, s_high, d_low, d_high):
                result.revenue_change_low = q.move * (d_low - s_high)  # type: ignore[operator]
                result.revenue_change_high = q.move * (d_high - s_low)  # type: ignore[operator]
        result.notes.append(
            "assumes returns stay constant at the margin: each rupee moved earns the "
            "destination's iROAS over the window and stops earning the source's; the interval "
            "pairs each side's 90% interval at its worst and at its best"
        )
        result.notes += [
            f"{r.label} has no iROAS in the window: the change cannot be estimated"
            for r in (source, destination)
            if r.incremental_roas is None
        ]
        share = q.move / source.cost
        if share > self.th.reallocation_cap:
            result.notes.append(
                f"moves {share * 100:.0f}% of {source.label}'s spend, more than the "
                f"{self.th.reallocation_cap * 100:.0f}% (REALLOCATION_CAP) recommendations go "
                "to: the further from today's spend, the less returns stay constant"
            )
        return result

    def _segment_row(self, segment: Segment) -> Row:
        """The row of `segment` in its breakdown over the window, matched as filters are."""
        rows = self.breakdown(segment.by)
        wanted = normalise(segment.value.replace("·", " "))
        for row in rows:
            if wanted in (normalise(row.key.replace("·", " ")), normalise(row.label)):
                return row
        names = [r.label for r in rows]
        by_norm = {normalise(n.replace("·", " ")): n for n in names}
        close = difflib.get_close_matches(wanted, list(by_norm), n=3, cutoff=0.6)
        hint = f" — did you mean {' or '.join(by_norm[c] for c in close)}?" if close else ""
        raise QueryError(f"no {segment.by} '{segment.value}' with figures in the window{hint}")


class _Lazy:
    """A value computed the first time it is needed (the covered brands' cost: only when some
    brand in scope has no baseline)."""

    def __init__(self, compute: Callable[[], dict]) -> None:
        self._compute, self._value = compute, None

    def __call__(self) -> dict:
        if self._value is None:
            self._value = self._compute()
        return self._value


def _figures_row(
    key: str,
    label: str,
    influencers: int,
    revenue: float,
    orders: int,
    cost: float,
    posts: int,
    engagements: float,
    reach: float,
) -> Row:
    """A breakdown row from its sums, in `_SUMS` order."""
    return Row(
        key=key,
        label=label,
        revenue=float(revenue),
        cost=float(cost),
        orders=int(orders),
        posts=int(posts),
        influencers=influencers,
        engagements=float(engagements),
        reach=float(reach),
    )


def _brand_sums(sums) -> dict[str, float]:
    """Attributed revenue by brand from a row of sums with `_BRAND` columns."""
    return {
        name[len(_BRAND) :]: float(value)
        for name, value in sums.items()
        if isinstance(name, str) and name.startswith(_BRAND) and value
    }


def _partial(by: str, raw, window: Window) -> bool:
    """Whether a week or month bucket starts before the window or ends after it."""
    if raw is None or window.start is None or window.end is None:
        return False
    first = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw)[:10])
    if by == "week":
        last = first + dt.timedelta(days=6)
    else:
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first < window.start or last > window.end


def _pick(value, default):
    return default if value is None else value


def _persona_labels(frame: pd.DataFrame, attrs: tuple[str, ...]) -> pd.Series:
    """'micro · Fitness': the persona's attributes in order (tier x category by default)."""
    parts = [frame[a].astype(str) for a in attrs or COMMAND["personas"].default_by]
    label = parts[0]
    for part in parts[1:]:
        label = label + " · " + part
    return label


def _pretty(trait: str, label: str, attrs: tuple[str, ...]) -> str:
    """Tiers read 'Macro' wherever they show, alone (by=tier) or in a persona."""
    if trait == "tier":
        return label.capitalize()
    if trait == "persona":
        parts = label.split(" · ")
        names = attrs or COMMAND["personas"].default_by
        return " · ".join(
            p.capitalize() if a == "tier" else p for p, a in zip(parts, names, strict=True)
        )
    return label


def _has_figures(frame: pd.DataFrame) -> pd.Series:
    """Influencers with any figure in scope: each gets a row, and each counts in the totals,
    so the rows add up to the totals (orders with zero revenue happen: free samples, 100%
    discounts; posts with no sales and no fee too)."""
    return (frame[["revenue", "orders", "cost", "posts"]] > 0).any(axis=1)


def _time_key(by: str, value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def _top(rows: list[Row], top: int, chronological: bool) -> tuple[list[Row], bool]:
    """The best `top` rows by ROAS; for periods the latest `top`, oldest first ("undated"
    cost, which sorts after every period, stays with them)."""
    if chronological:
        dated = sorted((r for r in rows if r.key != "undated"), key=lambda r: r.key)
        kept = dated[-top:] + [r for r in rows if r.key == "undated"]
        return kept, len(dated) > top
    else:
        ordered = sorted(
            rows, key=lambda r: (r.roas is None, -(r.roas or 0.0), -r.revenue, -r.cost, r.key)
        )
    return ordered[:top], len(ordered) > top


__all__ = [
    "SharedSums", "Thresholds", "Window", "answer", "daily_totals", "previous_totals", "totals",
]  # fmt: skip
