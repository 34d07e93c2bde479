"""The words every renderer shares: windows, scopes, metric labels and values, changes, alert
conditions, upload outcomes, and an answer's table as cells.

The terminal text, the charts, the CSV export and Slack's Block Kit each turn `insights` result
objects into their own medium, and none of them imports another; what they must say alike
("01 Mar 2025 – 31 Mar 2025", "all data", "₹1,23,456", "▲ 12%", "rejected 3 rows: ... —
lines 2-4") is written once here, as plain text. Markup (Slack's `*bold*`, a terminal's
indentation) is each renderer's own business.
"""

from __future__ import annotations

import datetime as dt

from insights.alerts import Notice, Rule
from insights.anomaly import Expected
from insights.catalogue import BY_NAME, metric, table_columns
from insights.digest import RANKED, SENSITIVITY, WATCHED, Digest
from insights.formatting import count, money, percent, ratio
from insights.language import Understood
from insights.results import Answer, Contribution, Explained, Metrics, Row, WhatIf
from storage.ingest.results import FileResult

ALL_DATA = "all data"  # the scope of an answer without filters, everywhere
# The rule a digest's unusual days are read by, for the words of its expectation.
_UNUSUAL_RULES = {m: Rule(m, "unusual", SENSITIVITY, 1, direction="both") for m in WATCHED}
_RANGES_SHOWN = 20


# --- windows and scopes -----------------------------------------------------------------------


def window_label(start: dt.date | None, end: dt.date | None) -> str:
    """'01 Mar 2025 – 31 Mar 2025': how a window reads in headings and sentences."""
    if start is None or end is None:
        return "no data yet"
    return f"{start:%d %b %Y} – {end:%d %b %Y}"


def window_iso(start: dt.date | None, end: dt.date | None) -> str:
    """'2025-03-01 to 2025-03-31': the compact form of chart titles, which travel without the
    message around them and are read in every locale."""
    if start and end:
        return f"{start.isoformat()} to {end.isoformat()}"
    if start or end:
        return f"from {start.isoformat()}" if start else f"to {end.isoformat()}"
    return ""


def scope_label(filters: dict[str, list[str]] | dict[str, tuple[str, ...]]) -> str:
    """'brand: MuscleBlaze; platform: Instagram', or 'all data' without filters."""
    shown = [f"{key}: {', '.join(values)}" for key, values in filters.items() if values]
    return "; ".join(shown) or ALL_DATA


# --- metrics ----------------------------------------------------------------------------------


def value_text(name: str, value: float | None, currency: str = "INR", compact: bool = False) -> str:
    """A catalogue metric's value as people read it: ₹1,23,456, 3.82x, 2.6%, 1,234 or n/a."""
    spec = metric(name)
    if spec.unit == "money":
        return money(value, currency, compact=compact)
    if spec.unit == "ratio":
        return ratio(value)
    if spec.unit == "percent":
        return percent(value, spec.digits)
    return count(value)


def figure(result: Metrics, name: str, currency: str = "INR", interval: bool = True) -> str:
    """A metric of a result as people read it, with its 90% interval when it has one:
    'iROAS 2.04x (1.45–2.67)'."""
    shown = value_text(name, result.value(name), currency)
    ends = metric(name).interval
    if interval and ends is not None:
        low, high = (result.value(end) for end in ends)
        if low is not None and high is not None and result.value(name) is not None:
            shown += f" ({_end(name, low, currency)}–{_end(name, high, currency)})"
    return shown


def _end(name: str, value: float, currency: str) -> str:
    """An interval's end: a ratio without its 'x' ('2.04x (1.45–2.67)'), else as the value."""
    return f"{value:.2f}" if metric(name).unit == "ratio" else value_text(name, value, currency)


def data_through(day: dt.date | None) -> str:
    """'Data through 10 Mar 2025': the last day the store has tracking data for."""
    return f"Data through {day:%d %b %Y}" if day else "No data yet"


def delta(now: float | None, before: float | None) -> str:
    """'▲ 12%' / '▼ 3%' / '■ 0%', or '' when there is nothing to compare with."""
    if now is None or before is None or before == 0:
        return ""
    change = (now - before) / abs(before) * 100
    if abs(change) < 0.5:
        return "■ 0%"
    return f"{'▲' if change > 0 else '▼'} {abs(change):.0f}%"


def figures(
    result: Metrics, names: tuple[str, ...], previous: Metrics | None, currency: str
) -> list[tuple[str, str, str]]:
    """(label, value, change) of each named metric, the change against `previous`."""
    return [
        (
            metric(name).label,
            figure(result, name, currency),
            delta(result.value(name), previous.value(name)) if previous is not None else "",
        )
        for name in names
    ]


# --- an answer's table ------------------------------------------------------------------------


def table_cells(answer: Answer, currency: str = "INR", width: int = 28) -> list[list[str]]:
    """The header and one line of cells per row: the breakdown's name, then its columns."""
    columns = table_columns(answer.command, answer.by)
    header = [(answer.by or "").capitalize(), *(metric(c).heading for c in columns)]
    body = [
        [shorten(r.label, width), *(figure(r, c, currency, interval=False) for c in columns)]
        for r in answer.rows
    ]
    return [header, *body]


def aligned(cells: list[list[str]]) -> str:
    """Cells as a plain-text table: the first column left-aligned, figures right-aligned."""
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = []
    for line in cells:
        first = line[0].ljust(widths[0])
        rest = (cell.rjust(w) for cell, w in zip(line[1:], widths[1:], strict=True))
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines)


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def subject_line(answer: Answer) -> str:
    """'Kavya Nair · Instagram · Fitness · Female · 1,20,000 followers (macro)'."""
    s = answer.subject or {}
    return (
        f"{s['name']} · {s['platform']} · {s['category']} · {s['gender']} · "
        f"{s['followers']:,} followers ({s['tier']})"
    )


# --- why and what-if ---------------------------------------------------------------------------

SHOWN_DRIVERS = 5  # segments each way in a `why` answer
_PLURAL = {"category": "categories", "gender": "genders"}


def signed(name: str, value: float | None, currency: str = "INR") -> str:
    """A change in a metric's unit with its sign: '+0.31', '−₹42k', '+1.20 pts', '−1,234'."""
    if value is None:
        return "n/a"
    sign = "−" if value < 0 else "+"
    size = abs(value)
    if name not in BY_NAME:  # engagements and reach: sums of posts, not catalogue metrics
        return sign + count(round(size))
    spec = metric(name)
    if spec.unit == "money":
        return sign + money(size, currency, compact=True)
    if spec.unit == "ratio":
        return f"{sign}{size:.2f}"
    if spec.unit == "percent":  # a contribution is a fraction of the figure: one more digit
        return f"{sign}{size:.{max(spec.digits, 2)}f} pts"
    return sign + count(round(size))


def plural(by: str, n: int) -> str:
    """'influencer' / '3 influencers', 'category' / 'categories'."""
    return by if n == 1 else _PLURAL.get(by, by + "s")


def comparison_label(answer: Explained) -> str:
    return window_label(answer.comparison_from, answer.comparison_to)


def contribution_points(answer: Explained, c: Contribution, currency: str = "INR") -> str:
    """'−0.31 (−₹93k)': points, and for a ratio the same in its numerator's unit."""
    spec = metric(answer.metric)
    shown = signed(answer.metric, c.points, currency)
    if spec.is_ratio and c.beyond is not None and spec.numerator is not None:
        money_unit = spec.numerator in BY_NAME and metric(spec.numerator).unit == "money"
        unit = "" if money_unit else f" {spec.numerator}"
        shown += f" ({signed(spec.numerator, c.beyond, currency)}{unit})"
    return shown


def contribution_line(answer: Explained, c: Contribution, currency: str = "INR") -> str:
    """'Nikhil Pandey −0.31 (−₹93k): cost ₹1.2L → ₹2.4L, ROAS 1.10x → 0.50x'; new and gone
    segments say so, and when the change cannot be split the line leads with the sums."""
    spec = metric(answer.metric)
    status = "" if c.status == "continuing" else f" ({c.status})"
    parts = []
    if spec.is_ratio and spec.denominator is not None:
        parts.append(_moved(spec.denominator, c, currency))
        parts.append(_moved(spec.name, c, currency))
        if spec.numerator != "revenue" and spec.denominator != "revenue":
            parts.insert(0, _moved("revenue", c, currency))
    else:
        parts.append(_moved(spec.name, c, currency))
    lead = (
        contribution_points(answer, c, currency)
        if answer.split
        else _numerator_change(answer, c, currency)
    )
    return f"{c.label}{status} {lead}: {', '.join(parts)}"


def _numerator_change(answer: Explained, c: Contribution, currency: str) -> str:
    spec = metric(answer.metric)
    name = spec.numerator or spec.name
    label = metric(name).label.lower() if name in BY_NAME else name
    return f"{label} {signed(name, c.change(name), currency)}"


def _moved(name: str, c: Contribution, currency: str) -> str:
    """'cost ₹1.2L → ₹2.4L' (only the side the segment is present in when new or gone)."""
    if name in BY_NAME:  # a catalogue metric; reach and engagements are sums of posts only
        label = metric(name).label
        label = label if label.isupper() else label.lower()  # 'ROAS', 'CPA'; 'engagement'
        before = value_text(name, c.before.value(name), currency, compact=True)
        after = value_text(name, c.after.value(name), currency, compact=True)
    else:
        label, before, after = name, count(c.before.value(name)), count(c.after.value(name))
    if c.status == "new":
        return f"{label} {after}"
    if c.status == "gone":
        return f"{label} was {before}"
    return f"{label} {before} → {after}"


def why_sections(answer: Explained, currency: str = "INR") -> list[tuple[str, list[str]]]:
    """('Pushing up', lines) and ('Pushing down', lines): the top SHOWN_DRIVERS each way."""
    return [
        (title, [contribution_line(answer, c, currency) for c in shown])
        for title, up in (("Pushing up", True), ("Pushing down", False))
        if (shown := answer.ranked(up=up, count=SHOWN_DRIVERS))
    ]


def why_totals(answer: Explained) -> tuple[str, ...]:
    """The figures a `why` answer leads with: the metric, and revenue and cost."""
    return tuple(dict.fromkeys((answer.metric, "revenue", "cost")))


def why_summary(answer: Explained, currency: str = "INR") -> str:
    """One line: 'ROAS fell 0.42 (4.10x → 3.68x): Nikhil Pandey −0.31, 3 new influencers
    −0.08'. The two largest segments in the change's direction, and the new (or gone)
    segments together when more than one of them pushed that way."""
    spec = metric(answer.metric)
    before = value_text(answer.metric, answer.comparison.value(answer.metric), currency)
    after = value_text(answer.metric, answer.totals.value(answer.metric), currency)
    change = answer.change
    if change is None:
        return (
            f"{spec.label} {before} → {after}: it is n/a in a window without "
            f"{spec.denominator}, so the change cannot be split"
        )
    size = signed(answer.metric, abs(change), currency).lstrip("+")
    if size.strip("0.₹$€£ pts,") == "":  # nothing a reader would see at this precision
        ups, downs = answer.ranked(up=True, count=1), answer.ranked(up=False, count=1)
        parts = [f"{c.label} {signed(answer.metric, c.points, currency)}" for c in ups + downs]
        head = f"{spec.label} held ({before} → {after})"
        return f"{head}, its segments' moves cancelling out: {', '.join(parts)}" if parts else head
    head = f"{spec.label} {'rose' if change > 0 else 'fell'} {size} ({before} → {after})"
    drivers = answer.ranked(up=change > 0, count=len(answer.contributions))
    named = [c for c in drivers if c.status == "continuing"][:2]
    parts = [f"{c.label} {signed(answer.metric, c.points, currency)}" for c in named]
    for status in ("new", "gone"):
        group = [c for c in drivers if c.status == status]
        if len(group) == 1:
            points = signed(answer.metric, group[0].points, currency)
            parts.append(f"{group[0].label} ({status}) {points}")
        elif group:
            total = sum(c.points or 0.0 for c in group)
            who = plural(answer.by or "segment", len(group))
            parts.append(f"{len(group)} {status} {who} {signed(answer.metric, total, currency)}")
    return f"{head}: {', '.join(parts)}" if parts else head


def whatif_lines(answer: WhatIf, currency: str = "INR") -> list[str]:
    """The move, each side's iROAS with its interval, and the expected changes."""
    moved = money(answer.move, currency, compact=True)
    sides = [
        f"{by} {row.label}: iROAS {figure(row, 'incremental_roas', currency)} on "
        f"{money(row.cost, currency, compact=True)} spend"
        for by, row in zip(answer.segments, (answer.source, answer.destination), strict=True)
    ]
    lines = [
        f"Move {moved} from {answer.source.label} to {answer.destination.label}",
        f"From {sides[0]}",
        f"To {sides[1]}",
    ]
    if answer.revenue_change is None:
        lines.append("Expected change: n/a (an iROAS is n/a)")
        return lines
    revenue = signed("revenue", answer.revenue_change, currency)
    roas = signed("roas", answer.roas_change(answer.revenue_change), currency)
    low, high = answer.revenue_change_low, answer.revenue_change_high
    if low is not None and high is not None:
        revenue += f" ({signed('revenue', low, currency)} to {signed('revenue', high, currency)})"
        roas += (
            f" ({signed('roas', answer.roas_change(low))} to "
            f"{signed('roas', answer.roas_change(high))})"
        )
    lines.append(f"Expected revenue {revenue} · ROAS {roas}")
    return lines


# --- the digest -------------------------------------------------------------------------------


def digest_heading(digest: Digest) -> str:
    return f"Weekly digest {digest.week} · {digest.start:%d %b} – {digest.end:%d %b %Y}"


def digest_empty(digest: Digest) -> str:
    return (
        f"No data for {digest.week} ({scope_label(digest.filters)}): nothing was tracked or "
        "paid that week."
    )


def _ranked(rows: list[Row], currency: str) -> str:
    return ", ".join(
        f"{r.label} {ratio(r.roas)} ({money(r.cost, currency, compact=True)} spend)" for r in rows
    )


def digest_sections(digest: Digest, currency: str = "INR") -> list[tuple[str, str]]:
    """(title, text) of each part of the week's story, in order; empty parts are left out."""
    sections = []
    if digest.top:
        sections.append(("Top influencers", _ranked(digest.top, currency)))
    if digest.bottom:
        sections.append(("Bottom influencers", _ranked(digest.bottom, currency)))
    if digest.top_persona:
        r = digest.top_persona
        sections.append(("Top persona", f"{r.label} {ratio(r.roas)} ({r.influencers} influencers)"))
    if digest.new_underperformers:
        text = ", ".join(f"{r.label} {ratio(r.roas)}" for r in digest.new_underperformers)
        sections.append(("New underperformers", text))
    return sections


def digest_changes(digest: Digest, currency: str = "INR") -> list[str]:
    """'What changed': the week's ROAS change split by influencer (the top RANKED each way,
    a line each), its unusual days, and the concentration note."""
    lines = []
    changes = digest.changes
    if changes is not None and changes.comparison_from is not None:
        lines.append(why_summary(changes, currency))
        lines += [
            f"{'▲' if up else '▼'} {contribution_line(changes, c, currency)}"
            for up in (True, False)
            for c in changes.ranked(up=up, count=RANKED)
        ]
    lines += [
        f"Unusual {u.expected.day:%a %d %b}: {metric(u.metric).label} "
        f"{value_text(u.metric, u.value, currency)}, "
        f"{expectation(_UNUSUAL_RULES[u.metric], u.value, u.expected, currency)}"
        for u in digest.unusual
    ]
    if digest.concentration:
        lines.append(f"Concentration: {digest.concentration}")
    return lines


def digest_summary(digest: Digest, currency: str = "INR") -> str:
    """One line for notifications and the message's fallback text."""
    if not digest.has_data:
        return digest_empty(digest)
    t, p = digest.totals, digest.previous
    return (
        f"Weekly digest {digest.week}: revenue {money(t.revenue, currency)}"
        f"{_bracketed(delta(t.revenue, p.revenue))}, cost {money(t.cost, currency)}, "
        f"ROAS {ratio(t.roas)}{_bracketed(delta(t.roas, p.roas))} ({scope_label(digest.filters)})"
    )


def _bracketed(change: str) -> str:
    return f" ({change})" if change else ""


def digest_context(digest: Digest) -> str:
    """The digest's last line: its scope, what changes compare with, how fresh the data is."""
    scope, through = scope_label(digest.filters), data_through(digest.data_through)
    return f"{scope} · changes are against the week before · {through}"


# --- alerts -----------------------------------------------------------------------------------


def rule_value(rule: Rule, value: float | None, currency: str = "INR") -> str:
    """A rule's watched value: '-57%' for a drop or rise, else the metric's own format."""
    if value is None:
        return "n/a"
    if rule.op in ("drop", "rise"):
        return f"{value:+.0f}%"
    return value_text(rule.metric, value, currency)


def alert_value(notice: Notice, currency: str = "INR") -> str:
    return rule_value(notice.rule, notice.value, currency)


def alert_subject(notice: Notice) -> str:
    """'roas for influencer C' / 'roas for brand: MuscleBlaze' / 'roas for all data'."""
    who = f"{notice.rule.each} {notice.entity}" if notice.entity else scope_label(notice.filters)
    return f"{notice.rule.metric.replace('_', ' ')} for {who}"


def expectation(rule: Rule, value: float | None, expected: Expected | None,
                currency: str = "INR") -> str:  # fmt: skip
    """'expected 80 (band 55–105) · −48%': an unusual rule's value against its expectation."""
    if expected is None:
        return "no expectation (too few reference days, or expected below min_value)"
    shown = (
        f"expected {value_text(rule.metric, expected.value, currency)} (band "
        f"{value_text(rule.metric, expected.low, currency)}–"
        f"{value_text(rule.metric, expected.high, currency)})"
    )
    deviation = expected.deviation(value) if value is not None else None
    if deviation is not None:
        shown += f" · {deviation:+.0f}%".replace("-", "−")
    return shown + (f" · {expected.holiday} (a public holiday)" if expected.holiday else "")


def alert_condition(notice: Notice) -> str:
    """'roas < 3 · window 10d (01 Mar – 10 Mar 2025)'; unusual: 'orders unusual (down) on Tue
    10 Mar 2025, against the same weekday of the 8 weeks before'."""
    rule, window = notice.rule, notice.window
    if rule.unusual:
        return (
            f"{rule.metric} unusual ({rule.direction}, sensitivity {rule.threshold:g}) on "
            f"{window.end:%a %d %b %Y}, against the same weekday of the 8 weeks before"
        )
    span = f"{window.start:%d %b} – {window.end:%d %b %Y}"
    if rule.op in ("drop", "rise"):
        condition = f"{rule.metric} {rule.op} > {rule.threshold:g}%"
    else:
        condition = f"{rule.metric} {rule.op} {rule.threshold:g}"
    return f"{condition} · window {rule.window_days}d ({span})"


def alert_text(notice: Notice, currency: str = "INR") -> str:
    """The message of each event, in one line."""
    subject, value = alert_subject(notice), alert_value(notice, currency)
    if notice.rule.unusual:
        value += f", {expectation(notice.rule, notice.value, notice.expected, currency)}"
    if notice.event == "fired":
        return f"{subject} is {value} — Condition: {alert_condition(notice)}"
    if notice.event == "reminded":
        return f"Still firing: {subject} is {value} ({alert_condition(notice).split(' · ')[0]})"
    return f"Resolved: {subject} is back to {value}"


def alert_footer(notice: Notice) -> str:
    through = f" · {data_through(notice.data_through)}" if notice.data_through else ""
    return (
        f"Alert #{notice.rule_id} · it stays quiet until resolved (reminder after "
        f"{notice.repeat_hours}h){through}"
    )


# --- uploads ----------------------------------------------------------------------------------

UPLOAD_STATUS = {
    "loaded": "loaded",
    "partial": "loaded with rejections",
    "already_loaded": "skipped",
    "refused": "REFUSED",
    "failed": "FAILED",
}


def line_ranges(lines: list[int], limit: int = _RANGES_SHOWN) -> str:
    """[2, 3, 4, 9] -> 'lines 2-4, 9': the form a person can find in a spreadsheet."""
    ordered = sorted(set(lines))
    spans: list[str] = []
    start = prev = ordered[0]
    for n in [*ordered[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    shown = ", ".join(spans[:limit])
    more = f" and {len(spans) - limit} more ranges" if len(spans) > limit else ""
    word = "line" if len(ordered) == 1 else "lines"
    return f"{word} {shown}{more}"


def upload_details(
    result: FileResult, ranges: int = _RANGES_SHOWN, groups: int | None = None
) -> list[str]:
    """What happened to a file's rows, one line per reason (at most `groups` per sheet)."""
    lines = []
    for sheet in result.sheets:
        where = f"[sheet {sheet.sheet}] " if sheet.sheet else ""
        for group in sheet.rejects[:groups]:
            rows = len(group.lines)
            lines.append(
                f"{where}rejected {rows:,} row{'s' if rows != 1 else ''}: {group.reason} — "
                f"{line_ranges(group.lines, ranges)} (e.g. {', '.join(group.examples[:2])})"
            )
        if sheet.duplicates:
            lines.append(
                f"{where}{sheet.duplicates:,} rows repeat the key of a later row in this file; "
                f"the later one was kept ({line_ranges(sheet.duplicate_lines, ranges)})"
            )
        if sheet.blank_lines:
            lines.append(f"{where}{sheet.blank_lines:,} blank lines skipped")
        lines.extend(f"{where}note: {note}" for note in sheet.notes)
    return lines


def roas_change(before: float | None, after: float | None, days: int) -> str:
    """What a load changed: 'ROAS last 30 days, all data: 3.80x → 4.10x'."""
    return f"ROAS last {days} days, {ALL_DATA}: {ratio(before)} → {ratio(after)}"


def changes_notes(vs: str | None, previous: Metrics | None) -> list[str]:
    """What an answer's changes (▲ 12%) are measured against, as `vs=` set it; nothing when
    there are none (an open window), and why there are none when that window had no data."""
    if previous is None:
        return []
    if vs == "last_year":
        against = "the same dates a year earlier"
    elif vs and ".." in vs:
        start, _, end = vs.partition("..")
        against = window_label(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    else:
        against = "the previous period of the same length"
    if not (previous.revenue or previous.cost or previous.orders):
        return [f"No changes shown: the store has no sales or cost in {against}."]
    return [f"Changes are against {against}."]


def understood_line(understood: Understood, code: str = "") -> str:
    """How roasbot read a question in words, as the command that asks it (`code` marks it up:
    "`" in Slack)."""
    ignored = understood.ignored
    skipped = f" (not used: {', '.join(repr(w) for w in ignored)})" if ignored else ""
    return f"Understood as: {code}{understood.echo}{code}{skipped}"
