"""Ingestion on both stores: detection, validation, idempotency, formats, refusals, rollback."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import openpyxl
import pytest
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import bulk, derived, models
from storage.ingest import Options, Origin, Upload, ingest_bytes, ingest_files, readers
from storage.ingest import load as load_module
from tests.conftest import ROOT
from tests.helpers import (
    INFLUENCERS_CSV,
    PAYOUTS_CSV,
    POSTS_CSV,
    TRACKING_CSV,
    counts,
    load,
    rows,
    snapshot,
    write,
)

SAMPLE = ROOT / "sample_data"


@pytest.fixture
def seeded(store, tmp_path):
    """A store holding the three influencers."""
    result = load(store, write(tmp_path, "people.csv", INFLUENCERS_CSV))
    assert result.ok, result.files[0].message
    return store


# --- kinds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [(POSTS_CSV, "posts"), (TRACKING_CSV, "tracking_data"), (PAYOUTS_CSV, "payouts")],
)
def test_each_kind_is_detected_from_its_header_not_its_name(seeded, tmp_path, content, kind):
    result = load(seeded, write(tmp_path, "export (2) FINAL.csv", content))
    file = result.files[0]
    assert file.status == "loaded", file.message
    assert [s.kind for s in file.sheets] == [kind]
    assert file.total("inserted") == len(content.strip().splitlines()) - 1


def test_influencers_detected_with_headers_in_any_case_and_spacing(store, tmp_path):
    content = INFLUENCERS_CSV.replace(
        "influencer_id,name,category,gender,follower_count,platform",
        "Influencer ID,NAME,Category,Gender,Follower Count,Platform",
    )
    file = load(store, write(tmp_path, "a.csv", content)).files[0]
    assert file.sheets[0].kind == "influencers"
    assert counts(store)["influencers"] == 3


def test_header_that_fits_no_kind_names_the_closest_and_what_it_lacks(seeded, tmp_path):
    before = snapshot(seeded)
    header = "source,influencer_id,brand,product,orders\ninfluencer,INF1,MB,Whey,2\n"
    file = load(seeded, write(tmp_path, "t.csv", header)).files[0]
    assert file.status == "refused"
    assert "closest is tracking_data" in file.message
    assert "date, revenue" in file.message
    assert snapshot(seeded) == before


def test_kind_override_skips_detection(seeded, tmp_path):
    file = load(seeded, write(tmp_path, "p.csv", POSTS_CSV), kind="tracking_data").files[0]
    assert file.status == "refused"
    assert "tracking_data needs the columns" in file.message


def test_extra_columns_are_ignored_and_reported(store, tmp_path):
    content = INFLUENCERS_CSV.replace("platform\n", "platform,notes,Agency\n", 1)
    content = content.replace("Instagram\n", "Instagram,vip,X\n", 1)
    file = load(store, write(tmp_path, "i.csv", content)).files[0]
    assert file.status == "loaded", file.message
    assert file.sheets[0].ignored_columns == ["notes", "agency"]
    assert any("columns ignored: notes, agency" in n for n in file.sheets[0].notes)


# --- idempotency ------------------------------------------------------------------------


def test_uploading_the_same_file_twice_changes_nothing(seeded, tmp_path):
    path = write(tmp_path, "t.csv", TRACKING_CSV)
    first = load(seeded, path).files[0]
    before = snapshot(seeded)
    second = load(seeded, path).files[0]
    assert first.total("inserted") == 3
    assert second.status == "already_loaded"
    assert "already loaded on" in second.message
    assert second.already_loaded_on is not None
    assert snapshot(seeded) == before


def test_the_same_rows_in_another_file_change_nothing(seeded, tmp_path):
    load(seeded, write(tmp_path, "t.csv", TRACKING_CSV))
    before = snapshot(seeded)
    # Same rows, other bytes: columns reordered, semicolons, thousands separators, rupee signs.
    other = (
        "Revenue;Date;Source;Brand;Product;Influencer_ID;Orders;Campaign\n"
        "₹6,598.00;2025-01-05;influencer;MuscleBlaze;Biozyme Whey;INF1;2;MB-Jan\n"
        "Rs. 2,097;06/01/2025;influencer;HKVitals;Fish Oil;INF2;3;HKV-Jan\n"
        '"32,990";2025-01-05;organic;MuscleBlaze;Biozyme Whey;;10;\n'
    )
    file = load(seeded, write(tmp_path, "again.csv", other)).files[0]
    assert file.status == "loaded", file.message
    assert (file.total("inserted"), file.total("updated"), file.total("unchanged")) == (0, 0, 3)
    assert snapshot(seeded) == before


def test_a_reload_with_ids_counts_new_changed_and_unchanged_rows_exactly(seeded, tmp_path):
    """Rows the table holds as they are leave the staging before the upsert (PostgreSQL):
    the counts and the stored rows must be what the upsert alone gives, NULLs included."""
    header = "tracking_id,source,influencer_id,brand,product,date,orders,revenue,campaign\n"
    first = [
        "T1,influencer,INF1,MuscleBlaze,Whey,2025-01-05,2,10.50,",
        "T2,influencer,INF2,HKVitals,Fish Oil,2025-01-06,3,20.00,HKV-Jan",
        "T3,organic,,MuscleBlaze,Whey,2025-01-05,1,5.00,",
    ]
    load(seeded, write(tmp_path, "a.csv", header + "\n".join(first)))
    second = [
        first[0],  # unchanged, with a NULL campaign
        "T2,influencer,INF2,HKVitals,Fish Oil,2025-01-06,3,20.00,",  # campaign becomes NULL
        "T3,organic,INF1,MuscleBlaze,Whey,2025-01-05,1,5.00,",  # attributed now
        "T4,influencer,INF1,MuscleBlaze,Whey,2025-01-07,1,1.00,MB-Jan",  # new
    ]
    file = load(seeded, write(tmp_path, "b.csv", header + "\n".join(second))).files[0]
    assert (file.total("inserted"), file.total("updated"), file.total("unchanged")) == (1, 2, 1)
    stored = rows(seeded, models.tracking, "tracking_id", "influencer_id", "campaign")
    assert sorted(r for r in stored if r[0] in {"T1", "T2", "T3", "T4"}) == [
        ("T1", "INF1", None), ("T2", "INF2", None), ("T3", "INF1", None), ("T4", "INF1", "MB-Jan"),
    ]  # fmt: skip


def test_a_changed_row_with_the_same_key_updates_it(seeded, tmp_path):
    changed = INFLUENCERS_CSV.replace("12500", "15000")
    file = load(seeded, write(tmp_path, "i2.csv", changed)).files[0]
    assert (file.total("inserted"), file.total("updated"), file.total("unchanged")) == (0, 1, 2)
    assert ("INF1", 15000) in rows(seeded, models.influencers, "influencer_id", "follower_count")


def test_payout_with_id_updates_and_without_id_is_keyed_by_its_values(seeded, tmp_path):
    load(seeded, write(tmp_path, "p.csv", PAYOUTS_CSV))
    changed = PAYOUTS_CSV.replace("PAY2,INF2,order,100,3,300", "PAY2,INF2,order,100,4,400")
    file = load(seeded, write(tmp_path, "p2.csv", changed)).files[0]
    assert (file.total("updated"), file.total("unchanged")) == (1, 1)
    no_ids = "influencer_id,basis,total_payout\nINF3,post,1000\nINF3,post,1000.00\n"
    file = load(seeded, write(tmp_path, "p3.csv", no_ids)).files[0]
    # The two lines are the same payout once normalised: one row, the repeat reported.
    assert file.total("inserted") == 1
    assert file.sheets[0].duplicates == 1
    assert file.sheets[0].duplicate_lines == [2]
    assert counts(seeded)["payouts"] == 3


def test_within_a_file_the_last_row_with_a_key_wins(store, tmp_path):
    content = INFLUENCERS_CSV + "INF1,Asha Rao,Fitness,Female,99999,Instagram\n"
    file = load(store, write(tmp_path, "i.csv", content)).files[0]
    assert file.sheets[0].duplicates == 1
    assert ("INF1", 99999) in rows(store, models.influencers, "influencer_id", "follower_count")


# --- validation ---------------------------------------------------------------------------


def test_rejected_rows_are_reported_by_line_and_reason_and_the_rest_loads(seeded, tmp_path):
    content = (
        "source,influencer_id,brand,product,date,orders,revenue\n"
        "influencer,INF1,MuscleBlaze,Whey,2025-01-05,2,100\n"  # line 2: fine
        "influencer,INF1,MuscleBlaze,Whey,2025-01-06,-1,100\n"  # 3: negative
        "influencer,INF1,MuscleBlaze,Whey,not a date,1,100\n"  # 4: bad date
        "influencer,INF1,MuscleBlaze,Whey,2025-01-07,1.5,100\n"  # 5: fractional orders
        "influencer,INF1,MuscleBlaze,Whey,2025-01-08,1,abc\n"  # 6: not a number
        "influencer,INF1,MuscleBlaze,Whey,2025-01-09,1,-5\n"  # 7: negative
        "influencer,INF1,,Whey,2025-01-10,1,100\n"  # 8: empty brand
        "organic,,HKVitals,Fish Oil,2025-01-11,4,400\n"  # 9: fine (not attributed)
    )
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "partial"
    assert file.total("inserted") == 2
    assert file.total("rejected") == 6
    groups = {g.reason: g.lines for g in file.sheets[0].rejects}
    assert groups == {
        "orders is negative": [3],
        "date is not a date (use YYYY-MM-DD or DD/MM/YYYY)": [4],
        "orders is not a whole number": [5],
        "revenue is not a number": [6],
        "revenue is negative": [7],
        "brand is empty": [8],
    }
    rejected = list(csv.DictReader(io.StringIO(file.sheets[0].rejected_csv.decode("utf-8-sig"))))
    assert [r["line"] for r in rejected] == ["3", "4", "5", "6", "7", "8"]
    assert rejected[0]["reason"] == "orders is negative: '-1'"
    assert rejected[1]["date"] == "not a date"  # the row as it was, ready to fix
    assert rows(seeded, models.tracking, "date", "orders") == [
        (dt.date(2025, 1, 5), 2),
        (dt.date(2025, 1, 11), 4),
    ]


def test_an_unknown_influencer_is_rejected(seeded, tmp_path):
    content = POSTS_CSV + "P3,INF404,Instagram,2025-01-07,100,1,1,,\n"
    file = load(seeded, write(tmp_path, "p.csv", content)).files[0]
    [group] = file.sheets[0].rejects
    assert group.reason.startswith("influencer_id is not a known influencer")
    assert group.lines == [4]
    assert group.examples == ["'INF404'"]
    assert counts(seeded)["posts"] == 2


def test_gender_and_platform_are_normalised_and_typos_get_a_suggestion(store, tmp_path):
    content = (
        "influencer_id,name,category,gender,follower_count,platform\n"
        "A,Ann,fitness,F,12.5k,insta\n"
        'B,Bob,Health,MALE,"1,20,000",YT\n'
        "C,Cy,Kids,non-binary,2M,X\n"
        "D,Di,Kids,Female,10,Instagarm\n"
    )
    file = load(store, write(tmp_path, "i.csv", content)).files[0]
    got = rows(store, models.influencers, "influencer_id", "gender", "follower_count", "platform")
    assert got == [
        ("A", "Female", 12500, "Instagram"),
        ("B", "Male", 120000, "YouTube"),
        ("C", "Other", 2000000, "Twitter"),
    ]
    [group] = file.sheets[0].rejects
    assert group.lines == [5]
    assert group.examples == ["'Instagarm' — did you mean Instagram?"]


def test_likes_above_reach_are_accepted_but_negative_counts_are_not(seeded, tmp_path):
    content = (
        "post_id,influencer_id,platform,date,reach,likes,comments\n"
        "P1,INF1,Instagram,2025-01-05,10,500,40\n"
        "P2,INF1,Instagram,2025-01-05,10,-5,40\n"
    )
    file = load(seeded, write(tmp_path, "p.csv", content)).files[0]
    assert file.total("inserted") == 1
    assert [g.reason for g in file.sheets[0].rejects] == ["likes is negative"]


@pytest.mark.parametrize(
    ("cells", "expected", "note"),
    [
        (["13/01/2025", "02/03/2025"], [dt.date(2025, 1, 13), dt.date(2025, 3, 2)], False),
        (["01/13/2025", "02/03/2025"], [dt.date(2025, 1, 13), dt.date(2025, 2, 3)], False),
        (["02/03/2025", "2025-03-04"], [dt.date(2025, 3, 2), dt.date(2025, 3, 4)], True),
        (["5-Jan-2025", "2025-01-06 00:00:00"], [dt.date(2025, 1, 5), dt.date(2025, 1, 6)], False),
        (["13.01.25", "Jan 7, 2025"], [dt.date(2025, 1, 13), dt.date(2025, 1, 7)], False),
    ],
)
def test_dates_in_common_forms(seeded, tmp_path, cells, expected, note):
    lines = [f'P{i},INF1,Instagram,"{c}",1,1,1' for i, c in enumerate(cells)]
    content = "post_id,influencer_id,platform,date,reach,likes,comments\n" + "\n".join(lines)
    file = load(seeded, write(tmp_path, "p.csv", content)).files[0]
    assert file.status == "loaded", file.sheets[0].rejects
    assert [r[0] for r in rows(seeded, models.posts, "date")] == sorted(expected)
    assert any("read day-first" in n for n in file.sheets[0].notes) == note


def test_month_first_setting_reads_ambiguous_dates_month_first(seeded, tmp_path):
    header = "post_id,influencer_id,platform,date,reach,likes,comments"
    content = f"{header}\nP1,INF1,IG,02/03/2025,1,1,1"
    load(seeded, write(tmp_path, "p.csv", content), date_order="mdy")
    assert rows(seeded, models.posts, "date") == [(dt.date(2025, 2, 3),)]


# --- formats ------------------------------------------------------------------------------


def test_excel_csv_with_bom_and_semicolons(seeded, tmp_path):
    content = "\ufeff" + TRACKING_CSV.replace(",", ";")
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "loaded", file.message
    assert file.total("inserted") == 3


def test_tab_delimited(seeded, tmp_path):
    file = load(seeded, write(tmp_path, "t.tsv", TRACKING_CSV.replace(",", "\t"))).files[0]
    assert file.total("inserted") == 3


def test_latin1_and_cp1252_text(store, tmp_path):
    content = (
        "influencer_id,name,category,gender,follower_count,platform\n"
        "J1,José Müller,Fitness,Male,100,Instagram\n"
        "J2,Zoë “Fit” Dsouza,Beauty,Female,200,Instagram\n"
    )
    load(store, write(tmp_path, "i.csv", content, encoding="cp1252"))
    assert rows(store, models.influencers, "name") == [("José Müller",), ("Zoë “Fit” Dsouza",)]
    latin1 = "influencer_id,name,category,gender,follower_count,platform\nJ3,Ñandú,Kids,F,5,IG\n"
    load(store, write(tmp_path, "l.csv", latin1.encode("latin-1") + b""))
    assert ("Ñandú",) in rows(store, models.influencers, "name")


def test_latin1_byte_deep_in_an_ascii_file_is_read_right(store, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_BLOCK", 64)  # the odd byte lands far past the first block
    lines = [f"I{i},Name {i},Fitness,Male,{i},Instagram" for i in range(200)]
    lines.append("I999,Renée,Fitness,Female,5,Instagram")
    content = "influencer_id,name,category,gender,follower_count,platform\n" + "\n".join(lines)
    load(store, write(tmp_path, "i.csv", content, encoding="cp1252"))
    assert ("Renée",) in rows(store, models.influencers, "name")


def _workbook(tmp_path, sheets: dict[str, list[list]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, data in sheets.items():
        ws = wb.create_sheet(title)
        for row in data:
            ws.append(row)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def test_xlsx_loads_every_sheet_whose_header_fits_posts_after_influencers(store, tmp_path):
    path = _workbook(
        tmp_path,
        {
            "Posts": [
                ["Post ID", "Influencer ID", "Platform", "Date", "Reach", "Likes", "Comments"],
                ["P1", "X1", "Instagram", dt.datetime(2025, 1, 5), 1000.0, 50, 5],
            ],
            "Read me": [["This workbook holds our creators"]],
            "Creators": [
                ["influencer_id", "name", "category", "gender", "follower_count", "platform"],
                ["X1", "Kabir Shah", "Fitness", "Male", 45000, "Instagram"],
                [None, None, None, None, None, None],
                ["X2", "Nia Das", "Beauty", "Female", -3, "Instagram"],
            ],
        },
    )
    file = load(store, path).files[0]
    assert file.status == "partial"
    assert [(s.sheet, s.kind) for s in file.sheets] == [
        ("Creators", "influencers"),
        ("Posts", "posts"),
    ]
    assert file.sheets[0].rejects[0].lines == [4]  # the spreadsheet's row number
    assert file.sheets[0].blank_lines == 1
    assert any("Read me" in n for n in file.sheets[0].notes)
    assert rows(store, models.posts, "post_id", "date", "reach") == [
        ("P1", dt.date(2025, 1, 5), 1000)
    ]


def test_xlsx_whose_sheets_fit_no_kind_is_refused_with_the_header_error(store, tmp_path):
    path = _workbook(tmp_path, {"Sheet1": [["a", "b"], [1, 2]]})
    file = load(store, path).files[0]
    assert file.status == "refused"
    assert "fits no kind" in file.message


# --- refusals: each a clear message, nothing written ------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (INFLUENCERS_CSV.splitlines()[0].encode() + b"\n", "header but no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not a CSV or XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old Excel .xls"),
        (b"PK\x03\x04" + b"\x00" * 100, "not an Excel workbook"),
        # Blank lines above a header are skipped (issue 14); this header fits no kind.
        (b"\n\ninfluencer_id,name\n", "the header fits no kind"),
        (
            b"influencer_id,name,category,gender,follower_count,platform\n"
            b"A,B,C,Male,1,Instagram,extra,cells\n",
            "malformed",
        ),
    ],
)
def test_unusable_files_are_refused_whole(seeded, tmp_path, content, message):
    before = snapshot(seeded)
    file = load(seeded, write(tmp_path, "f.csv", content)).files[0]
    assert file.status == "refused"
    assert message in file.message
    assert snapshot(seeded) == before


def test_a_file_with_no_valid_row_is_refused(seeded, tmp_path):
    before = snapshot(seeded)
    header = "post_id,influencer_id,platform,date,reach,likes,comments"
    content = f"{header}\nP9,NOPE,IG,2025-01-01,1,1,1"
    file = load(seeded, write(tmp_path, "p.csv", content)).files[0]
    assert file.status == "refused"
    assert "no valid row" in file.message
    assert snapshot(seeded) == before


def test_a_slack_upload_over_the_size_limit_is_refused_unread(seeded, tmp_path):
    before = snapshot(seeded)
    big = POSTS_CSV + "P9,INF1,Instagram,2025-01-05,1,1,1,,\n" * 30000  # ~1.1 MB
    # MAX_UPLOAD_MB is for Slack uploads only (issue 14): a local file of any size loads.
    upload = Upload.from_path(write(tmp_path, "big.csv", big))
    file = ingest_files(seeded, [upload], Origin("slack", "U1"), Options(max_upload_mb=1)).files[0]
    assert file.status == "refused"
    assert "over the 1 MB limit" in file.message
    assert snapshot(seeded) == before


# --- transactions -------------------------------------------------------------------------


def test_a_crash_midway_leaves_the_store_as_it_was(seeded, tmp_path, monkeypatch):
    load(seeded, write(tmp_path, "t.csv", TRACKING_CSV))
    before = snapshot(seeded)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    calls = {"n": 0}
    real_add = load_module.Stager.add

    def flaky_add(self, frame):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OperationalError("COPY", {}, Exception("server closed the connection"))
        real_add(self, frame)

    monkeypatch.setattr(load_module.Stager, "add", flaky_add)
    lines = [f"influencer,INF1,MuscleBlaze,Whey,2025-02-{d:02d},1,100" for d in range(1, 9)]
    content = "source,influencer_id,brand,product,date,orders,revenue\n" + "\n".join(lines)
    file = load(seeded, write(tmp_path, "t2.csv", content)).files[0]
    assert calls["n"] == 3  # it did get midway
    assert file.status == "failed"
    assert "nothing from this file was saved" in file.message
    assert snapshot(seeded) == before


def _slow_writes(monkeypatch, fail_on: int | None = None) -> dict[str, int]:
    """Stager writes that take a while (so the next chunk is parsed meanwhile) and may fail."""
    seen = {"started": 0, "finished": 0}
    real_write = load_module.Stager._write

    def write_slowly(self, batch):
        seen["started"] += 1
        time.sleep(0.2)
        try:
            if seen["started"] == fail_on:
                raise OperationalError("COPY", {}, Exception("server closed the connection"))
            real_write(self, batch)
        finally:
            seen["finished"] += 1

    monkeypatch.setattr(load_module.Stager, "_write", write_slowly)
    return seen


def test_a_write_failing_behind_the_parse_fails_the_file_and_keeps_the_store(
    seeded, tmp_path, monkeypatch
):
    before = snapshot(seeded)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    seen = _slow_writes(monkeypatch, fail_on=2)
    lines = [f"influencer,INF1,MuscleBlaze,Whey,2025-02-{d:02d},1,100" for d in range(1, 9)]
    content = "source,influencer_id,brand,product,date,orders,revenue\n" + "\n".join(lines)
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "failed"
    assert "nothing from this file was saved" in file.message
    assert "OperationalError" not in file.message and "COPY" not in file.message
    assert seen["started"] == seen["finished"] >= 2
    assert snapshot(seeded) == before
    monkeypatch.undo()
    assert load(seeded, write(tmp_path, "t2.csv", content)).files[0].status == "loaded"


def test_a_file_refused_midway_waits_for_the_chunk_being_written(seeded, tmp_path, monkeypatch):
    """A malformed line found while an earlier chunk is still being written: the file is
    refused only once that write is over, so the rollback never races it on the connection."""
    before = snapshot(seeded)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    seen = _slow_writes(monkeypatch)
    lines = [f"influencer,INF1,MuscleBlaze,Whey,2025-02-{d:02d},1,100" for d in range(1, 9)]
    lines.append('influencer,INF1,"MuscleBlaze,Whey,2025-02-10,1,100')
    content = "source,influencer_id,brand,product,date,orders,revenue\n" + "\n".join(lines)
    file = load(seeded, write(tmp_path, "t.csv", content)).files[0]
    assert file.status == "refused", file.message
    assert "quote opened on line 10" in file.message
    assert seen["started"] == seen["finished"] >= 2
    assert snapshot(seeded) == before
    good = "source,influencer_id,brand,product,date,orders,revenue\n" + "\n".join(lines[:-1])
    assert load(seeded, write(tmp_path, "t2.csv", good)).files[0].status == "loaded"


def _tracking_schema(engine) -> tuple[list, list, list]:
    """tracking's secondary indexes, foreign keys and primary key as the catalog has them."""
    inspector = inspect(engine)
    indexes = sorted(
        (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes("tracking")
    )
    keys = sorted(
        (k["name"], tuple(k["constrained_columns"]), k["referred_table"])
        for k in inspector.get_foreign_keys("tracking")
    )
    return indexes, keys, inspector.get_pk_constraint("tracking")["constrained_columns"]


@pytest.fixture
def bulk_loads(monkeypatch) -> list[int]:
    """Bulk loads from 2 rows on; the list grows by one per load that took the bulk path."""
    monkeypatch.setattr(load_module, "BULK_MIN_ROWS", 2)
    taken: list[int] = []
    real = bulk.DeferredIndexes.read

    def read(conn, table, empty):
        if table == "tracking":
            taken.append(1)
        return real(conn, table, empty)

    monkeypatch.setattr(bulk.DeferredIndexes, "read", staticmethod(read))
    return taken


def test_a_bulk_first_load_counts_exactly_and_puts_back_every_index_and_key(
    seeded, tmp_path, bulk_loads
):
    before = _tracking_schema(seeded)
    assert all(before)  # there is something to drop and put back
    header = "tracking_id,source,influencer_id,brand,product,date,orders,revenue\n"
    lines = [
        f"T{i},influencer,INF{i % 3 + 1},MB,Whey,2025-01-{i % 28 + 1:02d},{i},{i}0.50"
        for i in range(30)
    ]
    lines += [
        "T5,influencer,INF1,MB,Whey,2025-02-01,99,990.00",
        "T99,influencer,NOPE,MB,Whey,2025-01-01,1,1",
    ]
    file = load(seeded, write(tmp_path, "t.csv", header + "\n".join(lines))).files[0]
    assert bulk_loads == [1]
    assert file.status == "partial", file.message
    assert (file.total("inserted"), file.total("updated"), file.total("unchanged")) == (30, 0, 0)
    assert file.sheets[0].duplicates == 1 and file.total("rejected") == 1
    assert file.sheets[0].rejects[0].lines == [33]
    assert _tracking_schema(seeded) == before
    with seeded.connect() as conn:
        t = models.tracking
        latest = conn.execute(select(t.c.orders, t.c.date).where(t.c.row_key == "id:T5")).one()
    assert tuple(latest) == (99, dt.date(2025, 2, 1))  # the later line of a repeated id wins
    # The foreign key is back and enforced, not just listed.
    with pytest.raises(IntegrityError), seeded.begin() as conn:
        conn.execute(
            insert(models.tracking).values(
                row_key="x", source="s", influencer_id="NOPE", brand="b", product="p",
                date=dt.date(2025, 1, 1), orders=1, revenue=1,
            )
        )  # fmt: skip
    # A load no bigger than the table is an ordinary upsert, with the indexes in place.
    again = header + "\n".join(lines[:3]) + "\nT1,influencer,INF2,MB,Whey,2025-01-02,7,70.00"
    file = load(seeded, write(tmp_path, "t2.csv", again)).files[0]
    assert bulk_loads == [1]
    assert (file.total("inserted"), file.total("updated"), file.total("unchanged")) == (0, 1, 2)


def test_a_bulk_load_failing_after_dropping_the_indexes_leaves_them_and_the_table(
    seeded, tmp_path, bulk_loads, monkeypatch
):
    before, rows_before = _tracking_schema(seeded), snapshot(seeded)

    def broken(self, conn):
        raise OperationalError("CREATE INDEX", {}, Exception("out of disk space"))

    monkeypatch.setattr(bulk.DeferredIndexes, "put_back", broken)
    file = load(seeded, write(tmp_path, "t.csv", TRACKING_CSV)).files[0]
    assert bulk_loads == [1]
    assert file.status == "failed"
    assert _tracking_schema(seeded) == before
    assert snapshot(seeded) == rows_before


def _every_table(conn) -> dict[str, list[tuple]]:
    """Every table but the uploads record, sums rounded to what adding in another order moves."""

    def cell(v):
        return round(v, 6) if isinstance(v, float) else v

    return {
        t.name: sorted(tuple(map(cell, r)) for r in conn.execute(select(t)))
        for t in models.metadata.sorted_tables
        if t is not models.uploads
    }


def test_files_shared_together_load_one_at_a_time_each_whole(store, tmp_path, bulk_loads):
    """Four files at once into a new store, as when they are shared in one Slack message: on
    PostgreSQL each rebuilt the empty derived tables and dropped indexes at the same time, and
    one or two files failed on a deadlock or a duplicate key."""
    assert load(store, SAMPLE / "influencers.csv").ok
    header, *lines = (SAMPLE / "tracking_data.csv").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    paths = [
        write(tmp_path, "week1.csv", header + "".join(lines[:half])),
        write(tmp_path, "week2.csv", header + "".join(lines[half:])),
        SAMPLE / "posts.csv",
        SAMPLE / "payouts.csv",
    ]
    start = threading.Barrier(len(paths))

    def go(path):
        start.wait(10)
        return load(store, path).files[0]

    with ThreadPoolExecutor(len(paths)) as pool:
        results = list(pool.map(go, paths))
    assert [(r.status, r.total("inserted")) for r in results] == [
        ("loaded", half), ("loaded", len(lines) - half), ("loaded", 77), ("loaded", 12)
    ]  # fmt: skip
    assert len(bulk_loads) >= 1
    with store.connect() as conn, conn.begin() as tx:
        loaded = _every_table(conn)
        derived.rebuild_all(conn)
        assert _every_table(conn) == loaded  # every derived row as a rebuild from scratch has it
        tx.rollback()


def test_an_xlsx_failing_in_its_second_sheet_keeps_nothing_of_the_first(store, tmp_path):
    path = _workbook(
        tmp_path,
        {
            "Creators": [
                ["influencer_id", "name", "category", "gender", "follower_count", "platform"],
                ["X1", "Kabir Shah", "Fitness", "Male", 45000, "Instagram"],
            ],
            "Posts": [
                ["post_id", "influencer_id", "platform", "date", "reach", "likes", "comments"],
                ["P1", "X1", "Instagram", "2025-01-05", 1, 1, 1],
            ],
        },
    )
    real_finish = load_module.Stager.finish

    def fail_on_posts(self):
        if self.table.name == "posts":
            raise OperationalError("INSERT", {}, Exception("disk full"))
        return real_finish(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(load_module.Stager, "finish", fail_on_posts)
        file = load(store, path).files[0]
    assert file.status == "failed"
    assert counts(store) == {"influencers": 0, "posts": 0, "tracking": 0, "payouts": 0}


def test_a_batch_loads_in_dependency_order_whatever_the_argument_order(store, tmp_path):
    result = load(
        store,
        write(tmp_path, "3.csv", PAYOUTS_CSV),
        write(tmp_path, "2.csv", TRACKING_CSV),
        write(tmp_path, "1.csv", POSTS_CSV),
        write(tmp_path, "0.csv", INFLUENCERS_CSV),
    )
    assert result.ok, [f.message for f in result.files]
    assert [f.filename for f in result.files] == ["3.csv", "2.csv", "1.csv", "0.csv"]
    assert counts(store) == {"influencers": 3, "posts": 2, "tracking": 3, "payouts": 2}


# --- the uploads record -------------------------------------------------------------------


def test_every_ingest_is_recorded_in_uploads(store):
    engine = store
    ok = ingest_bytes(engine, INFLUENCERS_CSV.encode(), "people.csv", Origin("slack", "U1", "C9"))
    again = ingest_bytes(engine, INFLUENCERS_CSV.encode(), "copy.csv", Origin("slack", "U2", "C9"))
    bad = ingest_bytes(engine, b"", "empty.csv", Origin("slack", "U1", "C9"))
    assert (ok.status, again.status, bad.status) == ("loaded", "already_loaded", "refused")
    u = models.uploads
    with engine.connect() as conn:
        recorded = conn.execute(
            select(
                u.c.filename, u.c.kinds, u.c.origin, u.c.uploaded_by, u.c.channel, u.c.status,
                u.c.rows_seen, u.c.rows_inserted, u.c.rows_rejected, u.c.sha256,
            ).order_by(u.c.id)
        ).all()  # fmt: skip
    assert [tuple(r)[:9] for r in recorded] == [
        ("people.csv", "influencers", "slack", "U1", "C9", "loaded", 3, 3, 0),
        ("copy.csv", "-", "slack", "U2", "C9", "already_loaded", 0, 0, 0),
        ("empty.csv", "-", "slack", "U1", "C9", "refused", 0, 0, 0),
    ]
    assert recorded[0].sha256 == recorded[1].sha256 == ok.sha256


def test_a_file_that_had_rejections_is_processed_again_on_reupload(store, tmp_path):
    posts = write(tmp_path, "p.csv", POSTS_CSV)
    first = load(store, posts).files[0]
    assert first.status == "refused"  # no influencers yet
    load(store, write(tmp_path, "i.csv", INFLUENCERS_CSV))
    second = load(store, posts).files[0]
    assert second.status == "loaded"
    assert second.total("inserted") == 2


def test_progress_is_reported_up_to_the_whole_file(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_ROWS", 100)
    lines = [f"influencer,INF1,MuscleBlaze,Whey,2025-02-01,1,{i}" for i in range(1000)]
    path = write(
        tmp_path,
        "t.csv",
        "source,influencer_id,brand,product,date,orders,revenue\n" + "\n".join(lines),
    )
    seen: list[tuple[str, int, int]] = []
    result = ingest_files(seeded, [Upload.from_path(path)], progress=lambda *a: seen.append(a))
    assert result.ok
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and len(done) > 1
    assert seen[-1] == ("t.csv", path.stat().st_size, path.stat().st_size)


def test_cells_with_line_breaks_and_bare_carriage_returns_load_intact(store, tmp_path):
    content = (
        "influencer_id,name,category,gender,follower_count,platform\n"
        'A,"Asha\rRao",Fitness,F,10,IG\n'
        'B,"Ravi\nKumar",Health,M,20,IG\n'
        'C,"Meera\r\nIyer",Kids,F,30,IG\n'
    )
    file = load(store, write(tmp_path, "i.csv", content)).files[0]
    assert file.status == "loaded", file.message
    names = dict(rows(store, models.influencers, "influencer_id", "name"))
    assert names["A"] == "Asha\rRao" and names["B"] == "Ravi\nKumar"
    assert names["C"] in ("Meera\r\nIyer", "Meera\nIyer")


def test_a_driver_error_while_staging_is_a_failed_result_not_an_exception(
    seeded, tmp_path, monkeypatch
):
    before = snapshot(seeded)

    def broken(self, work, sql):
        raise load_module.DBAPIError.instance(sql, None, ValueError("boom"), ValueError)

    monkeypatch.setattr(load_module.Stager, "_raw", broken)
    file = load(seeded, write(tmp_path, "t.csv", TRACKING_CSV)).files[0]
    assert file.status == "failed"
    assert snapshot(seeded) == before
