"""Charts: real PNGs of the right size for every kind of answer, and labels that read like the
text answers. Answers are built by hand, so no store is needed and each case is explicit."""

from __future__ import annotations

import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor

import matplotlib.image
import pytest

from bot.charts import (
    LABEL_CHARS,
    bar_label,
    chart_title,
    period_labels,
    render_chart,
    roas_order,
    row_label,
    waste_label,
)
from insights.results import Answer, Row, Totals

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START, END = dt.date(2026, 10, 22), dt.date(2026, 11, 20)


def row(key: str, revenue: float, cost: float, **extra) -> Row:
    return Row(key=key, label=extra.pop("label", key), revenue=revenue, cost=cost, **extra)


def make(command: str, by: str | None, rows: list[Row], **extra) -> Answer:
    totals = Totals(
        revenue=sum(r.revenue for r in rows), cost=sum(r.cost for r in rows), influencers=12
    )
    return Answer(
        command=command,
        filters=extra.pop("filters", {}),
        window_from=extra.pop("window_from", START),
        window_to=extra.pop("window_to", END),
        totals=totals,
        rows=rows,
        by=by,
        title=extra.pop("title", f"ROAS by {by}"),
        **extra,
    )


BRANDS = [
    row("HKVitals", 1_56_00_000, 25_00_000),
    row("MuscleBlaze", 43_00_000, 12_00_000),
    row("Gritzo", 4_00_000, 5_00_000),
    row("unattributed", 0, 2_00_000, label="Unattributed cost"),
]
WEEKS = [
    row("2026-W52", 9_00_000, 2_00_000),
    row("2027-W01", 4_00_000, 0),  # no cost: ROAS n/a, a gap in the line
    row("2027-W02", 7_00_000, 3_00_000),
    row("undated", 0, 40_000, label="Undated cost"),
]
SLOW = [
    row("INF1", 1_000, 3_70_000, label="Vikram Bhatia", wasted_spend=3_69_000),
    row("INF2", 3_01_000, 1_89_000, label="Swati Sen", wasted_spend=-1_12_000),
]
PERSONAS = [
    row("micro · Fitness", 29_00_000, 6_30_000, influencers=4),
    row("mega · Health", 8_80_00_000, 67_00_000, influencers=1),
]
KINDS = {
    "roas by brand": make("roas", "brand", BRANDS),
    "underperformers": make("underperformers", "influencer", SLOW, title="Underperformers"),
    "personas": make("personas", "persona", PERSONAS, title="Personas by tier x category"),
    "trend": make("trend", "week", WEEKS, title="Weekly trend"),
    "influencer": make(
        "influencer",
        "week",
        WEEKS,
        title="Kavya Nair (INF0001)",
        filters={"influencer": ["INF0001"]},
        subject={"platform": "Twitter", "category": "Fitness", "tier": "mid"},
    ),
    "roas by month": make("roas", "month", [row("2026-10", 8e6, 1.5e6), row("2026-11", 4e6, 9e5)]),
}


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which PNG requires to come first."""
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes | None]:
    return {name: render_chart(answer, target=2.0) for name, answer in KINDS.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_answer_renders_a_slack_sized_png(rendered, kind):
    png = rendered[kind]
    assert png is not None
    assert png_size(png) == (1200, 700)


def test_the_png_decodes_to_the_size_its_header_claims(rendered):
    pixels = matplotlib.image.imread(io.BytesIO(rendered["roas by brand"]), format="png")
    assert pixels.shape[:2] == (700, 1200)
    assert pixels.std() > 0.05  # not a blank canvas


def test_no_rows_means_no_chart():
    assert render_chart(make("roas", "brand", [])) is None
    only_undated = make("trend", "week", [row("undated", 0, 40_000)])
    assert render_chart(only_undated) is None


def test_thirty_rows_grow_the_height_not_the_width():
    rows = [
        row(f"INF{i:04d}", 1e5 * (i + 1), 5e4, label=f"Influencer number {i}") for i in range(30)
    ]
    width, height = png_size(render_chart(make("roas", "influencer", rows)))
    assert width == 1200
    assert height > 700
    assert height / 30 >= 25  # a readable row pitch, labels cannot overlap at 10 pt


def test_rows_without_roas_render_and_are_labelled_na():
    rows = [row("A", 5e4, 0), row("B", 0, 0), row("C", 1e5, 2.5e4)]
    assert render_chart(make("roas", "campaign", rows), currency="USD") is not None
    assert bar_label(rows[0]) == "n/a · ₹50k revenue, no cost"


def test_concurrent_renders_match_serial_ones(rendered):
    """The bot answers several commands at once; no shared pyplot state may leak between them."""
    names = ["roas by brand", "trend", "underperformers"]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        pngs = list(pool.map(lambda n: render_chart(KINDS[n], target=2.0), names))
    assert pngs == [rendered[n] for n in names]


def test_title_carries_command_filters_in_a_fixed_order_and_window():
    answer = make(
        "roas", "campaign", BRANDS, filters={"platform": ["Instagram"], "brand": ["MuscleBlaze"]}
    )
    assert chart_title(answer) == (
        "ROAS by campaign — MuscleBlaze, Instagram — 2026-10-22 to 2026-11-20"
    )
    several = make("roas", "brand", BRANDS, filters={"brand": ["MuscleBlaze", "Gritzo"]})
    assert "MuscleBlaze / Gritzo" in chart_title(several)


def test_title_of_an_influencer_does_not_repeat_the_subject():
    assert chart_title(KINDS["influencer"]) == (
        "Kavya Nair (INF0001), week by week — 2026-10-22 to 2026-11-20"
    )


def test_title_with_an_open_or_no_window():
    assert chart_title(make("roas", "brand", [], window_to=None)).endswith("from 2026-10-22")
    assert chart_title(make("roas", "brand", [], window_from=None, window_to=None)) == (
        "ROAS by brand"
    )
    long = make("roas", "brand", [], filters={"product": ["Biozyme Performance Whey " * 8]})
    assert len(chart_title(long)) <= 110
    assert "…" in chart_title(long)


def test_bar_labels_use_the_text_answers_formats():
    assert bar_label(row("X", 3.8e5, 1e5)) == "3.80x · ₹1L cost"
    assert bar_label(row("X", 4_56_00_000, 1_20_00_000)) == "3.80x · ₹1.2Cr cost"
    assert bar_label(row("X", 3.8e6, 1.2e6), "USD") == "3.17x · $1.2M cost"
    assert bar_label(BRANDS[-1]) == "₹2L cost, no attributable revenue"
    assert waste_label(SLOW[0]) == "₹3.7L · 0.00x"
    assert waste_label(SLOW[1]) == "-₹1.1L · 1.59x"
    # Without a wasted_spend figure, it is what the field means: cost - revenue.
    assert waste_label(row("Y", 1e5, 3e5)) == "₹2L · 0.33x"


def test_row_labels_truncate_but_keep_the_persona_count():
    assert row_label(PERSONAS[0], "persona") == "micro · Fitness (n=4)"
    assert row_label(PERSONAS[0], "tier") == "micro · Fitness"
    long = row("P", 1, 1, label="macro · Fitness · Female · Instagram", influencers=12)
    label = row_label(long, "persona")
    assert label.endswith("… (n=12)")
    assert len(label) <= LABEL_CHARS


def test_roas_order_ranks_best_first_then_na_then_unattributed():
    rows = [BRANDS[3], row("none", 1e4, 0), *BRANDS[:3]]
    assert [r.key for r in roas_order(rows)] == [
        "HKVitals", "MuscleBlaze", "Gritzo", "none", "unattributed",
    ]  # fmt: skip


def test_period_labels_are_short_and_name_the_year_where_it_changes():
    weeks = ["2026-W52", "2027-W01", "2027-W02"]
    assert period_labels(weeks, "week") == ["W52\n2026", "W01\n2027", "W02"]
    assert period_labels(["2026-08", "2026-09"], "month") == ["Aug\n2026", "Sep"]
    assert period_labels([*weeks, "2027-W03"], "week", step=2) == ["W52\n2026", "", "W02\n2027", ""]
    assert period_labels(["odd"], "week") == ["odd"]


def test_names_in_indic_scripts_draw_as_letters_without_a_warning():
    import warnings

    import numpy as np

    def drawn(name: str) -> np.ndarray:
        return matplotlib.image.imread(
            io.BytesIO(render_chart(make("roas", "influencer", [row("X", 5e5, 1e5, label=name)])))
        )

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any library warning fails the test
        devanagari, tamil, latin = drawn("कविता नायर"), drawn("கவிதா"), drawn("Kavita")
    # Different names give different pixels: the Indic ones are not boxes of one width.
    assert not np.array_equal(devanagari, latin) and not np.array_equal(tamil, latin)
    from matplotlib import font_manager

    found = font_manager.findfont(font_manager.FontProperties(family="Noto Sans Devanagari"))
    assert "Devanagari" in found
