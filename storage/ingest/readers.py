"""Turning an uploaded file into a header and chunks of raw text cells.

Everything here is about the *format* (CSV flavour, encoding, XLSX); what the cells mean is
`parse`'s job. Files are streamed in chunks so memory does not grow with file size, and each row
carries the line number a spreadsheet would show (its row; the first row of the file is line 1).

Real exports are not tidy tables, so:
- The header is the first of the first `HEADER_SEARCH_ROWS` rows that fits a kind of data (the
  caller says what fits): reports put a title and a date range above the table.
- Text may be UTF-8 (with or without a BOM), UTF-16 with a BOM (Excel's "Unicode Text"),
  cp1252 or latin-1; the CSV delimiter is the one that makes a header of that row.
- A CSV row longer than its header is read whole: empty cells beyond the header (trailing
  delimiters) are dropped, anything else is marked in `EXTRA` for `parse` to reject that row.
  pandas is told the widest row of a sample; a wider row later restarts the reader after the
  rows already read with room for it, since pandas would otherwise stop there.
- A workbook is checked before openpyxl unpacks it: its unpacked size from the ZIP directory,
  then one streamed pass over its sheets and shared strings counting rows and measuring the
  longest text, against `WorkbookLimits`. A few MB of XLSX can unpack to tens of millions of
  rows (openpyxl spends minutes on them) or one 300-million-character string (openpyxl holds
  the whole string table in memory); the pass decompresses 1 MB at a time and scans it with
  numpy and bytes.count, about 1 s per 300 MB unpacked.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import io
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from storage.ingest.kinds import normalise_header

CHUNK_ROWS = 50_000
LINE = "__line__"  # column holding each row's spreadsheet line number
EXTRA = "__extra__"  # CSV only: the first non-empty cell beyond the header's columns, if any
HEADER_SEARCH_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
_BLOCK = 1 << 20
_SAMPLE_BYTES = 1 << 20  # the head of a CSV read to find its header and its widest row
_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"BZh", b"7z\xbc")
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\x0b\x0c\r") + b"\x7f"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# openpyxl warns about workbook features it ignores ("Workbook contains no default style",
# data validation extensions...); none of them changes a value we read, and a user must never
# see a library's warning. Installed once, for openpyxl's modules only.
warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")


class FormatError(ValueError):
    """The file cannot be read as CSV or XLSX; the message says why in the user's terms."""


@dataclass(frozen=True)
class WorkbookLimits:
    """What a workbook may hold before it is refused unread (settings XLSX_MAX_*)."""

    max_unpacked_mb: float = 512
    max_rows: int = 1_048_576  # Excel's own maximum
    max_cell_chars: int = 32_767  # Excel's own maximum


@dataclass(frozen=True)
class Upload:
    """A file to ingest: a path on disk (read as a stream) or bytes in memory.

    `filename` is the name shown to the user; a Slack upload spooled to a temporary file keeps
    the name it had in Slack: `Upload.from_path(tmp, filename="Nov payouts.csv")`.
    """

    filename: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], filename: str | None = None) -> Upload:
        p = Path(path)
        return cls(filename=filename or p.name, path=p)

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path is not None else len(self.data or b"")

    def open(self) -> io.BufferedIOBase:
        if self.path is not None:
            return open(self.path, "rb")
        return io.BytesIO(self.data or b"")


@dataclass
class Sheet:
    """One table in a file: a CSV, or one worksheet of a workbook."""

    name: str | None  # worksheet name; None for a CSV
    raw_header: list[str]
    header: list[str]  # normalised names, "" for a blank header cell
    # Yields chunks whose columns are `columns` plus LINE (and EXTRA for a CSV when a row has
    # cells beyond the header); reports progress in `units` (bytes of a CSV, rows of a sheet).
    read_chunks: Callable[[Callable[[int], None] | None], Iterator[pd.DataFrame]]
    header_line: int = 1
    units_total: int = 0  # progress: the file's bytes (CSV) or its workbook's rows (XLSX)
    encoding: str | None = None
    delimiter: str | None = None
    # Spreadsheet letters of columns without a header name that held a value (known once read).
    unlabelled: set[str] = field(default_factory=set)

    @property
    def columns(self) -> dict[str, str]:
        """Chunk column name -> the header cell as the file has it, for named columns."""
        return {h: raw for h, raw in zip(self.header, self.raw_header, strict=True) if h}


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    is_zip: bool
    encoding: str  # the text encoding the bytes decode with (meaningless for a zip)
    is_binary: bool
    problem: str | None = None  # why the text cannot be read, when it cannot


def fingerprint(upload: Upload) -> Fingerprint:
    """One pass over the bytes: the hash, the container, and the text encoding.

    The whole file is checked, not a sample: a latin-1 "é" on line 90,000 of an otherwise ASCII
    export would otherwise crash the load halfway.
    """
    digest = hashlib.sha256()
    head = b""
    decoders: dict[str, codecs.IncrementalDecoder] = {}
    failed: set[str] = set()
    with upload.open() as fh:
        while block := fh.read(_BLOCK):
            if not head:
                head = block[:8192]
                utf16 = head.startswith(_UTF16_BOMS)
                order = ["utf-16"] if utf16 else ["utf-8-sig", "cp1252"]
                decoders = {name: codecs.getincrementaldecoder(name)() for name in order}
            digest.update(block)
            for name, decoder in decoders.items():
                if name in failed:
                    continue
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    failed.add(name)
                if name not in failed:
                    break  # the first encoding that still fits is the one used
    for name, decoder in decoders.items():
        if name not in failed:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                failed.add(name)
    is_zip = head.startswith(b"PK\x03\x04")
    fitting = [name for name in decoders if name not in failed]
    if head.startswith(_UTF16_BOMS):
        problem = None if fitting else "the file starts as UTF-16 text but is not valid UTF-16"
        return Fingerprint(digest.hexdigest(), False, "utf-16", False, problem)
    encoding = fitting[0] if fitting else "latin-1"
    if encoding == "cp1252" and not _decodes_whole(upload, "cp1252"):
        encoding = "latin-1"
    return Fingerprint(digest.hexdigest(), is_zip, encoding, not is_zip and _looks_binary(head))


def _decodes_whole(upload: Upload, encoding: str) -> bool:
    # cp1252 was only tried from the block where UTF-8 failed; check the blocks before it too.
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with upload.open() as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
        return True
    except UnicodeDecodeError:
        return False


def _looks_binary(head: bytes) -> bool:
    """A known binary signature, or more than 5% control bytes: a CSV with a stray NUL in one
    cell is still text (that row is rejected), a picture or a PDF is not."""
    if head.startswith((b"\xd0\xcf\x11\xe0", *_BINARY_MAGIC)):
        return True
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls * 20 > len(head)


def open_sheets(
    upload: Upload,
    fp: Fingerprint,
    is_header: Callable[[list[str]], bool],
    limits: WorkbookLimits | None = None,
) -> list[Sheet]:
    """The tables in a file, header found (`is_header` judges a normalised row), rows unread."""
    if fp.problem:
        raise FormatError(fp.problem)
    if fp.is_binary:
        if upload.open().read(4) == b"\xd0\xcf\x11\xe0":
            raise FormatError("old Excel .xls files are not supported: save it as .xlsx or CSV")
        raise FormatError("this is not a CSV or XLSX file (it looks like binary data)")
    if fp.is_zip:
        return _xlsx_sheets(upload, is_header, limits or WorkbookLimits())
    return [_csv_sheet(upload, fp.encoding, is_header)]


def _find_header(
    rows: list[list[str]], is_header: Callable[[list[str]], bool]
) -> tuple[int, list[str]] | None:
    """The index of the first row that `is_header` accepts among the first rows, and that row."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(cell.strip() for cell in row) and is_header([normalise_header(c) for c in row]):
            return i, row
    return None


def _column_letter(position: int) -> str:
    """1 -> A, 27 -> AA: how a spreadsheet names a column."""
    letters = ""
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _trimmed(raw: list[str]) -> list[str]:
    raw = list(raw)
    while raw and not raw[-1].strip():
        raw.pop()
    return raw


# --- CSV ------------------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """Reports bytes read so a terminal can show progress of a long load."""

    def __init__(self, raw: io.BufferedIOBase, report: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._report = report
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._done += len(data)
        if self._report is not None:
            self._report(self._done)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def _head_text(upload: Upload, encoding: str) -> str:
    """The first MB of a CSV as text (a character cut at the end is dropped)."""
    with upload.open() as fh:
        raw = fh.read(_SAMPLE_BYTES)
    return codecs.getincrementaldecoder(encoding)().decode(raw)


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The rows of `text` as `delimiter` splits them (a cut last row is kept)."""
    rows: list[list[str]] = []
    with contextlib.suppress(csv.Error):  # a cell over csv's size limit: the sample ends there
        rows.extend(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return rows


def _csv_sheet(upload: Upload, encoding: str, is_header: Callable[[list[str]], bool]) -> Sheet:
    text = _head_text(upload, encoding)
    samples = {d: _records(text, d) for d in DELIMITERS}
    found = []
    for delimiter, rows in samples.items():
        hit = _find_header(rows, is_header)
        if hit is not None:
            found.append((hit[0], -len(hit[1]), delimiter))
    if found:
        index, _, delimiter = min(found)
    else:  # no row fits: the first non-blank one is taken, so that the error names its columns
        first = next((line for line in text.splitlines() if line.strip()), None)
        if first is None:
            raise FormatError("the file is empty")
        delimiter = max(DELIMITERS, key=first.count)
        index = next(i for i, r in enumerate(samples[delimiter]) if any(c.strip() for c in r))
    rows = samples[delimiter]
    raw_header = _trimmed(rows[index])
    header = [normalise_header(h) for h in raw_header]
    width = max([len(raw_header), *(len(r) for r in rows[index + 1 :])])
    sheet = Sheet(None, raw_header, header, lambda _p: iter(()), index + 1, upload.size)
    sheet.encoding, sheet.delimiter = encoding, delimiter
    sheet.read_chunks = _csv_reader(upload, sheet, width)
    return sheet


class _WiderRow(Exception):
    def __init__(self, cells: int) -> None:
        self.cells = cells


def _csv_reader(upload: Upload, sheet: Sheet, width: int):
    names = [h or f"__blank{i}" for i, h in enumerate(sheet.header)]

    def read_chunks(progress: Callable[[int], None] | None) -> Iterator[pd.DataFrame]:
        nonlocal width
        done = sheet.header_line  # rows of the file read so far, the header's included
        while True:
            stream = io.BufferedReader(_CountingReader(upload.open(), progress), _BLOCK)
            extras = [f"__extra{i}" for i in range(len(names), width)]
            start = done
            try:
                reader = pd.read_csv(
                    stream,
                    sep=sheet.delimiter,
                    encoding=sheet.encoding,
                    header=None,
                    skiprows=start,
                    names=names + extras,
                    dtype=str,
                    keep_default_na=False,
                    na_filter=False,
                    skip_blank_lines=False,
                    index_col=False,
                    chunksize=CHUNK_ROWS,
                    engine="c",
                )
                while (chunk := _next_chunk(reader, done)) is not None:
                    chunk[LINE] = chunk.index.to_numpy() + start + 1
                    done = int(chunk[LINE].iloc[-1]) if len(chunk) else done
                    yield _tidy(chunk, names, extras, sheet)
                return
            except _WiderRow as wider:
                width = wider.cells
            finally:
                stream.close()

    return read_chunks


def _next_chunk(reader, done: int) -> pd.DataFrame | None:
    """The next chunk, with pandas' errors and warnings turned into what the user must fix.

    pandas drops the extra cells of a first row longer than the names with only a warning: a
    silent loss, made an error here (it cannot happen when the sample saw that row).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return next(reader)
        except StopIteration:
            return None
        except pd.errors.ParserWarning as exc:
            raise FormatError(
                f"the CSV is malformed: line {done + 1} has more cells than the header"
            ) from exc
        except pd.errors.ParserError as exc:
            message = str(exc)
            wider = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", message)
            if wider:
                raise _WiderRow(int(wider.group(1))) from exc
            quote = re.search(r"EOF inside string starting at row (\d+)", message)
            if quote:
                raise FormatError(
                    f"the CSV is malformed: the quote opened on line {int(quote.group(1)) + 1} "
                    "is never closed"
                ) from exc
            raise FormatError(f"the CSV is malformed after line {done}") from exc


def _tidy(chunk: pd.DataFrame, names: list[str], extras: list[str], sheet: Sheet) -> pd.DataFrame:
    """The chunk with only named columns: cells beyond the header go to EXTRA when not empty,
    columns without a header name are dropped and noted when they hold something."""
    blanks = [n for n in names if n.startswith("__blank")]
    for position, name in enumerate(names, start=1):
        if name in blanks and chunk[name].str.strip().ne("").any():
            sheet.unlabelled.add(_column_letter(position))
    if extras:
        cells = chunk[extras].apply(lambda c: c.str.strip())
        filled = cells.ne("")
        if filled.to_numpy().any():
            first = filled.to_numpy().argmax(axis=1)
            values = cells.to_numpy()[range(len(cells)), first]
            chunk[EXTRA] = pd.Series(values, index=chunk.index).where(filled.any(axis=1), "")
    return chunk.drop(columns=blanks + extras)


# --- XLSX -----------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """Excel cells as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_workbook(source: io.BufferedIOBase, limits: WorkbookLimits) -> int:
    """Refuses a workbook that would take too long or too much memory to read; returns the
    number of rows of all its sheets (for progress). Reads the ZIP, never openpyxl."""
    mb = 1024 * 1024
    try:
        archive = zipfile.ZipFile(source)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FormatError("this ZIP file is not an Excel workbook (.xlsx)") from exc
    unpacked = sum(m.file_size for m in members)
    if unpacked > limits.max_unpacked_mb * mb:
        raise FormatError(
            f"the workbook unpacks to {unpacked / mb:,.0f} MB, over the "
            f"{limits.max_unpacked_mb:g} MB limit (XLSX_MAX_UNPACKED_MB): save it as CSV"
        )
    # A cell of N characters is at most 6N bytes of XML (&quot; for each), plus its tag.
    longest = limits.max_cell_chars * 6 + 1024
    rows = 0
    for member in members:
        name = member.filename
        is_sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        if not (is_sheet or name == "xl/sharedStrings.xml"):
            continue
        sheet_rows, longest_run = _scan_part(archive, member, longest)
        if longest_run > longest:
            raise FormatError(
                f"the workbook holds a cell of more than {limits.max_cell_chars:,} characters "
                "(XLSX_MAX_CELL_CHARS), more than a spreadsheet cell can hold"
            )
        if sheet_rows > limits.max_rows:
            raise FormatError(
                f"a sheet of the workbook has {sheet_rows:,} rows, over the "
                f"{limits.max_rows:,} limit (XLSX_MAX_ROWS): save it as CSV"
            )
        rows += sheet_rows if is_sheet else 0
    return rows


def _scan_part(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> tuple[int, int]:
    """(rows, longest run of bytes without a '<') of one XML part, unpacked 1 MB at a time;
    stops as soon as a run is longer than `limit`. numpy finds the '<' of a block and
    bytes.count the row tags, about 0.3 s per 100 MB unpacked."""
    rows = longest = 0
    run = 0  # bytes since the last '<' of the blocks before
    carry = b""
    try:
        with archive.open(member) as part:
            while longest <= limit and (block := part.read(_BLOCK)):
                data = carry + block
                rows += _row_tags(data) - _row_tags(carry)
                carry = data[-8:]
                opens = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("<"))
                if opens.size == 0:
                    run += len(block)
                else:
                    inner = int(np.diff(opens).max()) - 1 if opens.size > 1 else 0
                    longest = max(longest, run + int(opens[0]), inner)
                    run = len(block) - int(opens[-1]) - 1
                longest = max(longest, run)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FormatError("the workbook is damaged: a part of it cannot be unpacked") from exc
    return rows, longest


def _row_tags(data: bytes) -> int:
    # <row r="1" ...>, <row>, <row/>, and with a namespace prefix (<x:row ...>).
    return sum(data.count(tag) for tag in (b"<row ", b"<row>", b"<row/", b":row ", b":row>"))


def _xlsx_sheets(
    upload: Upload, is_header: Callable[[list[str]], bool], limits: WorkbookLimits
) -> list[Sheet]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not a path: openpyxl would judge a path by its extension, and a workbook
    # saved as "tracking.csv" is still a workbook.
    with upload.open() as probe:
        total_rows = check_workbook(probe, limits)
    source = upload.open()
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
        sheets = []
        for ws in workbook.worksheets:
            top = [[_cell_text(v) for v in row] for row in _rows(ws, 1, HEADER_SEARCH_ROWS)]
            hit = _find_header(top, is_header)
            index, row = hit or next(
                ((i, r) for i, r in enumerate(top) if any(c.strip() for c in r)), (0, [])
            )
            raw_header = _trimmed(row)
            header = [normalise_header(h) for h in raw_header]
            sheet = Sheet(ws.title, raw_header, header, lambda _p: iter(()), index + 1, total_rows)
            sheet.read_chunks = _xlsx_reader(ws, sheet, limits)
            sheets.append(sheet)
    except FormatError:
        source.close()
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        source.close()
        raise FormatError("this ZIP file is not an Excel workbook (.xlsx)") from exc
    return sheets


def _rows(ws, first: int, last: int | None = None) -> Iterator[tuple]:
    """The sheet's rows as values, a damaged sheet reported as such (not as openpyxl's error)."""
    try:
        yield from ws.iter_rows(min_row=first, max_row=last, values_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError) as exc:
        raise FormatError(f"sheet '{ws.title}' is damaged and cannot be read") from exc


def _xlsx_reader(ws, sheet: Sheet, limits: WorkbookLimits):
    names = [h or f"__blank{i}" for i, h in enumerate(sheet.header)]
    width = len(names)
    blanks = [i for i, n in enumerate(names) if n.startswith("__blank")]

    def read_chunks(progress: Callable[[int], None] | None) -> Iterator[pd.DataFrame]:
        rows: list[list[str]] = []
        lines: list[int] = []
        first = line = sheet.header_line + 1
        for line, values in enumerate(_rows(ws, first), start=first):
            cells = [_cell_text(v) for v in values]
            longest = max(map(len, cells), default=0)
            if longest > limits.max_cell_chars:
                raise FormatError(
                    f"sheet '{ws.title}' line {line} holds a cell of {longest:,} characters, "
                    f"over the {limits.max_cell_chars:,} limit (XLSX_MAX_CELL_CHARS)"
                )
            for i in [*blanks, *range(width, len(cells))]:
                if i < len(cells) and cells[i].strip():
                    sheet.unlabelled.add(_column_letter(i + 1))
            cells = cells[:width]
            rows.append(cells + [""] * (width - len(cells)))
            lines.append(line)
            if len(rows) == CHUNK_ROWS:
                yield _frame(rows, lines, names, blanks)
                if progress is not None:
                    progress(line - sheet.header_line)
                rows, lines = [], []
        if rows:
            yield _frame(rows, lines, names, blanks)
        if progress is not None:
            progress(line - sheet.header_line)

    return read_chunks


def _frame(rows: list[list[str]], lines: list[int], names: list[str], blanks: list[int]):
    frame = pd.DataFrame(rows, columns=names, dtype=str)
    frame[LINE] = lines
    return frame.drop(columns=[names[i] for i in blanks])
