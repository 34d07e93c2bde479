"""Answer rows as CSV for spreadsheets, safe to open in Excel or Google Sheets.

A cell that starts with = + - @ (or a tab or carriage return) is a formula to a spreadsheet; an
influencer named "=HYPERLINK(...)" must not become one. Such text cells get a leading apostrophe,
the convention spreadsheets themselves use for "this is text"; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

from insights.catalogue import METRICS, SUMS
from insights.results import Answer, Explained
from storage.spreadsheet import safe_cell

_COLUMNS = ["key", "label", *(m.name for m in METRICS)]


def answer_csv(answer: Answer) -> bytes:
    """The rows with every figure; UTF-8 with a BOM so Excel shows ₹ and names right."""
    out = io.StringIO()
    writer = csv.writer(out)
    if isinstance(answer, Explained):
        _contributions(writer, answer)
        return out.getvalue().encode("utf-8-sig")
    writer.writerow(_COLUMNS)
    for row in answer.rows:
        writer.writerow([safe_cell(getattr(row, c, None)) for c in _COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _contributions(writer, answer: Explained) -> None:
    """`why`: every segment, its points and both windows' sums (they add up to the change)."""
    writer.writerow(["key", "label", "status", f"{answer.metric}_points", "points_as_numerator",
                     *(f"{s}_before" for s in SUMS), *(f"{s}_after" for s in SUMS)])  # fmt: skip
    for c in answer.contributions:
        writer.writerow([
            safe_cell(c.key), safe_cell(c.label), c.status, c.points, c.beyond,
            *(c.before.value(s) for s in SUMS), *(c.after.value(s) for s in SUMS),
        ])  # fmt: skip
