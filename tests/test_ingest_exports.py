"""Real-world exports and hostile files (issue 14), on both stores, built at test time."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import subprocess
import sys
import time
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from storage import models
from storage.ingest import LoadProgress, Origin, Upload, WorkbookLimits, ingest_files, readers
from storage.spreadsheet import safe_cell
from tests.conftest import ROOT
from tests.helpers import INFLUENCERS_CSV, TRACKING_CSV, counts, load, rows, snapshot, write

# Holds a write transaction open on the store for a while, as a second process would.
_HOLD_WRITE = """
import pathlib, sys, time
from sqlalchemy import insert
from storage import models
from storage.db import open_store

engine = open_store(sys.argv[1])
with engine.begin() as conn:
    conn.execute(insert(models.influencers).values(
        influencer_id="W1", name="Writer", category="Fitness", gender="Female",
        follower_count=1, platform="Instagram"))
    pathlib.Path(sys.argv[2]).touch()
    time.sleep(float(sys.argv[3]))
"""


def test_a_load_waits_for_a_write_in_another_process_instead_of_failing(store, store_url, tmp_path):
    assert load(store, write(tmp_path, "i.csv", INFLUENCERS_CSV)).ok
    ready = tmp_path / "ready"
    writer = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE, store_url, str(ready), "2"], cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while not ready.exists() and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the writer process did not start its transaction"
    file = load(store, write(tmp_path, "t.csv", TRACKING_CSV)).files[0]
    assert writer.wait(timeout=60) == 0
    assert file.status == "loaded", file.message
    assert counts(store) == {"influencers": 4, "posts": 0, "tracking": 3, "payouts": 0}


# --- reading real exports right -----------------------------------------------------------

TRACKING_HEADER = "source,influencer_id,brand,product,date,orders,revenue"


@pytest.fixture
def seeded(store, tmp_path):
    """A store holding the three influencers."""
    assert load(store, write(tmp_path, "people.csv", INFLUENCERS_CSV)).ok
    return store


def _revenues(engine) -> list[tuple]:
    return rows(engine, models.tracking, "date", "orders", "revenue")


def test_excel_unicode_text_utf16_with_bom_and_tabs_is_read(seeded, tmp_path):
    content = TRACKING_CSV.replace(",", "\t") + "influencer\tINF3\tKäse\tघी\t2025-01-07\t1\t5\n"
    path = write(tmp_path, "unicode.txt", content, encoding="utf-16")
    assert path.read_bytes()[:2] == b"\xff\xfe"  # UTF-16 LE with its BOM, as Excel writes it
    file = load(seeded, path).files[0]
    assert file.status == "loaded", file.message
    assert file.total("inserted") == 4
    assert ("Käse", "घी") in rows(seeded, models.tracking, "brand", "product")


def test_decimal_commas_are_read_as_decimal_commas(seeded, tmp_path):
    content = (
        "source;influencer_id;brand;product;date;orders;revenue\n"
        "influencer;INF1;MB;Whey;2025-01-05;2;12,50\n"
        'influencer;INF1;MB;Whey;2025-01-06;1.200;"1.299,50"\n'
        "influencer;INF1;MB;Whey;2025-01-07;3;1.299\n"  # thousands, as the file writes them
        "influencer;INF1;MB;Whey;2025-01-08;3;7.50\n"  # a decimal point in this file: rejected
    )
    file = load(seeded, write(tmp_path, "eu.csv", content)).files[0]
    assert _revenues(seeded) == [
        (dt.date(2025, 1, 5), 2, 12.5),
        (dt.date(2025, 1, 6), 1200, 1299.5),
        (dt.date(2025, 1, 7), 3, 1299.0),
    ]
    [group] = file.sheets[0].rejects
    assert group.lines == [5]
    assert group.reason == (
        "revenue is written with a decimal point, but this file writes decimal commas"
    )
    assert any("decimal commas" in n for n in file.sheets[0].notes)


def test_an_amount_that_could_be_read_two_ways_is_rejected_not_guessed(seeded, tmp_path):
    content = (
        "source;influencer_id;brand;product;date;orders;revenue\n"
        "influencer;INF1;MB;Whey;2025-01-05;1.500;1.299\n"  # orders: only 1500 is whole
        "influencer;INF1;MB;Whey;2025-01-06;2;300\n"
    )
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "partial", file.message
    [group] = file.sheets[0].rejects
    assert group.lines == [2]
    assert group.reason.startswith("revenue could be read with a decimal comma or a decimal point")
    assert _revenues(seeded) == [(dt.date(2025, 1, 6), 2, 300.0)]


def test_a_quoted_decimal_comma_in_a_comma_separated_file_is_not_read_as_thousands(
    seeded, tmp_path
):
    content = f'{TRACKING_HEADER}\ninfluencer,INF1,MB,Whey,2025-01-05,2,"12,50"\n'
    load(seeded, write(tmp_path, "t.csv", content))
    assert _revenues(seeded) == [(dt.date(2025, 1, 5), 2, 12.5)]


def test_a_header_below_title_rows_is_found_in_a_csv(seeded, tmp_path):
    content = (
        "Tracking report,,,,,,\n"
        "Period: January 2025,,,,,,\n"
        ",,,,,,\n"
        f"{TRACKING_HEADER}\n"
        "influencer,INF1,MB,Whey,2025-01-05,2,100\n"
        "influencer,INF1,MB,Whey,2025-01-06,-2,100\n"
    )
    file = load(seeded, write(tmp_path, "report.csv", content)).files[0]
    assert file.status == "partial", file.message
    assert file.sheets[0].rejects[0].lines == [6]  # the file's own line numbers
    assert _revenues(seeded) == [(dt.date(2025, 1, 5), 2, 100.0)]


def test_a_header_below_title_rows_is_found_in_a_workbook(seeded, tmp_path):
    path = _workbook(
        tmp_path,
        [
            ["Creator sales, January 2025"],
            ["Exported 2025-02-01"],
            [],
            TRACKING_HEADER.split(","),
            ["influencer", "INF1", "MB", "Whey", dt.datetime(2025, 1, 5), 2, 100.5],
            ["influencer", "INF1", "MB", "Whey", "not a date", 2, 100.5],
        ],
    )
    file = load(seeded, path).files[0]
    assert file.status == "partial", file.message
    assert file.sheets[0].rejects[0].lines == [6]
    assert _revenues(seeded) == [(dt.date(2025, 1, 5), 2, 100.5)]


def test_a_trailing_delimiter_on_every_line_loads_without_an_empty_note(seeded, tmp_path):
    content = "".join(line + ",\n" for line in TRACKING_CSV.splitlines())
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "loaded", file.message
    assert file.total("inserted") == 3
    assert file.sheets[0].ignored_columns == []
    assert not any("ignored" in n for n in file.sheets[0].notes)


def test_trailing_delimiters_on_data_rows_only_load_and_extra_values_reject_that_line(
    seeded, tmp_path
):
    content = (
        f"{TRACKING_HEADER}\n"
        "influencer,INF1,MB,Whey,2025-01-05,2,100,,\n"
        "influencer,INF1,MB,Whey,2025-01-06,2,100,,\n"
        "influencer,INF1,MB,Whey Chocolate,2025-01-07,2,100,,\n"
        "influencer,INF1,MB,Whey, Chocolate,2025-01-08,2,100,\n"  # an unquoted comma
    )
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "partial", file.message
    [group] = file.sheets[0].rejects
    assert group.lines == [5]
    assert group.reason == "the row is malformed: more cells than the header has columns"
    assert file.total("inserted") == 3


def test_a_row_wider_than_the_sample_further_down_is_rejected_by_line(
    seeded, tmp_path, monkeypatch
):
    monkeypatch.setattr(readers, "_SAMPLE_BYTES", 200)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 7)
    lines = [f"influencer,INF1,MB,Whey,2025-01-{d:02d},1,{d}" for d in range(1, 29)]
    lines[19] += ",,,"  # line 21: empty cells, wider than anything the sample saw
    lines[24] += ",,,,,extra"  # line 26: wider still, with a value
    content = TRACKING_HEADER + "\n" + "\n".join(lines) + "\n"
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.total("rows_seen") == 28
    assert [(g.reason, g.lines) for g in file.sheets[0].rejects] == [
        ("the row is malformed: more cells than the header has columns", [26])
    ]
    assert sorted(r[2] for r in _revenues(seeded)) == [d for d in range(1, 29) if d != 25]


def test_an_unbalanced_quote_is_reported_at_the_line_it_opens(seeded, tmp_path):
    before = snapshot(seeded)
    content = (
        f"{TRACKING_HEADER}\n"
        "influencer,INF1,MB,Whey,2025-01-05,2,100\n"
        'influencer,INF1,MB,"Whey,2025-01-06,2,100\n'
        "influencer,INF1,MB,Whey,2025-01-07,2,100\n"
    )
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "refused"
    assert "the quote opened on line 3 is never closed" in file.message
    assert snapshot(seeded) == before


def test_implausible_dates_are_rejected_by_line_with_the_reason(seeded, tmp_path):
    content = (
        f"{TRACKING_HEADER}\n"
        "influencer,INF1,MB,Whey,1900-01-01,1,100\n"
        "influencer,INF1,MB,Whey,2025-01-05,1,100\n"
        "influencer,INF1,MB,Whey,2099-12-31,1,100\n"
    )
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    later = dt.date.today() + dt.timedelta(days=365)
    assert {g.reason: g.lines for g in file.sheets[0].rejects} == {
        "date is before 2000-01-01, the earliest accepted": [2],
        f"date is after {later:%Y-%m-%d}, the latest accepted": [4],
    }
    assert _revenues(seeded) == [(dt.date(2025, 1, 5), 1, 100.0)]


def test_date_bounds_come_from_the_options(seeded, tmp_path):
    content = f"{TRACKING_HEADER}\ninfluencer,INF1,MB,Whey,2019-12-31,1,100\n"
    path = write(tmp_path, "t.csv", content)
    refused = load(seeded, path, earliest_date=dt.date(2020, 1, 1)).files[0]
    assert "before 2020-01-01" in refused.message
    loaded = load(seeded, path, latest_date=dt.date(2020, 1, 1)).files[0]
    assert loaded.status == "loaded", loaded.message


# --- one bad value never poisons or loses data --------------------------------------------


def test_values_the_store_cannot_hold_are_rejected_per_line_and_the_rest_loads(seeded, tmp_path):
    good = [f"influencer,INF1,MB,Whey,2025-01-{d:02d},1,{d}" for d in range(1, 21)]
    bad = [
        "influencer,INF1,MB,Whey,2025-02-01,1,1e308",  # line 22
        "influencer,INF1,MB,Whey,2025-02-02,1,inf",  # 23
        'influencer,INF1,MB,Whey,2025-02-03,"3,000,000,000",5',  # 24: beyond an INTEGER
        "influencer,INF1,MB,Wh\x00ey,2025-02-04,1,5",  # 25: PostgreSQL text holds no NUL
        "influencer,INF1,MB,Whey,2025-02-05,1,1000000000000",  # 26: beyond NUMERIC(14, 2)
    ]
    content = TRACKING_HEADER + "\n" + "\n".join(good + bad) + "\n"
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "partial", file.message
    assert {g.reason: g.lines for g in file.sheets[0].rejects} == {
        "revenue is too large (at most 999,999,999,999.99)": [22, 26],
        "revenue is not a finite number": [23],
        "orders is too large (at most 2,147,483,647)": [24],
        "product holds a NUL character": [25],
    }
    assert file.sheets[0].rejects[-1].examples == ["'Wh\\0ey'"]
    assert sorted(r[2] for r in _revenues(seeded)) == list(range(1, 21))
    # The store still answers: the revenue sums are finite and exact on both stores.
    with seeded.connect() as conn:
        total = conn.execute(select(func.sum(models.tracking.c.revenue))).scalar_one()
    assert float(total) == 210.0


def test_a_huge_cell_is_quoted_by_a_short_prefix_only(seeded, tmp_path):
    huge = "X" * 100_000
    content = f"{TRACKING_HEADER}\ninfluencer,{huge},MB,Whey,2025-01-05,1,1\n"
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "refused"
    assert len(file.message) < 300
    [group] = file.sheets[0].rejects
    assert group.examples == ["'" + "X" * 40 + "…' (100,000 characters)"]


def test_rejected_rows_escape_formulas_as_the_answer_export_does(seeded, tmp_path):
    from bot import export

    assert export.safe_cell is safe_cell  # one shared function
    hostile = ['=HYPERLINK("http://x","y")', "=1+1", "@SUM(A1)", "+91", "-x", "\tx", "\rx"]
    out = io.StringIO()
    out.write(TRACKING_HEADER + "\n")
    csv.writer(out).writerows([h, "INF1", "MB", "Whey", "2025-01-05", -1, 100] for h in hostile)
    content = out.getvalue()
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    got = list(csv.reader(io.StringIO(file.sheets[0].rejected_csv.decode("utf-8-sig"))))
    assert [r[2] for r in got[1:]] == [safe_cell(h) for h in hostile]
    assert all(r[2].startswith("'") for r in got[1:])
    assert got[1][1] == "orders is negative: '-1'"


# --- hostile workbooks --------------------------------------------------------------------


def _workbook(tmp_path, data: list[list], name: str = "book.xlsx"):
    wb = openpyxl.Workbook()
    for row in data:
        wb.active.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def _rebuilt(path, replace: dict[str, object]):
    """The workbook at `path` with some parts replaced: bytes, or a callable writing chunks."""
    out = path.with_name("hostile.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in replace:
                dst.writestr(info, src.read(info))
        for name, content in replace.items():
            if content is None:
                continue
            with dst.open(name, "w") as part:
                if callable(content):
                    content(part)
                else:
                    part.write(content)
    return out


def _huge_sheet(part) -> None:
    part.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    part.write(b"<sheetData>")
    block = b"<row><c><v>1</v></c></row>" * 100_000  # rows need no number ("r")
    for _ in range(30):  # 3 M rows, well under a MB once compressed
        part.write(block)
    part.write(b"</sheetData></worksheet>")


def _huge_string(part) -> None:
    part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
    block = b"a" * (1 << 20)
    for _ in range(300):  # 300 M characters
        part.write(block)
    part.write(b"</t></si></sst>")


def _ingest_in_a_process(store_url: str, path) -> tuple[str, int, float]:
    """(output, peak RSS in MB, seconds) of `roasbot ingest` on `path`, as a user runs it."""
    env = {**os.environ, "DATABASE_URL": store_url, "HOME": str(path.parent)}
    script = (
        "import resource, sys\n"
        "from bot.cli import main\n"
        "code = main(['ingest', sys.argv[1], '--rejects-dir', sys.argv[2]])\n"
        "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(path.parent)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    rss = int(output.rsplit("RSS ", 1)[1].split()[0])
    return output.rsplit("RSS ", 1)[0], rss, elapsed


_INTERNALS = ("Traceback", "Error:", "Warning", "openpyxl", "sqlalchemy", "pandas", ".py", "SELECT")


def test_a_sheet_that_unpacks_to_millions_of_rows_is_refused_quickly(seeded, store_url, tmp_path):
    base = _workbook(tmp_path, [TRACKING_HEADER.split(",")])
    path = _rebuilt(base, {"xl/worksheets/sheet1.xml": _huge_sheet})
    assert path.stat().st_size < 1024 * 1024
    output, rss, elapsed = _ingest_in_a_process(store_url, path)
    assert "3,000,000 rows, over the 1,048,576 limit (XLSX_MAX_ROWS)" in output
    assert elapsed < 30 and rss < 400
    assert not any(word in output for word in _INTERNALS), output


def test_a_300_million_character_string_is_refused_quickly_and_in_little_memory(
    seeded, store_url, tmp_path
):
    base = _workbook(tmp_path, [TRACKING_HEADER.split(",")])
    path = _rebuilt(base, {"xl/sharedStrings.xml": _huge_string})
    output, rss, elapsed = _ingest_in_a_process(store_url, path)
    assert "a cell of more than 32,767 characters (XLSX_MAX_CELL_CHARS)" in output
    assert elapsed < 30 and rss < 400
    assert not list(tmp_path.glob("*.rejected.csv"))
    assert not any(word in output for word in _INTERNALS), output


def test_workbook_limits_come_from_the_options(seeded, tmp_path):
    row = ["influencer", "INF1", "MB", "Whey", "2025-01-05", 1, "Z" * 50]
    path = _workbook(tmp_path, [TRACKING_HEADER.split(","), row, row])
    small = load(seeded, path, workbook=WorkbookLimits(max_unpacked_mb=0.001)).files[0]
    assert "over the 0.001 MB limit (XLSX_MAX_UNPACKED_MB)" in small.message
    few = load(seeded, path, workbook=WorkbookLimits(max_rows=2)).files[0]
    assert "3 rows, over the 2 limit (XLSX_MAX_ROWS)" in few.message
    short = load(seeded, path, workbook=WorkbookLimits(max_cell_chars=20)).files[0]
    assert "line 2 holds a cell of 50 characters, over the 20 limit" in short.message
    assert counts(seeded)["tracking"] == 0


def test_a_workbook_without_styles_loads_without_a_library_warning(seeded, store_url, tmp_path):
    base = _workbook(
        tmp_path,
        [TRACKING_HEADER.split(","), ["influencer", "INF1", "MB", "Whey", "2025-01-05", 1, 9]],
    )
    with zipfile.ZipFile(base) as z:
        types = z.read("[Content_Types].xml").replace(
            b'<Override PartName="/xl/styles.xml" '
            b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>',
            b"",
        )
        rels = re.sub(
            rb"<Relationship [^>]*styles.xml\"/>", b"", z.read("xl/_rels/workbook.xml.rels")
        )
    path = _rebuilt(
        base,
        {"xl/styles.xml": None, "[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
    )
    with zipfile.ZipFile(path) as z:
        assert "xl/styles.xml" not in z.namelist()
    output, _, _ = _ingest_in_a_process(store_url, path)
    assert "1 new" in output, output
    assert not any(word in output for word in _INTERNALS), output


def test_values_beyond_a_workbook_header_are_ignored_with_a_note(seeded, tmp_path):
    path = _workbook(
        tmp_path,
        [
            [*TRACKING_HEADER.split(","), None, "notes"],
            ["influencer", "INF1", "MB", "Whey", "2025-01-05", 1, 9, "checked", "ok"],
        ],
    )
    file = load(seeded, path).files[0]
    assert file.status == "loaded", file.message
    notes = file.sheets[0].notes
    assert "values in columns without a header were ignored (column H)" in notes
    assert "columns ignored: notes" in notes


# --- no size wall; progress -----------------------------------------------------------------


def test_a_local_file_over_max_upload_mb_loads(seeded, tmp_path):
    lines = [f"influencer,INF1,MB,Whey,2025-01-01,1,{i}.5" for i in range(40_000)]
    path = write(tmp_path, "big.csv", TRACKING_HEADER + "\n" + "\n".join(lines))
    assert path.stat().st_size > 1024 * 1024
    file = load(seeded, path, max_upload_mb=1).files[0]
    assert file.status == "loaded", file.message
    assert file.total("inserted") == 40_000


def test_a_spooled_upload_keeps_its_own_name(seeded, tmp_path):
    spooled = write(tmp_path, "tmp3x9q.part", TRACKING_CSV)
    upload = Upload.from_path(spooled, filename="Jan tracking.csv")
    file = ingest_files(seeded, [upload], Origin("slack", "U1")).files[0]
    assert (file.filename, file.status) == ("Jan tracking.csv", "loaded")


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_progress_gives_rows_percent_and_time_left(seeded, tmp_path, monkeypatch, form):
    # pandas reads a CSV ahead by about 256 KB: a file of 1.2 MB gives several steps.
    monkeypatch.setattr(readers, "_BLOCK", 65536)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 5000 if form == "csv" else 500)
    n = 30_000 if form == "csv" else 3000
    data = [["influencer", "INF1", "MB", "Whey", "2025-02-01", "1", str(i)] for i in range(n)]
    if form == "csv":
        body = "\n".join(",".join(r) for r in data)
        path = write(tmp_path, "t.csv", TRACKING_HEADER + "\n" + body)
    else:
        path = _workbook(tmp_path, [TRACKING_HEADER.split(","), *data])
    seen: list[LoadProgress] = []
    legacy: list[tuple] = []
    result = ingest_files(
        seeded,
        [Upload.from_path(path)],
        progress=lambda *a: legacy.append(a),
        on_progress=seen.append,
    )
    assert result.ok
    assert len(seen) > 2
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen)
    assert [p.rows_done for p in seen] == sorted(p.rows_done for p in seen)
    assert any(0 < p.percent < 100 and 0 < p.rows_done < n for p in seen)
    assert (seen[-1].rows_done, seen[-1].percent, seen[-1].seconds_left) == (n, 100, 0.0)
    assert seen[-1].describe() == f"{n:,} rows, 100%"
    assert legacy[-1] == (path.name, path.stat().st_size, path.stat().st_size)


def test_a_progress_note_says_rows_percent_and_time_left():
    note = LoadProgress("t.csv", rows_done=120_000, fraction=0.25, elapsed_s=60).describe()
    assert note == "120,000 rows, 25%, about 3 min left"
    assert LoadProgress("t.csv", 10, 0.5, 20).describe() == "10 rows, 50%, about 20 s left"
    assert LoadProgress("t.csv", 10, 0.001, 20).seconds_left is None
    assert LoadProgress("t.csv", 0, 0.04, 2).describe() == "4%, about 48 s left"


def test_the_settings_give_the_ingest_options():
    from zoneinfo import ZoneInfo

    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        earliest_date="2010-01-01",
        latest_date_days_ahead=0,
        xlsx_max_unpacked_mb=8,
        xlsx_max_rows=5,
        xlsx_max_cell_chars=100,
        timezone="Asia/Kolkata",
    )
    options = settings.ingest_options("payouts")
    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
    assert (options.kind, options.earliest_date, options.latest_date) == (
        "payouts",
        dt.date(2010, 1, 1),
        today,
    )
    assert options.workbook == WorkbookLimits(max_unpacked_mb=8, max_rows=5, max_cell_chars=100)


def test_a_workbook_reads_its_number_cells_as_numbers_whatever_its_text_cells(seeded, tmp_path):
    path = _workbook(
        tmp_path,
        [
            TRACKING_HEADER.split(","),
            ["influencer", "INF1", "MB", "Whey", "2025-01-05", 2, "12,50"],  # text, a comma
            ["influencer", "INF1", "MB", "Whey", "2025-01-06", 1200, 1299.5],
            ["influencer", "INF1", "MB", "Whey", "2025-01-07", 3, "1,299"],
        ],
    )
    file = load(seeded, path).files[0]
    assert [(g.reason, g.lines) for g in file.sheets[0].rejects] == [
        ("revenue is written with a decimal comma, but this file writes decimal points", [2])
    ]
    assert _revenues(seeded) == [
        (dt.date(2025, 1, 6), 1200, 1299.5),
        (dt.date(2025, 1, 7), 3, 1299.0),
    ]
