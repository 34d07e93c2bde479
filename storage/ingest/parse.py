"""Checking and normalising raw cells, a chunk at a time, into rows ready for the store.

Validation is vectorised: a clean value takes pandas' C fast path, and only values that fail it
(currency signs, "12.5k", day-first dates...) go through the slower tolerant parsers. Each
rejected row keeps its line number, its raw values and one reason naming the column and value,
so a marketer can fix the cell and upload again.

Numbers are read the way the file writes them. "1.299,50" (decimal comma, European exports)
and "1,299.50" (decimal point) are both common, and "1,299" or "1.299" alone could be either:
reading "12,50" as 1250 is exactly the silent misread that must never reach the store. So
every number is tried both ways (a grouping separator only ever stands before three digits),
the first one in the file that only one way reads settles the file's convention (as the first
unambiguous date settles the date order), and a value that stays ambiguous is read the one way
a count can be (whole), by the comma-delimited default (a decimal comma in a comma-separated
file would have to be quoted), or rejected saying why. Bounds come from the store's columns, so
a number that PostgreSQL would refuse is rejected the same way on SQLite, and nothing either
store cannot hold exactly (2^53 for a float64 count, NUMERIC(14, 2) for money) reaches it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from storage.ingest.kinds import Field, FieldType, Kind, value_limit
from storage.ingest.readers import EXTRA, LINE
from storage.ingest.results import quoted

REASON = "__reason__"  # why a row was rejected, the same text for the same problem
VALUE = "__value__"  # the offending cell, for the message

GENDERS = {
    "male": "Male", "m": "Male", "man": "Male",
    "female": "Female", "f": "Female", "woman": "Female",
    "other": "Other", "non-binary": "Other", "nonbinary": "Other", "non binary": "Other",
    "nb": "Other", "unknown": "Unknown", "prefer not to say": "Unknown", "na": "Unknown",
    "n/a": "Unknown",
}  # fmt: skip
PLATFORMS = {
    "instagram": "Instagram", "insta": "Instagram", "ig": "Instagram",
    "youtube": "YouTube", "you tube": "YouTube", "yt": "YouTube", "youtube shorts": "YouTube",
    "twitter": "Twitter", "x": "Twitter", "x (twitter)": "Twitter", "twitter/x": "Twitter",
    "facebook": "Facebook", "fb": "Facebook", "tiktok": "TikTok", "tik tok": "TikTok",
    "linkedin": "LinkedIn", "snapchat": "Snapchat", "pinterest": "Pinterest",
    "threads": "Threads", "moj": "Moj", "josh": "Josh", "sharechat": "ShareChat",
    "blog": "Blog", "podcast": "Podcast",
}  # fmt: skip
_LOOKUPS = {
    FieldType.GENDER: {v.lower(): v for v in GENDERS.values()},
    FieldType.PLATFORM: {v.lower(): v for v in PLATFORMS.values()},
}
BASIS_SYNONYMS = {"per post": "post", "per order": "order", "per sale": "sale", "fixed": "flat"}

_NUMBER = re.compile(
    r"^\(?\s*(?P<neg>-)?\s*(?:₹|rs\.?|inr|us\$|\$|€|£)?\s*(?P<neg2>-)?\s*"
    r"(?P<num>[.,]?\d[\d.,\s]*)\s*(?P<suffix>[kmb])?\s*(?:/-|₹|€|eur|inr)?\s*\)?$",
    re.IGNORECASE,
)
# A number as each convention writes it: groups of three (or the Indian 2-2-3) after a first
# group that does not start with 0, or no grouping at all; then the decimal part.
_POINT = r"(?:[1-9]\d{0,2}(?:,\d{2,3})*,\d{3}|\d+)?(?:\.\d*)?"
_COMMA = r"(?:[1-9]\d{0,2}(?:\.\d{2,3})*\.\d{3}|\d+)?(?:,\d*)?"
_SEPARATED = r"\d[.,]\d|[.,]\d"  # a value whose reading may depend on the convention
_NUMERIC = (FieldType.COUNT, FieldType.MONEY, FieldType.DECIMAL)
_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})$")
_NAMED_DATE_FORMATS = ("%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d-%B-%Y", "%d %B %Y", "%B %d, %Y",
                       "%d-%b-%y", "%Y/%m/%d")  # fmt: skip


@dataclass
class ParseContext:
    """What parsing one file needs to know beyond the cells themselves.

    `date_order` starts as the setting and is settled by the first unambiguous date in the file
    (a 13 in the first position means day-first), then kept for the rest of the file.
    """

    known_influencers: set[str] | None
    default_date_order: str = "dmy"
    date_order: str | None = None
    earliest_date: dt.date = dt.date(2000, 1, 1)
    latest_date: dt.date = dt.date(2100, 1, 1)
    decimal: str | None = None  # "." or ",", once a number in the file settles it
    default_decimal: str | None = None  # how an ambiguous amount is read before that, if at all
    notes: list[str] = field(default_factory=list)


@dataclass
class ParsedChunk:
    rows: pd.DataFrame  # the table's columns, typed, plus LINE
    rejected: pd.DataFrame  # the raw columns plus LINE and REASON
    blank_lines: int


def parse_chunk(chunk: pd.DataFrame, kind: Kind, ctx: ParseContext) -> ParsedChunk:
    """Typed rows for `kind` from one chunk of raw text; bad rows are set aside with a reason.

    A rejected row gets the first problem found, in column order: one clear thing to fix.
    """
    blank = _blank_rows(chunk)
    chunk = chunk.loc[~blank]
    reasons = pd.Series(None, index=chunk.index, dtype=object)
    culprit = pd.Series(None, index=chunk.index, dtype=object)
    if EXTRA in chunk.columns:
        wide = chunk[EXTRA] != ""
        reasons[wide] = "the row is malformed: more cells than the header has columns"
        culprit[wide] = EXTRA
    _settle_decimal(chunk, kind, ctx)
    out = pd.DataFrame(index=chunk.index)
    for f in kind.fields:
        raw = chunk[f.name] if f.name in chunk.columns else pd.Series("", index=chunk.index)
        values, errors = _parse_distinct(raw.astype(str), f, kind, ctx)
        out[f.name] = values
        flagged = errors.notna()
        if flagged.any():
            first = reasons.isna() & flagged
            reasons[first] = errors[first]
            culprit[first] = f.name
    if ctx.known_influencers is not None and "influencer_id" in out.columns:
        ids = out["influencer_id"]
        unknown = ids.notna() & ~ids.isin(ctx.known_influencers) & reasons.isna()
        _flag(
            reasons, unknown, "influencer_id is not a known influencer (load the influencers first)"
        )
        _flag(culprit, unknown, "influencer_id")
    bad = reasons.notna()
    rows = out.loc[~bad].copy()
    rows[LINE] = chunk.loc[~bad, LINE].to_numpy()
    _add_row_key(rows, kind)
    rejected = chunk.loc[bad].copy()
    rejected[REASON] = reasons[bad]
    rejected[VALUE] = [
        _shown_value(rejected.at[i, c] if c in rejected.columns else "", kind, c)
        for i, c in culprit[bad].items()
    ]
    return ParsedChunk(rows, rejected, int(blank.sum()))


def _flag(target: pd.Series, where: pd.Series, value: str) -> None:
    """`target[where] = value`, skipped when nothing is flagged: most columns of most chunks
    have no problem, and a masked assignment costs about a millisecond even when it sets
    nothing (a third of the parse time at 1 M clean rows)."""
    if where.any():
        target[where] = value


def _blank_rows(chunk: pd.DataFrame) -> pd.Series:
    """Rows whose every cell is empty or spaces.

    Only rows still blank so far are looked at in the next column, so a file with no blank line
    costs one column's strip, not one per column.
    """
    blank = pd.Series(True, index=chunk.index)
    for name in (c for c in chunk.columns if c != LINE):
        candidates = blank[blank].index
        if candidates.empty:
            break
        blank[candidates] = chunk.loc[candidates, name].str.strip() == ""
    return blank


def _parse_distinct(
    raw: pd.Series, f: Field, kind: Kind, ctx: ParseContext
) -> tuple[pd.Series, pd.Series]:
    """`_parse_field` on each distinct cell once, the results spread back over the rows.

    Exports repeat a few values endlessly (sources, brands, products, dates, small counts), and
    the string methods run a Python call per cell: parsing the few hundred distinct cells of a
    chunk instead of its 50,000 is most of the parse time saved. Mostly-distinct columns (ids,
    amounts) are parsed directly, as factorising them gains nothing. pyarrow finds the distinct
    cells on the Arrow strings pandas holds them in: factorising them as Python objects was 30%
    of the parse time at 1 M rows.
    """
    cells = pa.array(raw)  # chunked when pandas concatenated the column
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    encoded = pc.dictionary_encode(cells)
    if len(encoded.dictionary) * 4 > len(raw):
        return _parse_field(raw, f, kind, ctx)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    values, errors = _parse_field(pd.Series(encoded.dictionary, dtype=str), f, kind, ctx)
    return (
        pd.Series(values.to_numpy(dtype=object)[codes], index=raw.index, dtype=object),
        pd.Series(errors.to_numpy(dtype=object)[codes], index=raw.index, dtype=object),
    )


def _shown_value(value: str, kind: Kind, column: str) -> str:
    """The offending cell as the user typed it (a short prefix of a long one), with a
    suggestion where one is close."""
    shown = quoted(value.strip())
    allowed = _LOOKUPS.get(next((f.type for f in kind.fields if f.name == column), None))
    if allowed:
        close = difflib.get_close_matches(value.strip().lower(), list(allowed), n=1, cutoff=0.6)
        if close:
            shown += f" — did you mean {allowed[close[0]]}?"
    return shown


def _parse_field(
    raw: pd.Series, f: Field, kind: Kind, ctx: ParseContext
) -> tuple[pd.Series, pd.Series]:
    text = raw.str.strip()
    empty = text == ""
    if f.type in _NUMERIC:
        values, errors = _parse_number(text, f, value_limit(kind, f), ctx)
    elif f.type is FieldType.DATE:
        values, errors = _parse_date(text, f, ctx)
    else:
        values, errors = _parse_text(text, f)
    errors = errors.where(~empty, None)
    if f.nullable:
        values = values.where(~empty, None)
    else:
        errors = errors.where(~empty, f"{f.name} is empty")
    # PostgreSQL text cannot hold a NUL character; SQLite would store it: neither does.
    errors = errors.where(~raw.str.contains("\x00", regex=False), f"{f.name} holds a NUL character")
    return values, errors


def _parse_text(text: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    errors = pd.Series(None, index=text.index, dtype=object)
    if f.type is FieldType.LABEL:
        text = text.str.replace(r"\s+", " ", regex=True)
    elif f.type is FieldType.GENDER:
        return _lookup(text, f, GENDERS)
    elif f.type is FieldType.PLATFORM:
        return _lookup(text, f, PLATFORMS)
    elif f.type is FieldType.BASIS:
        lowered = text.str.lower().str.replace(r"[\s_]+", " ", regex=True)
        text = lowered.replace(BASIS_SYNONYMS)
    if f.max_length is not None:
        long = text.str.len() > f.max_length
        _flag(errors, long, f"{f.name} is longer than {f.max_length} characters")
    return text.astype(object), errors


def _lookup(text: pd.Series, f: Field, table: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    key = text.str.lower().str.replace(r"\s+", " ", regex=True)
    values = key.map(table)
    errors = pd.Series(None, index=text.index, dtype=object)
    allowed = ", ".join(sorted(set(table.values())))
    _flag(errors, values.isna() & (text != ""), f"{f.name} is not one of {allowed}")
    return values.astype(object), errors


def _readings(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Each value read with a decimal point and with a decimal comma (NaN where it cannot be),
    and its sign and suffix parts."""
    parts = text.str.extract(_NUMBER)
    digits = parts["num"].str.replace(r"\s", "", regex=True)
    point = digits.where(digits.str.fullmatch(_POINT).fillna(False).astype(bool))
    comma = digits.where(digits.str.fullmatch(_COMMA).fillna(False).astype(bool))
    as_point = pd.to_numeric(point.str.replace(",", "", regex=False), errors="coerce")
    as_comma = pd.to_numeric(
        comma.str.replace(".", "", regex=False).str.replace(",", ".", regex=False),
        errors="coerce",
    )
    return as_point.astype("float64"), as_comma.astype("float64"), parts


def _settle_decimal(chunk: pd.DataFrame, kind: Kind, ctx: ParseContext) -> None:
    """Settles `ctx.decimal` from the first number of the chunk that only one convention reads.

    Runs until a chunk settles it; values with no separator between digits (most of them)
    are not looked at.
    """
    if ctx.decimal is not None:
        return
    found: list[tuple[int, str]] = []
    for f in kind.fields:
        if f.type not in _NUMERIC or f.name not in chunk.columns:
            continue
        text = chunk[f.name].str.strip()
        text = text[text.str.contains(_SEPARATED, regex=True)]
        if text.empty:
            continue
        point, comma, _ = _readings(text)
        only = point.isna() != comma.isna()
        if only.any():
            first = only.idxmax()
            found.append((int(chunk.at[first, LINE]), "." if point.notna()[first] else ","))
    if found:
        ctx.decimal = min(found)[1]
        if ctx.decimal == ",":
            ctx.notes.append("numbers were read with decimal commas (1.299,50 is 1299.50)")


def _parse_number(
    text: pd.Series, f: Field, limit: float, ctx: ParseContext
) -> tuple[pd.Series, pd.Series]:
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    if ctx.decimal != ".":  # to_numeric reads "1.299" with a decimal point
        values[text.str.contains(".", regex=False)] = np.nan
    errors = pd.Series(None, index=text.index, dtype=object)
    slow = values.isna() & (text != "")
    if slow.any():
        point, comma, parts = _readings(text[slow])
        number, problem = _choose(point, comma, f, ctx)
        scale = parts["suffix"].str.lower().map(_SUFFIX).fillna(1.0)
        negative = parts["neg"].notna() | parts["neg2"].notna() | text[slow].str.startswith("(")
        number = number * scale
        number[negative] = -number[negative]
        values[slow] = number.astype("float64")
        errors[slow] = problem
        _flag(errors, slow & values.isna() & errors.isna(), f"{f.name} is not a number")
    finite = np.isfinite(values)
    _flag(errors, ~finite & values.notna() & errors.isna(), f"{f.name} is not a finite number")
    _flag(errors, (values < 0) & errors.isna(), f"{f.name} is negative")
    shown = f"{limit:,.0f}" if f.type is FieldType.COUNT else f"{limit:,.2f}"
    _flag(errors, (values > limit) & errors.isna(), f"{f.name} is too large (at most {shown})")
    if f.type is FieldType.COUNT:
        fractional = values.notna() & finite & (values != np.floor(values)) & errors.isna()
        _flag(errors, fractional, f"{f.name} is not a whole number")
        ok = errors.isna() & values.notna()
        result = pd.Series(pd.NA, index=text.index, dtype="Int64")
        result[ok] = values[ok].astype("int64")
        return result.astype(object).where(ok, None), errors
    values = values.where(errors.isna())  # rejected values go, before rounding can overflow
    if f.type is FieldType.MONEY:
        values = values.round(2)
    return values.astype(object).where(values.notna(), None), errors


def _choose(
    point: pd.Series, comma: pd.Series, f: Field, ctx: ParseContext
) -> tuple[pd.Series, pd.Series]:
    """The reading of each value by the file's convention, and why a value has none."""
    problem = pd.Series(None, index=point.index, dtype=object)
    if ctx.decimal is not None:
        chosen, other = (point, comma) if ctx.decimal == "." else (comma, point)
        mark, theirs = ("comma", "point") if ctx.decimal == "." else ("point", "comma")
        problem[chosen.isna() & other.notna()] = (
            f"{f.name} is written with a decimal {mark}, but this file writes decimal {theirs}s"
        )
        return chosen, problem
    number = point.where(point.notna(), comma)
    ambiguous = point.notna() & comma.notna() & (point != comma)
    if not ambiguous.any():
        return number, problem
    if f.type is FieldType.COUNT:  # "1.299" orders: only 1299 is a whole number
        whole_comma = ambiguous & (comma == np.floor(comma)) & (point != np.floor(point))
        number[whole_comma] = comma[whole_comma]
        ambiguous &= (point != np.floor(point)) & (comma != np.floor(comma))
    if ctx.default_decimal is not None:
        default = point if ctx.default_decimal == "." else comma
        number[ambiguous] = default[ambiguous]
    else:
        number[ambiguous] = np.nan
        problem[ambiguous] = (
            f"{f.name} could be read with a decimal comma or a decimal point, and nothing else in "
            "the file says which (write it without a thousands separator)"
        )
    return number, problem


def _parse_date(text: pd.Series, f: Field, ctx: ParseContext) -> tuple[pd.Series, pd.Series]:
    values = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    errors = pd.Series(None, index=text.index, dtype=object)
    rest = values.isna() & (text != "")
    if rest.any():
        # ISO with a time part, as spreadsheets export datetimes.
        iso = text[rest].str.extract(r"^(\d{4}-\d{2}-\d{2})[ T]\d")[0]
        values[rest] = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
        rest = values.isna() & (text != "")
    if rest.any():
        values[rest] = _slashed_dates(text[rest], ctx)
        rest = values.isna() & (text != "")
    for fmt in _NAMED_DATE_FORMATS:
        if not rest.any():
            break
        values[rest] = pd.to_datetime(text[rest], format=fmt, errors="coerce")
        rest = values.isna() & (text != "")
    if rest.any():
        order = ctx.date_order or ctx.default_date_order
        shown = "DD/MM/YYYY" if order == "dmy" else "MM/DD/YYYY"
        _flag(errors, rest, f"{f.name} is not a date (use YYYY-MM-DD or {shown})")
    early = values < pd.Timestamp(ctx.earliest_date)
    late = values > pd.Timestamp(ctx.latest_date)
    _flag(errors, early, f"{f.name} is before {ctx.earliest_date:%Y-%m-%d}, the earliest accepted")
    _flag(errors, late, f"{f.name} is after {ctx.latest_date:%Y-%m-%d}, the latest accepted")
    values = values.where(~(early | late))
    dates = values.dt.date.astype(object).where(values.notna(), None)
    return dates, errors


def _slashed_dates(text: pd.Series, ctx: ParseContext) -> pd.Series:
    parts = text.str.extract(_SLASHED)
    a = pd.to_numeric(parts[0], errors="coerce")
    b = pd.to_numeric(parts[1], errors="coerce")
    year = pd.to_numeric(parts[2], errors="coerce")
    year = year.where(year >= 100, year + 2000)
    if ctx.date_order is None and parts[0].notna().any():
        if (a > 12).any():
            ctx.date_order = "dmy"
        elif (b > 12).any():
            ctx.date_order = "mdy"
        else:
            ctx.date_order = ctx.default_date_order
            shown = "day-first (DD/MM/YYYY)" if ctx.date_order == "dmy" else "month-first"
            ctx.notes.append(f"dates such as {text[parts[0].notna()].iloc[0]} were read {shown}")
    day, month = (a, b) if ctx.date_order == "dmy" else (b, a)
    frame = pd.DataFrame({"year": year, "month": month, "day": day})
    return pd.to_datetime(frame, errors="coerce")


def _add_row_key(rows: pd.DataFrame, kind: Kind) -> None:
    """The natural key: the row's own id, or a hash of its normalised values when it has none."""
    if not kind.hash_when_no_id:
        return
    ids = rows[kind.id_column]
    keys = ("id:" + ids.astype(str)).where(ids.notna(), None)
    missing = ids.isna()
    if missing.any():
        hashed = [f.name for f in kind.fields if f.name != kind.id_column]
        canonical = [_canonical(rows.loc[missing, name]) for name in hashed]
        joined = canonical[0].str.cat(canonical[1:], sep="\x1f")
        keys[missing] = [
            "h:" + hashlib.blake2b(s.encode(), digest_size=16).hexdigest() for s in joined
        ]
    rows["row_key"] = keys


def _canonical(values: pd.Series) -> pd.Series:
    """One spelling per typed value, so the same row hashes the same from any file or format."""
    return values.astype(object).where(values.notna(), "").astype(str)
