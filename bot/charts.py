"""One PNG chart per answer, sized for Slack's preview, labelled exactly like the text answer.

Drawn with matplotlib's object API (`Figure` + `FigureCanvasAgg`), never pyplot: pyplot keeps a
global list of open figures and a current figure, which threads answering several commands at
once would share, and it may pick an interactive backend on a desktop. A `Figure` here is local
to one call and freed with it, so there is nothing to close.

Every number on a chart comes from `insights.formatting`, so "₹12.3L" and "3.82x" read the same in
the picture as in the text beside it.

Speed (the budget is 150 ms a chart; see benchmarks/charts.py): margins are fixed in pixels
rather than computed by `tight_layout`, which draws the figure an extra time; bars are one
`PolyCollection` rather than a `Rectangle` artist each; row and period names are plain texts
rather than tick labels, because each matplotlib `Tick` is five artists and at 30 rows they cost
more than the rest of the chart; PNG is compressed at zlib level 1.

Rows that do not belong in a chart:
- "unattributed" (cost not attributable to a brand, product or campaign) has ROAS 0 by
  construction. It stays in ROAS charts, pinned to the bottom in grey with its spend as the
  label, because dropping it would hide spend the totals include; it gets no bar, since its
  0.00x says nothing about performance.
- "undated" (cost without a date) cannot sit on a time axis; it is left out and a footnote
  says how much spend that is.
- A ROAS of None (no spend) gets no bar and the label "n/a", never a zero bar.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import warnings

import fontpkg_noto_sans_devanagari
import fontpkg_noto_sans_tamil
import fontpkg_noto_sans_telugu
from matplotlib import font_manager, rcParams
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from bot.labels import SHOWN_DRIVERS, alert_subject, signed, value_text, window_iso
from insights.alerts import Notice
from insights.catalogue import TIME_BREAKDOWNS, metric
from insights.formatting import money, ratio
from insights.query import FILTER_KEYS
from insights.results import Answer, Explained, Row

# Matplotlib's DejaVu Sans has no Indic letters: a name in Devanagari drew as empty boxes and
# printed a "Glyph missing" warning per letter. Noto fonts for the scripts of Indian names are
# registered as fallbacks (matplotlib falls back glyph by glyph along font.family); a letter
# that no font has is left blank without a warning: a user never sees a library's warning.
# (Matplotlib places glyphs without shaping: conjuncts read letter by letter.)
FONTS = (fontpkg_noto_sans_devanagari, fontpkg_noto_sans_tamil, fontpkg_noto_sans_telugu)
for _package in FONTS:
    for _path in sorted((_package.ROOT / "files").glob("*.ttf")):
        font_manager.fontManager.addfont(str(_path))
rcParams["font.family"] = ["DejaVu Sans", *(package.FAMILY for package in FONTS)]
warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)

PALETTE = {
    "good": "#2a9d6f",  # ROAS at or above target
    "short": "#e9a53a",  # covers its cost, below target
    "loss": "#d1495b",  # below break-even
    "muted": "#868c94",  # unattributed
    "revenue": "#3a6ea5",
    "cost": "#f0a868",
    "roas": "#1f2a44",
    "ink": "#1f2328",
    "soft": "#5f6670",
    "grid": "#e6e8eb",
}

UNATTRIBUTED = "unattributed"
UNDATED = "undated"

DPI = 100
WIDTH_PX = 1200
HEIGHT_PX = 700
ROW_PX = 26  # the least height of one bar row, so 30 rows stay legible
MAX_BAR_PX = 46
MARGIN_PX = {"left": 260, "right": 40, "top": 120, "bottom": 70}
TIME_MARGIN_PX = {**MARGIN_PX, "left": 90, "right": 80}
LABEL_CHARS = 28  # fits the left margin at the tick font size, "(n=4)" included
TITLE_CHARS = 110
ROUND_STEPS = [1, 2, 2.5, 5, 10]  # tick spacings; no 1.5 steps, which give '4.5x' and '₹4.5Cr'
FONT = {"title": 15, "subtitle": 11, "tick": 10, "bar": 9.5, "note": 9}
_HALO = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}


def render_chart(answer: Answer, *, currency: str = "INR", target: float = 1.0) -> bytes | None:
    """PNG bytes of the one chart that suits the answer, or None when none does (e.g. no rows)."""
    if isinstance(answer, Explained):
        figure = _waterfall_chart(answer, currency)
    elif not answer.rows:
        return None
    elif answer.command == "underperformers":
        figure = _waste_chart(answer, currency)
    elif answer.by in TIME_BREAKDOWNS:
        figure = _time_chart(answer, currency, target)
    else:
        figure = _roas_chart(answer, currency, target)
    if figure is None:
        return None
    buffer = io.BytesIO()
    # zlib level 1 rather than the default 6: ~8 ms less a chart for ~13% more bytes.
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


# --- labels: pure, so the tests can check them without reading pixels ----------------------------


def chart_title(answer: Answer) -> str:
    """'ROAS by brand — MuscleBlaze, Instagram — 2026-10-22 to 2026-11-20': what, where, when.

    A chart is often forwarded without the command that made it, so the title must carry the
    filters and the window by itself.
    """
    heading = answer.title or (f"{answer.command} by {answer.by}" if answer.by else answer.command)
    if answer.command == "influencer":
        heading = f"{heading}, week by week"
    # The influencer command's subject is already the heading; repeating its id adds nothing.
    skip = "influencer" if answer.command == "influencer" else None
    shown = {k: v for k, v in answer.filters.items() if k != skip and v}
    order = {key: i for i, key in enumerate(FILTER_KEYS)}
    keys = sorted(shown, key=lambda k: (order.get(k, len(order)), k))
    filters = ", ".join(" / ".join(shown[k]) for k in keys)
    parts = [
        heading,
        _truncate(filters, TITLE_CHARS // 2),
        window_iso(answer.window_from, answer.window_to),
    ]
    return _truncate(" — ".join(p for p in parts if p), TITLE_CHARS)


def row_label(row: Row, by: str | None) -> str:
    """The y-axis name of a bar; personas carry their influencer count, because a persona of one
    influencer is an anecdote and the reader should see that next to its ROAS."""
    name = row.label or row.key
    if by == "persona" and row.influencers is not None:
        suffix = f" (n={row.influencers})"
        return _truncate(name, LABEL_CHARS - len(suffix)) + suffix
    return _truncate(name, LABEL_CHARS)


def bar_label(row: Row, currency: str = "INR") -> str:
    """'3.80x · ₹1.2L cost' beside a ROAS bar: the ratio, and the cost that gives it weight."""
    cost = money(row.cost, currency, compact=True)
    if row.key == UNATTRIBUTED:
        return f"{cost} cost, no attributable revenue"
    if row.roas is None:
        return f"n/a · {money(row.revenue, currency, compact=True)} revenue, no cost"
    return f"{ratio(row.roas)} · {cost} cost"


def roas_order(rows: list[Row]) -> list[Row]:
    """Best ROAS on top, rows without cost (n/a) under the ranked ones, unattributed last: the
    chart ranks performance, and neither of those has one to rank."""
    return sorted(
        rows, key=lambda r: (r.key == UNATTRIBUTED, r.roas is None, -(r.roas or 0.0), -r.revenue)
    )


def period_labels(keys: list[str], by: str | None, step: int = 1) -> list[str]:
    """'W34' and 'Aug', with the year under the first label and wherever it changes: the full
    '2026-W34' is too wide to fit 14 side by side. Only every `step`-th period is labelled."""
    labels, shown_year = [], None
    for i, key in enumerate(keys):
        if i % step:
            labels.append("")
            continue
        year, short = _split_period(key, by)
        labels.append(short if year in (None, shown_year) else f"{short}\n{year}")
        shown_year = year or shown_year
    return labels


def waste_label(row: Row, currency: str = "INR") -> str:
    """'₹3.7L · 0.38x' beside an underperformer's bar: the money at stake, then why."""
    return f"{money(_waste(row), currency, compact=True)} · {ratio(row.roas)}"


# --- the three charts -------------------------------------------------------------------------


def _roas_chart(answer: Answer, currency: str, target: float) -> Figure:
    rows = roas_order(answer.rows)
    figure, ax = _figure(answer, currency, rows=len(rows))
    drawn = [(i, r) for i, r in enumerate(rows) if r.roas is not None and r.key != UNATTRIBUTED]
    half = _bar_height(len(rows)) / 2
    _rectangles(
        ax,
        [(0.0, r.roas, i - half, i + half) for i, r in drawn],
        [_roas_colour(r.roas, target) for _, r in drawn],
    )
    top = max([r.roas for _, r in drawn] + [target, 1.0])
    ax.set_xlim(0, top * 1.3)
    for i, row in enumerate(rows):
        ranked = row.roas is not None and row.key != UNATTRIBUTED
        at = row.roas if ranked else 0.0
        # A 0.00x has no bar to carry its colour, so its label does.
        colour = PALETTE["soft"] if not ranked else PALETTE["loss"] if at == 0 else PALETTE["ink"]
        ax.text(at + top * 0.01, i, bar_label(row, currency), va="center", fontsize=FONT["bar"],
                color=colour)  # fmt: skip
    _bar_axis(ax, [row_label(r, answer.by) for r in rows], [r.key == UNATTRIBUTED for r in rows])
    _ratio_axis(ax.xaxis)
    ax.set_xlabel("ROAS (attributed revenue ÷ cost)", fontsize=FONT["tick"], color=PALETTE["soft"])
    _reference_lines(ax.axvline, target)
    _name_lines(ax, target)
    return figure


def _waste_chart(answer: Answer, currency: str) -> Figure:
    """Sorted by wasted spend, not by ROAS as the text is: the bar length is what the eye ranks,
    and the biggest loss is the first conversation to have."""
    rows = sorted(answer.rows, key=lambda r: (-_waste(r), r.key))
    figure, ax = _figure(answer, currency, rows=len(rows))
    values = [_waste(r) for r in rows]
    half = _bar_height(len(rows)) / 2
    _rectangles(
        ax,
        [(0.0, v, i - half, i + half) for i, v in enumerate(values)],
        [PALETTE["loss"] if v > 0 else PALETTE["short"] for v in values],
    )
    low, high = min([*values, 0.0]), max([*values, 0.0])
    span = (high - low) or 1.0
    ax.set_xlim(low - (0.18 * span if low < 0 else 0.0), high + 0.25 * span)
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        pad = span * 0.01 if value >= 0 else -span * 0.01
        ax.text(value + pad, i, waste_label(row, currency), va="center", fontsize=FONT["bar"],
                ha="left" if value >= 0 else "right", color=PALETTE["ink"])  # fmt: skip
    ax.axvline(0, color=PALETTE["ink"], linewidth=0.8)
    _bar_axis(ax, [row_label(r, answer.by) for r in rows], [False] * len(rows))
    _money_axis(ax.xaxis, currency)
    ax.set_xlabel("Wasted spend (cost − attributed revenue)", fontsize=FONT["tick"],
                  color=PALETTE["soft"])  # fmt: skip
    handles = [Patch(color=PALETTE["loss"], label="cost not earned back")] if high > 0 else []
    if low < 0:
        handles.append(Patch(color=PALETTE["short"], label="earned back, ROAS under threshold"))
    _legend(ax, handles)
    return figure


def _time_chart(answer: Answer, currency: str, target: float) -> Figure | None:
    """Revenue and cost side by side per period, ROAS on its own axis: a week of big spend and a
    week of high ROAS are different stories and both must be visible."""
    rows = [r for r in answer.rows if r.key != UNDATED]
    if not rows:
        return None
    undated = sum(r.cost for r in answer.rows if r.key == UNDATED)
    note = f"Not shown: {money(undated, currency, compact=True)} undated cost." if undated else ""
    figure, ax = _figure(answer, currency, rows=0, margins=TIME_MARGIN_PX, note=note)
    x = range(len(rows))
    width = 0.38
    _rectangles(
        ax,
        [(i - width, i, 0.0, r.revenue) for i, r in zip(x, rows, strict=True)]
        + [(i, i + width, 0.0, r.cost) for i, r in zip(x, rows, strict=True)],
        [PALETTE["revenue"]] * len(rows) + [PALETTE["cost"]] * len(rows),
    )
    ax.set_ylim(0, max([r.revenue for r in rows] + [r.cost for r in rows] + [1.0]) * 1.08)
    _money_axis(ax.yaxis, currency)
    ax.yaxis.grid(True, color=PALETTE["grid"])
    ax.set_axisbelow(True)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.xaxis.set_major_locator(NullLocator())
    # One label per ~45 px, so a year of weeks does not print 52 labels on top of each other.
    step = math.ceil(len(rows) * 45 / _plot_px(TIME_MARGIN_PX))
    below = blended_transform_factory(ax.transData, ax.transAxes)
    gap = -8 / (HEIGHT_PX - TIME_MARGIN_PX["top"] - TIME_MARGIN_PX["bottom"])
    for i, label in enumerate(period_labels([r.key for r in rows], answer.by, step)):
        ax.text(i, gap, label, transform=below, ha="center", va="top", fontsize=FONT["tick"],
                color=PALETTE["soft"])  # fmt: skip
    _style(ax)
    twin = ax.twinx()
    roas = [math.nan if r.roas is None else r.roas for r in rows]
    (line,) = twin.plot(x, roas, color=PALETTE["roas"], marker="o", linewidth=2, markersize=5,
                        label="ROAS")  # fmt: skip
    top = max([v for v in roas if not math.isnan(v)] + [target, 1.0])
    twin.set_ylim(0, top * 1.18)
    if step == 1:
        raised = twin.transData + ScaledTranslation(0, 8 / 72, figure.dpi_scale_trans)
        for i, row in zip(x, rows, strict=True):
            if row.roas is not None:
                twin.text(i, row.roas, ratio(row.roas), transform=raised, ha="center",
                          va="bottom", fontsize=FONT["note"], color=PALETTE["roas"],
                          bbox=_HALO)  # fmt: skip
    _ratio_axis(twin.yaxis)
    twin.tick_params(labelsize=FONT["tick"], colors=PALETTE["soft"], length=0)
    twin.set_ylabel("ROAS", fontsize=FONT["tick"], color=PALETTE["soft"])
    for side in ("top", "left", "bottom"):
        twin.spines[side].set_visible(False)
    twin.spines["right"].set_color(PALETTE["grid"])
    lines = _reference_lines(twin.axhline, target)
    _legend(twin, [
        Patch(color=PALETTE["revenue"], label="revenue"),
        Patch(color=PALETTE["cost"], label="cost"),
        line,
        *lines,
    ])  # fmt: skip
    return figure


def waterfall_steps(answer: Explained) -> list[tuple[str, float, float]]:
    """(name, from, to) of each bar: the comparison window's value, the segments pushing up
    and down most (SHOWN_DRIVERS each way), the rest together, the current window's value.
    The steps add up, so the last bar ends where the running total does."""
    spec, start = metric(answer.metric), answer.comparison.value(answer.metric)
    end = answer.totals.value(answer.metric)
    assert start is not None and end is not None
    shown = answer.ranked(up=True, count=SHOWN_DRIVERS) + answer.ranked(
        up=False, count=SHOWN_DRIVERS
    )
    rest = [c for c in answer.contributions if c not in shown]
    steps = [(f"{spec.label} {window_iso(answer.comparison_from, answer.comparison_to)}",
              0.0, float(start))]  # fmt: skip
    level = float(start)
    for c in shown:
        status = "" if c.status == "continuing" else f" ({c.status})"
        steps.append((_truncate(c.label, LABEL_CHARS - len(status)) + status, level,
                      level + (c.points or 0.0)))  # fmt: skip
        level += c.points or 0.0
    if rest:
        others = sum(c.points or 0.0 for c in rest)
        steps.append((f"{len(rest)} others", level, level + others))
        level += others
    steps.append((f"{spec.label} {window_iso(answer.window_from, answer.window_to)}", 0.0,
                  float(end)))  # fmt: skip
    return steps


def _waterfall_chart(answer: Explained, currency: str) -> Figure | None:
    """From the earlier value to the current one, each bar a segment's contribution: the eye
    follows the running total, the colour says which way it pushed. The axis spans the running
    totals, not 0: contributions of 0.05 on a 4.5x ROAS would otherwise be invisible, so the two
    end bars are drawn from the axis edge and carry their values."""
    if not answer.split:
        return None  # the change has no parts: the text says so, a chart of nothing would not
    steps = waterfall_steps(answer)
    figure, ax = _figure(answer, currency, rows=len(steps))
    levels = [v for _, a, b in steps[1:-1] for v in (a, b)] + [steps[0][2], steps[-1][2]]
    low, high = min(levels), max(levels)
    pad = (high - low) * 0.25 or abs(high) * 0.1 or 1.0
    edge = low - pad
    half = _bar_height(len(steps)) / 2
    boxes, colours = [], []
    for i, (_, a, b) in enumerate(steps):
        total = i in (0, len(steps) - 1)
        x0, x1 = (edge, b) if total else (min(a, b), max(a, b))
        boxes.append((x0, x1, i - half, i + half))
        colours.append(PALETTE["roas"] if total else PALETTE["good"] if b >= a else PALETTE["loss"])
    _rectangles(ax, boxes, colours)
    ax.set_xlim(edge, high + pad)
    for i, (_, a, b) in enumerate(steps):
        total = i in (0, len(steps) - 1)
        text = (
            value_text(answer.metric, b, currency, compact=True)
            if total
            else signed(answer.metric, b - a, currency)
        )
        ax.text(max(a, b) + pad * 0.04, i, text, va="center", fontsize=FONT["bar"],
                color=PALETTE["ink"])  # fmt: skip
    _bar_axis(ax, [name for name, _, _ in steps], [False] * len(steps))
    if metric(answer.metric).unit == "money":
        _money_axis(ax.xaxis, currency)
    elif metric(answer.metric).unit == "ratio":
        _ratio_axis(ax.xaxis)
    ax.set_xlabel(f"{metric(answer.metric).label}: each segment's part of the change",
                  fontsize=FONT["tick"], color=PALETTE["soft"])  # fmt: skip
    return figure


def render_reference_chart(notice: Notice, currency: str = "INR") -> bytes | None:
    """An unusual day beside its 8 reference weeks: the band shaded around the expected value,
    the left-out days (public holidays, days without data) greyed and named."""
    expected = notice.expected
    if expected is None or not expected.reference:
        return None
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=TIME_MARGIN_PX["left"] / WIDTH_PX, right=1 - 40 / WIDTH_PX,
                           top=1 - MARGIN_PX["top"] / HEIGHT_PX,
                           bottom=MARGIN_PX["bottom"] / HEIGHT_PX)  # fmt: skip
    title = f"{alert_subject(notice)} on {expected.day:%a %d %b %Y}"
    figure.text(
        20 / WIDTH_PX,
        1 - 18 / HEIGHT_PX,
        _truncate(title, TITLE_CHARS),
        fontsize=FONT["title"],
        fontweight="bold",
        color=PALETTE["ink"],
        va="top",
    )
    figure.text(20 / WIDTH_PX, 1 - 50 / HEIGHT_PX,
                "Against the same weekday of the 8 weeks before: the band is sensitivity x "
                "1.4826 x their median absolute deviation",
                fontsize=FONT["subtitle"], color=PALETTE["soft"], va="top")  # fmt: skip
    ax = figure.add_subplot()
    days = [*expected.reference, None]
    values = [r.value if r is not None else notice.value for r in days]
    unusual = notice.value is not None and not expected.low <= notice.value <= expected.high
    colours = [
        PALETTE["muted"] if r is not None and r.left_out else PALETTE["revenue"] for r in days
    ]
    colours[-1] = PALETTE["loss"] if unusual else PALETTE["good"]
    _rectangles(ax, [(i - 0.35, i + 0.35, 0.0, v or 0.0) for i, v in enumerate(values)], colours)
    ax.axhspan(max(expected.low, 0.0), expected.high, color=PALETTE["grid"], zorder=0)
    ax.axhline(expected.value, color=PALETTE["ink"], linestyle="--", linewidth=1.2)
    top = max([v or 0.0 for v in values] + [expected.high, 1e-9]) * 1.15
    ax.set_ylim(0, top)
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.xaxis.set_major_locator(NullLocator())
    below = blended_transform_factory(ax.transData, ax.transAxes)
    for i, r in enumerate(days):
        day = r.day if r is not None else expected.day
        name = f"{day:%d %b}" + (f"\n{_truncate(r.left_out, 14)}" if r and r.left_out else "")
        ax.text(i, -0.02, name, transform=below, ha="center", va="top", fontsize=FONT["tick"],
                color=PALETTE["soft"] if r is not None else PALETTE["ink"])  # fmt: skip
        if values[i] is not None:
            ax.text(
                i,
                values[i],
                value_text(notice.rule.metric, values[i], currency, True),
                ha="center",
                va="bottom",
                fontsize=FONT["note"],
                color=PALETTE["ink"],
            )
    ax.text(len(days) - 0.4, expected.value, " expected", va="bottom", ha="right",
            fontsize=FONT["note"], color=PALETTE["ink"])  # fmt: skip
    if metric(notice.rule.metric).unit == "money":
        _money_axis(ax.yaxis, currency)
    ax.yaxis.grid(True, color=PALETTE["grid"])
    _style(ax)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


# --- shared pieces ----------------------------------------------------------------------------


def _figure(
    answer: Answer,
    currency: str,
    *,
    rows: int,
    margins: dict[str, int] = MARGIN_PX,
    note: str = "",
) -> tuple[Figure, Axes]:
    """A Slack-preview-sized figure with title, totals line and footnote; taller only when the
    bars would otherwise be thinner than ROW_PX. Heights are whole quarter inches, exact in
    binary, so matplotlib versions that truncate and those that round agree on the pixels."""
    needed = margins["top"] + margins["bottom"] + ROW_PX * rows
    height = max(HEIGHT_PX, math.ceil(needed / 25) * 25)
    figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=margins["left"] / WIDTH_PX,
        right=1 - margins["right"] / WIDTH_PX,
        top=1 - margins["top"] / height,
        bottom=margins["bottom"] / height,
    )
    figure.text(20 / WIDTH_PX, 1 - 18 / height, chart_title(answer), fontsize=FONT["title"],
                fontweight="bold", color=PALETTE["ink"], va="top")  # fmt: skip
    figure.text(20 / WIDTH_PX, 1 - 50 / height, _subtitle(answer, currency),
                fontsize=FONT["subtitle"], color=PALETTE["soft"], va="top")  # fmt: skip
    if note:
        figure.text(20 / WIDTH_PX, 12 / height, note, fontsize=FONT["note"],
                    color=PALETTE["soft"])  # fmt: skip
    return figure, figure.add_subplot()


def _subtitle(answer: Answer, currency: str) -> str:
    """Scope totals, so a top-10 chart still says how big the whole is."""
    if isinstance(answer, Explained):
        return f"Against {window_iso(answer.comparison_from, answer.comparison_to)} — " + (
            " · ".join(
                f"{metric(n).label} {value_text(n, answer.comparison.value(n), currency, True)}"
                f" → {value_text(n, answer.totals.value(n), currency, True)}"
                for n in dict.fromkeys((answer.metric, "revenue", "cost"))
            )
        )
    t = answer.totals
    totals = (
        f"revenue {money(t.revenue, currency, compact=True)} · "
        f"cost {money(t.cost, currency, compact=True)} · ROAS {ratio(t.roas)}"
    )
    if t.influencers is not None and not answer.subject:
        totals += f" · {t.influencers:,} influencer{'s' if t.influencers != 1 else ''}"
    subject = answer.subject or {}
    who = " · ".join(str(subject[k]) for k in ("platform", "category", "tier") if subject.get(k))
    return f"{who} — {totals}" if who else f"Scope total: {totals}"


def _rectangles(
    ax: Axes, boxes: list[tuple[float, float, float, float]], colours: list[str]
) -> None:
    """Bars as (x0, x1, y0, y1) boxes in one collection: one artist instead of one per bar."""
    ax.add_collection(
        PolyCollection(
            [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)] for x0, x1, y0, y1 in boxes],
            facecolors=colours,
            linewidths=0,
            snap=True,
        ),
        autolim=False,
    )


def _bar_axis(ax: Axes, labels: list[str], greyed: list[bool]) -> None:
    """Row names right-aligned in the left margin, first row on top; greyed rows in italics."""
    ax.yaxis.set_major_locator(NullLocator())
    ax.set_ylim(len(labels) - 0.5, -0.5)
    left = blended_transform_factory(ax.transAxes, ax.transData)
    gap = -8 / _plot_px(MARGIN_PX)
    for i, (label, grey) in enumerate(zip(labels, greyed, strict=True)):
        ax.text(gap, i, label, transform=left, ha="right", va="center", fontsize=FONT["tick"],
                color=PALETTE["muted"] if grey else PALETTE["ink"],
                fontstyle="italic" if grey else "normal")  # fmt: skip
    ax.xaxis.grid(True, color=PALETTE["grid"])
    ax.set_axisbelow(True)
    _style(ax)


def _style(ax: Axes) -> None:
    ax.tick_params(labelsize=FONT["tick"], colors=PALETTE["ink"], length=0)
    ax.tick_params(axis="x", colors=PALETTE["soft"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(PALETTE["grid"])


def _reference_lines(draw, target: float) -> list[Line2D]:
    """Break-even and target lines; one line when they coincide, so nothing names two lines of
    which only one is visible."""
    if math.isclose(target, 1.0):
        return [draw(1.0, color=PALETTE["ink"], linestyle="--", linewidth=1.2,
                     label=f"break-even = target {ratio(1.0)}")]  # fmt: skip
    return [
        draw(1.0, color=PALETTE["loss"], linestyle=":", linewidth=1.5,
             label=f"break-even {ratio(1.0)}"),
        draw(target, color=PALETTE["ink"], linestyle="--", linewidth=1.2,
             label=f"target {ratio(target)}"),
    ]  # fmt: skip


def _name_lines(ax: Axes, target: float) -> None:
    """Names the vertical reference lines just above the plot, each name running away from the
    other so a 1.2x target does not print over break-even. With the lines named, bar colours
    need no key (a bar past the target line is green), and a legend is among the costliest
    artists to draw."""
    above = blended_transform_factory(ax.transData, ax.transAxes)
    style = {"transform": above, "va": "bottom", "fontsize": FONT["note"]}
    if math.isclose(target, 1.0):
        ax.text(1.0, 1.01, f"break-even = target {ratio(1.0)}", ha="center", **style,
                color=PALETTE["ink"])  # fmt: skip
        return
    ahead = target > 1.0
    ax.text(1.0, 1.01, f"break-even {ratio(1.0)} ", ha="right" if ahead else "left", **style,
            color=PALETTE["loss"])  # fmt: skip
    ax.text(target, 1.01, f" target {ratio(target)}", ha="left" if ahead else "right", **style,
            color=PALETTE["ink"])  # fmt: skip


def _legend(ax: Axes, handles: list) -> None:
    """One row above the plot, right-aligned, where it can never cover a bar."""
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.01), ncol=len(handles),
              frameon=False, fontsize=FONT["note"], handlelength=1.6,
              columnspacing=1.2)  # fmt: skip


def _money_axis(axis: Axis, currency: str) -> None:
    """'₹50L', '₹1Cr': the text answers' compact money; six ticks are enough to read a bar by."""
    axis.set_major_locator(MaxNLocator(nbins=6, steps=ROUND_STEPS))
    axis.set_major_formatter(FuncFormatter(lambda v, _: money(v, currency, compact=True)))


def _ratio_axis(axis: Axis) -> None:
    axis.set_major_locator(MaxNLocator(nbins=6, steps=ROUND_STEPS))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))


def _plot_px(margins: dict[str, int]) -> int:
    """Width of the plotting area in pixels, to turn a pixel gap into an axes fraction."""
    return WIDTH_PX - margins["left"] - margins["right"]


def _roas_colour(roas: float, target: float) -> str:
    if roas < 1.0:
        return PALETTE["loss"]
    return PALETTE["short"] if roas < target else PALETTE["good"]


def _waste(row: Row) -> float:
    return row.wasted_spend if row.wasted_spend is not None else row.cost - row.revenue


def _split_period(key: str, by: str | None) -> tuple[str | None, str]:
    """'2026-W34' -> ('2026', 'W34'); '2026-08' -> ('2026', 'Aug'); anything else unchanged."""
    year, _, rest = key.partition("-")
    if by == "week" and rest.startswith("W") and year.isdigit():
        return year, rest
    if by == "month" and year.isdigit():
        try:
            return year, dt.date.fromisoformat(f"{key}-01").strftime("%b")
        except ValueError:
            pass
    return None, key


def _bar_height(rows: int) -> float:
    """Bar thickness as a fraction of its slot, capped in pixels: three brands should look like
    three bars, not three slabs."""
    axes_px = max(HEIGHT_PX - MARGIN_PX["top"] - MARGIN_PX["bottom"], ROW_PX * rows)
    return min(0.68, MAX_BAR_PX * rows / axes_px)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
