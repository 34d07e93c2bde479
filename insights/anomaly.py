"""Unusual days: a day's figure against the same weekday of the 8 weeks before.

Sales have a weekly rhythm (weekends sell more), so a Tuesday is compared with Tuesdays:

- expected(t) = the median of the metric on t − 7, t − 14, ..., t − 56 days;
- band(t) = sensitivity × 1.4826 × MAD of those values (the median absolute deviation, scaled
  so that it estimates a standard deviation for normal noise);
- t is unusual when the value lies outside expected ± band in the rule's direction.

Medians, not means, so one odd week (a sale, a viral post) does not move the expectation.
Public holidays of the configured country (`holidays`) are left out of the reference weeks,
as are days the store holds no data for (a day without rows is not a day of zero sales); with
fewer than MIN_REFERENCE days left there is no expectation and nothing fires. An entity whose
expected value is below the rule's `min_value` never fires: small numbers swing by chance.

Pure over daily values, so `benchmarks/anomaly.py` runs on generated series the same
functions the alerts run on the store's (`insights.alerts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import holidays
import numpy as np

REFERENCE_WEEKS = 8
MAD_SCALE = 1.4826
MIN_REFERENCE = 4  # reference days needed for an expectation
DIRECTIONS = ("down", "up", "both")


@dataclass(frozen=True)
class Reference:
    """One reference day: its value, or why it is left out ("Diwali", "no data")."""

    day: dt.date
    value: float | None
    left_out: str | None = None


@dataclass(frozen=True)
class Expected:
    """What a day's value was expected to be, and how far from it is still usual."""

    day: dt.date
    value: float  # the median of the reference days kept
    band: float  # half-width: sensitivity x 1.4826 x MAD
    reference: tuple[Reference, ...]  # oldest first, left-out days included
    holiday: str | None = None  # the day itself is a public holiday (it is still evaluated)

    @property
    def low(self) -> float:
        return self.value - self.band

    @property
    def high(self) -> float:
        return self.value + self.band

    def deviation(self, value: float) -> float | None:
        """How far `value` is from the expectation, in % of it (None when it is 0)."""
        return None if self.value == 0 else (value - self.value) / abs(self.value) * 100


def reference_days(day: dt.date, weeks: int = REFERENCE_WEEKS) -> list[dt.date]:
    """The same weekday of the `weeks` weeks before `day`, oldest first."""
    return [day - dt.timedelta(weeks=n) for n in range(weeks, 0, -1)]


@lru_cache(maxsize=32)
def _country(country: str, years: tuple[int, ...]) -> Mapping[dt.date, str]:
    return dict(holidays.country_holidays(country, years=years)) if country else {}


def public_holidays(country: str, days: Iterable[dt.date]) -> Mapping[dt.date, str]:
    """The public holidays of `country` (ISO code; "" for none) in the years of `days`."""
    return _country(country, tuple(sorted({d.year for d in days})))


def expect(
    day: dt.date,
    values: Mapping[dt.date, float | None],
    *,
    sensitivity: float,
    holidays_of: Mapping[dt.date, str],
    covered: Iterable[dt.date],
) -> Expected | None:
    """The expectation for `day` from `values` of its reference days; `covered` are the days
    the store has data for (others are left out, as are holidays and undefined values)."""
    seen = set(covered)
    reference = []
    for d in reference_days(day):
        value = values.get(d)
        why = (
            holidays_of.get(d)
            or (None if d in seen else "no data")
            or (None if value is not None else "n/a")
        )
        reference.append(Reference(d, value, why))
    kept = np.array([r.value for r in reference if r.left_out is None], dtype=float)
    if len(kept) < MIN_REFERENCE:
        return None
    median = float(np.median(kept))
    mad = float(np.median(np.abs(kept - median)))
    return Expected(day, median, sensitivity * MAD_SCALE * mad, tuple(reference),
                    holidays_of.get(day))  # fmt: skip


def outside(value: float | None, expected: Expected | None, direction: str) -> bool:
    """Whether `value` is unusual in `direction` (down, up or both); never when undefined."""
    if value is None or expected is None:
        return False
    if direction == "down":
        return value < expected.low
    if direction == "up":
        return value > expected.high
    return value < expected.low or value > expected.high
