"""Answer rows as CSV for spreadsheets, safe to open in Excel or Google Sheets.

A cell that starts with = + - @ (or a tab or carriage return) is a formula to a spreadsheet; an
influencer named "=HYPERLINK(...)" must not become one. Such text cells get a leading apostrophe,
the convention spreadsheets themselves use for "this is text"; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

from insights.catalogue import METRICS
from insights.results import Answer
from storage.spreadsheet import safe_cell

_COLUMNS = ["key", "label", *(m.name for m in METRICS)]


def answer_csv(answer: Answer) -> bytes:
    """The rows with every figure; UTF-8 with a BOM so Excel shows ₹ and names right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_COLUMNS)
    for row in answer.rows:
        writer.writerow([safe_cell(getattr(row, c, None)) for c in _COLUMNS])
    return out.getvalue().encode("utf-8-sig")
