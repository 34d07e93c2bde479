import csv
import io

from bot.export import answer_csv, safe_cell
from insights.results import Answer, Row, Totals


def test_formula_like_text_is_escaped_and_numbers_are_not():
    assert [safe_cell(v) for v in ("=1+1", "+91", "-x", "@SUM(A1)", "\tx", "Asha", -5.0, None)] == [
        "'=1+1", "'+91", "'-x", "'@SUM(A1)", "'\tx", "Asha", -5.0, "",
    ]  # fmt: skip


def test_answer_csv_has_every_row_and_escapes_labels():
    evil = Row(key="=cmd|' /C calc'!A0", label='=HYPERLINK("http://x")', revenue=10.0, cost=20.0)
    rows = [evil, Row(key="B", label="Ravi", revenue=5.0, cost=0.0)]
    data = answer_csv(Answer("roas", {}, None, None, Totals(), rows=rows))
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["key"] for r in parsed] == ["'=cmd|' /C calc'!A0", "B"]
    assert parsed[0]["label"].startswith("'=HYPERLINK")
    assert (parsed[0]["roas"], parsed[1]["roas"]) == ("0.5", "")
