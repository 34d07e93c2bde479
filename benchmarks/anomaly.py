"""Do anomaly alerts fire when they should, and only then? False alarms, caught drops, and
one fire and one resolve per drop, on generated data.

Each dataset is the sample-data generator's (`sample_data.generator.simulate`, 60 creators,
238 days ending on a Sunday): attributed orders and revenue per day for each brand and each
platform, the series `/alert add orders unusual each=brand` watches. The last 26 weeks are
evaluated day by day with the functions the alerts run (`insights.anomaly.expect`, India's
public holidays left out, and the state machine `insights.alerts.transition`, evaluated once a
day, reminders every 24 hours):

- false alarms: with nothing injected, fires per entity-week (goal at sensitivity 3: <= 1%),
  and the share of days outside the band;
- caught drops: one day's value cut by 30% or 50% on random days (8 per entity, at least two
  weeks apart): the share of them outside the band, direction=down (goal >= 90% at 50%);
- once: of the drops caught, the share whose own events are exactly one fire on the day and
  one resolve after it, before the next drop.

The engine computes the same expectations from the store: `--check` loads one dataset into
SQLite and compares `insights.alerts.unusual_day` with the series here on a few days.

    .venv/bin/python -m benchmarks.anomaly                  # 40 datasets, ~1 min
    .venv/bin/python -m benchmarks.anomaly --datasets 4 --check
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from insights.alerts import Rule, State, transition
from insights.anomaly import Expected, expect, public_holidays, reference_days
from sample_data.generator import simulate

END = dt.date(2026, 11, 29)  # a Sunday
DAYS, WEEKS = 238, 26
SENSITIVITIES = (3.0, 4.0, 5.0, 6.0, 8.0)
DROPS = (0.3, 0.5)
PER_ENTITY = 8
REPEAT = dt.timedelta(hours=24)


@dataclass
class Tally:
    days: int = 0
    outside: int = 0
    fires: int = 0
    weeks: float = 0.0
    drops: int = 0
    caught: int = 0
    once: int = 0


def series(seed: int) -> dict[tuple[str, str], dict[str, pd.Series]]:
    """(breakdown, entity) -> {metric: daily values}, every day of the data (0 when none)."""
    frames = simulate(influencers=60, days=DAYS, end_date=END, seed=seed).frames
    sales = frames["tracking_data"]
    sales = sales[sales["source"] == "influencer"].merge(
        frames["influencers"][["influencer_id", "platform"]], on="influencer_id"
    )
    sales["date"] = pd.to_datetime(sales["date"]).dt.date
    every_day = [END - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    out = {}
    # Organic sales per brand: no catalogue metric (alerts watch attributed figures), but the
    # smooth series (weekday pattern, 15% log-normal noise) the method itself is made for.
    other = frames["tracking_data"][lambda t: t["source"] != "influencer"].copy()
    other["date"] = pd.to_datetime(other["date"]).dt.date
    organic = other.groupby(["brand", "date"])["revenue"].sum()
    for brand in sorted(other["brand"].unique()):
        part = organic.loc[brand].reindex(every_day, fill_value=0).astype(float)
        out[("organic", brand)] = {"organic": part}
    for by in ("brand", "platform"):
        grouped = sales.groupby([by, "date"])[["orders", "revenue"]].sum()
        for entity in sorted(sales[by].unique()):
            part = grouped.loc[entity].reindex(every_day, fill_value=0)
            out[(by, entity)] = {m: part[m].astype(float) for m in ("orders", "revenue")}
    return out


def expectations(values: pd.Series, sensitivity: float, holidays) -> dict[dt.date, Expected]:
    days = list(values.index)
    covered = set(days)
    lookup = values.to_dict()
    return {
        day: found
        for day in days[-WEEKS * 7 :]
        if (
            found := expect(
                day, lookup, sensitivity=sensitivity, holidays_of=holidays, covered=covered
            )
        )
        is not None
    }


def run(values: pd.Series, expected: dict[dt.date, Expected], rule: Rule) -> list[tuple]:
    """The state machine once a day at 09:00 after each evaluated day: (day, event)."""
    state, events = State(), []
    for day, e in expected.items():
        now = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)
        step = transition(rule, state, float(values[day]), muted=False, now=now, repeat=REPEAT,
                          expected=e)  # fmt: skip
        if step.event is not None:
            events.append((day, step.event))
        notified = now if step.event in ("fired", "reminded") else state.notified_at
        state = State(step.state, step.streak, notified, "ts" if step.state == "FIRING" else None)
    return events


def dropped(values: pd.Series, rng: np.random.Generator, size: float) -> tuple[pd.Series, list]:
    """`values` with PER_ENTITY days cut by `size`, at least 14 days apart."""
    evaluated = list(values.index[-WEEKS * 7 :])
    slots = rng.permutation(len(evaluated) // 14)[:PER_ENTITY]
    days = sorted(evaluated[s * 14 + int(rng.integers(0, 14))] for s in slots)
    cut = values.copy()
    for d in days:
        cut[d] = values[d] * (1 - size)
    return cut, days


def measure(datasets: int) -> dict:
    no_drop: dict[tuple[str, float, str], Tally] = defaultdict(Tally)
    drops: dict[tuple[str, float, float], Tally] = defaultdict(Tally)
    holidays = public_holidays("IN", [END - dt.timedelta(days=DAYS), END])
    rng = np.random.default_rng(20261203)
    for seed in range(datasets):
        for (_by, _entity), metrics in series(seed).items():
            for name, values in metrics.items():
                for s in SENSITIVITIES:
                    expected = expectations(values, s, holidays)
                    for direction in ("both", "down"):
                        rule = Rule(name, "unusual", s, 1, direction=direction)
                        t = no_drop[(name, s, direction)]
                        t.days += len(expected)
                        t.weeks += len(expected) / 7
                        t.outside += sum(
                            not e.low <= values[d] <= e.high
                            if direction == "both"
                            else values[d] < e.low
                            for d, e in expected.items()
                        )
                        t.fires += sum(1 for _, ev in run(values, expected, rule) if ev == "fired")
                    for size in DROPS:
                        _drops(drops[(name, s, size)], values, size, s, holidays, rng, name)
    return {"no_drop": no_drop, "drops": drops}


def _drops(t: Tally, values, size, s, holidays, rng, name) -> None:
    cut, days = dropped(values, rng, size)
    expected = expectations(cut, s, holidays)
    events = run(cut, expected, Rule(name, "unusual", s, 1, direction="down"))
    for i, d in enumerate(days):
        if d not in expected:
            continue
        t.drops += 1
        caught = cut[d] < expected[d].low
        t.caught += caught
        until = days[i + 1] if i + 1 < len(days) else dt.date.max
        own = [ev for day, ev in events if d <= day < until]
        t.once += (
            caught
            and own[:1] == ["fired"]
            and own.count("fired") == 1
            and (own.count("resolved") == 1)
        )


def check(seed: int = 0) -> None:
    """The store's expectations (`unusual_day`) equal the series' on a few evaluated days."""
    from insights.alerts import unusual_day
    from insights.engine import Thresholds
    from sample_data.generator import generate
    from storage.db import open_store
    from storage.ingest import Upload, ingest_files

    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), influencers=60, days=DAYS, end_date=END, seed=seed)
        db = open_store(f"sqlite:///{tmp}/check.db")
        assert ingest_files(db, [Upload.from_path(p) for p in paths.values()]).ok
        holidays = public_holidays("IN", [END - dt.timedelta(days=DAYS), END])
        data = series(seed)
        for day in (END, END - dt.timedelta(days=40)):
            rule = Rule("orders", "unusual", 3.0, 1, each="brand", direction="both")
            stored = unusual_day(db, rule, day, Thresholds())
            for brand, reading in stored.items():
                values = data[("brand", brand)]["orders"]
                here = expect(day, values.to_dict(), sensitivity=3, holidays_of=holidays,
                              covered=set(values.index))  # fmt: skip
                assert reading.value == values[day], (brand, day)
                assert here is not None and reading.expected is not None
                assert (reading.expected.value, reading.expected.band) == (here.value, here.band)
                assert [r.day for r in reading.expected.reference] == reference_days(day)
        db.dispose()
    print("check: the store's expectations equal the series' (6 of them)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=40)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        check()
    result = measure(args.datasets)
    print(f"{args.datasets} datasets x 6 entities (3 brands, 3 platforms; organic: 3 brands), "
          f"{WEEKS} weeks each")  # fmt: skip
    print("\nNo injected anomaly: fires per entity-week (days outside the band)")
    print(f"{'series':<8} {'direction':<9}" + "".join(f"{f's={s:g}':>18}" for s in SENSITIVITIES))
    for name in ("orders", "revenue", "organic"):
        for direction in ("both", "down"):
            cells = []
            for s in SENSITIVITIES:
                t = result["no_drop"][(name, s, direction)]
                cells.append(f"{t.fires / t.weeks:>7.1%} ({t.outside / t.days:5.1%})")
            print(f"{name:<8} {direction:<9}" + "".join(f"{c:>18}" for c in cells))
    print("\nInjected drops, direction=down: caught (fired once and resolved once, of caught)")
    print(f"{'series':<8} {'drop':<9}" + "".join(f"{f's={s:g}':>18}" for s in SENSITIVITIES))
    for name in ("orders", "revenue", "organic"):
        for size in DROPS:
            cells = []
            for s in SENSITIVITIES:
                t = result["drops"][(name, s, size)]
                cells.append(f"{t.caught / t.drops:>7.1%} ({t.once / max(t.caught, 1):5.1%})")
            print(f"{name:<8} {f'{size:.0%}':<9}" + "".join(f"{c:>18}" for c in cells))
    drops = result["drops"][("orders", 3.0, 0.5)].drops
    print(f"\n{drops} drops per metric, size and sensitivity")


if __name__ == "__main__":
    main()
