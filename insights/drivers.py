"""Why a figure changed: every segment's exact part of the change between two windows.

For a ratio M = N / D (ROAS = revenue / cost) between window 0 (the comparison) and window 1
(the current one), with segments i present in either window:

    contribution_i = (ΔN_i − M₀ · ΔD_i) / D₁

These add up to M₁ − M₀ exactly (docs/metrics.md has the two-line proof): nothing is left
over as "mix" or "interaction", so the message can say which segments moved the figure and by
how much, and a segment's points read as "revenue gained beyond what the extra spend would have
bought at last week's ROAS", per rupee of this week's spend. For a sum (revenue, orders, cost)
the contribution is the segment's own change. Undefined is undefined: when D₀ or D₁ is 0 the
ratio's change has no parts (None), while the sums' changes still split.

Pure: rows in, contributions out, so a property test checks the sums on random data and the
engine gives it the rows of its own breakdowns (which add up to their totals).
"""

from __future__ import annotations

from collections.abc import Sequence

from insights.catalogue import metric
from insights.results import Contribution, Metrics, Row

_PRESENT = ("revenue", "cost", "orders", "posts")  # a segment with none of these is absent


def present(row: Row | None) -> bool:
    """Whether a segment has any figure in a window (else it is new, or gone)."""
    return row is not None and any((row.value(name) or 0) > 0 for name in _PRESENT)


def decompose(
    name: str,
    before_rows: Sequence[Row],
    after_rows: Sequence[Row],
    before: Metrics,
    after: Metrics,
) -> list[Contribution]:
    """Each segment's contribution to the change of metric `name` from `before` (the
    comparison window's totals, whose breakdown is `before_rows`) to `after`, in the order
    of the current window's rows, then the segments gone since."""
    spec = metric(name)
    earlier = {r.key: r for r in before_rows if present(r)}
    later = {r.key: r for r in after_rows if present(r)}
    keys = list(dict.fromkeys([*later, *earlier]))
    ratio = _ratio(spec.numerator, spec.denominator, before, after) if spec.is_ratio else None
    out = []
    for key in keys:
        b, a = earlier.get(key), later.get(key)
        label = (a or b).label  # type: ignore[union-attr]
        status = "continuing" if a and b else ("new" if a else "gone")
        b, a = b or _absent(key, label), a or _absent(key, label)
        if not spec.is_ratio:
            points = float(a.value(name) or 0) - float(b.value(name) or 0)
            out.append(Contribution(key, label, status, b, a, points))  # type: ignore[arg-type]
            continue
        points = beyond = None
        if ratio is not None:
            earlier_ratio, current_denominator = ratio
            assert spec.numerator is not None and spec.denominator is not None
            dn = float(getattr(a, spec.numerator)) - float(getattr(b, spec.numerator))
            dd = float(getattr(a, spec.denominator)) - float(getattr(b, spec.denominator))
            beyond = dn - earlier_ratio * dd
            points = beyond / current_denominator * spec.scale
        out.append(Contribution(key, label, status, b, a, points, beyond))  # type: ignore[arg-type]
    return out


def _ratio(
    numerator: str | None, denominator: str | None, before: Metrics, after: Metrics
) -> tuple[float, float] | None:
    """(N₀ / D₀, D₁), or None when either window has no denominator."""
    assert numerator is not None and denominator is not None
    d0, d1 = float(getattr(before, denominator)), float(getattr(after, denominator))
    if d0 <= 0 or d1 <= 0:
        return None
    return float(getattr(before, numerator)) / d0, d1


def _absent(key: str, label: str) -> Row:
    return Row(key=key, label=label, posts=0)


def concentration(rows: Sequence[Row], share: float) -> tuple[Row, float] | None:
    """The one segment with more than `share` of the revenue of `rows`, and its share."""
    total = sum(r.revenue for r in rows)
    if total <= 0 or not rows:
        return None
    top = max(rows, key=lambda r: (r.revenue, r.key))
    part = top.revenue / total
    return (top, part) if part > share else None


def concentration_note(rows: Sequence[Row], by: str, share: float) -> str | None:
    """'62% of revenue from one influencer (Arjun Mehta)', when one segment brings more than
    `share` of it."""
    found = concentration(rows, share)
    if found is None:
        return None
    row, part = found
    return f"{part * 100:.0f}% of revenue from one {by} ({row.label})"
