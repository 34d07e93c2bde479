"""Text that is safe to hand to a spreadsheet: one rule for every CSV roasbot writes.

A cell that starts with = + - @ (or a tab or carriage return) is a formula to Excel, LibreOffice
and Google Sheets; an influencer named "=HYPERLINK(...)" in an answer export, or a hostile cell
echoed back in a rejected-rows file, must not become one. Such text gets a leading apostrophe,
the convention spreadsheets themselves use for "this is text"; numbers stay numbers. Pure and
dependency-free, so `storage` (rejected rows) and `bot` (answer exports) share it.
"""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value` as a CSV cell that no spreadsheet will run; None becomes an empty cell."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value
