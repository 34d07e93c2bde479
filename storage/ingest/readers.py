"""Turning an uploaded file into a header and chunks of raw text cells.

Everything here is about the *format* (CSV flavour, encoding, XLSX); what the cells mean is
`parse`'s job. Files are streamed in chunks so memory does not grow with file size, and each row
carries the line number a spreadsheet would show (the header is line 1).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from storage.ingest.kinds import normalise_header

CHUNK_ROWS = 50_000
LINE = "__line__"  # column holding each row's spreadsheet line number
_BLOCK = 1 << 20


class FormatError(ValueError):
    """The file cannot be read as CSV or XLSX; the message says why in the user's terms."""


@dataclass(frozen=True)
class Upload:
    """A file to ingest: a path on disk (CLI) or bytes in memory (Slack)."""

    filename: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Upload:
        p = Path(path)
        return cls(filename=p.name, path=p)

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
    read_chunks: Callable[[Callable[[int], None] | None], Iterator[pd.DataFrame]]
    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    is_zip: bool
    encoding: str  # the text encoding the bytes decode with (meaningless for a zip)
    is_binary: bool


def fingerprint(upload: Upload) -> Fingerprint:
    """One pass over the bytes: the hash, the container, and the text encoding.

    The whole file is checked, not a sample: a latin-1 "é" on line 90,000 of an otherwise ASCII
    export would otherwise crash the load halfway.
    """
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    utf8_ok = cp1252_ok = True
    head = b""
    with upload.open() as fh:
        while block := fh.read(_BLOCK):
            if not head:
                head = block[:8192]
            digest.update(block)
            if utf8_ok:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            if cp1252_ok and not utf8_ok:
                try:
                    cp1252.decode(block)
                except UnicodeDecodeError:
                    cp1252_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        encoding = "utf-8-sig"
    elif cp1252_ok and _redecode_cp1252(upload):
        encoding = "cp1252"
    else:
        encoding = "latin-1"
    is_zip = head.startswith(b"PK\x03\x04")
    is_binary = not is_zip and (b"\x00" in head or head.startswith(b"\xd0\xcf\x11\xe0"))
    return Fingerprint(digest.hexdigest(), is_zip, encoding, is_binary)


def _redecode_cp1252(upload: Upload) -> bool:
    # cp1252 was only tried from the block where UTF-8 failed; check the blocks before it too.
    decoder = codecs.getincrementaldecoder("cp1252")()
    try:
        with upload.open() as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
        return True
    except UnicodeDecodeError:
        return False


def open_sheets(upload: Upload, fp: Fingerprint) -> list[Sheet]:
    """The tables in a file, header read, rows not yet read."""
    if fp.is_binary:
        if upload.open().read(4) == b"\xd0\xcf\x11\xe0":
            raise FormatError("old Excel .xls files are not supported: save it as .xlsx or CSV")
        raise FormatError("this is not a CSV or XLSX file (it looks like binary data)")
    if fp.is_zip:
        return _xlsx_sheets(upload)
    return [_csv_sheet(upload, fp.encoding)]


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


def _first_record(upload: Upload, encoding: str) -> tuple[str, str]:
    """The header's text and the delimiter, chosen as the one that splits the header most."""
    with upload.open() as fh:
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        first = ""
        for line in text:
            if line.strip():
                first = line
                break
            raise FormatError("the first line is empty: the header must be on line 1")
    if not first.strip():
        raise FormatError("the file is empty")
    delimiter = max([",", ";", "\t", "|"], key=first.count)
    return first, delimiter


def _csv_sheet(upload: Upload, encoding: str) -> Sheet:
    first, delimiter = _first_record(upload, encoding)
    raw_header = next(csv.reader([first], delimiter=delimiter))
    header = [normalise_header(h) for h in raw_header]
    names = _column_names(header)

    def read_chunks(progress: Callable[[int], None] | None) -> Iterator[pd.DataFrame]:
        stream = io.BufferedReader(_CountingReader(upload.open(), progress), _BLOCK)
        try:
            reader = pd.read_csv(
                stream,
                sep=delimiter,
                encoding=encoding,
                header=0,
                names=names,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
                chunksize=CHUNK_ROWS,
                engine="c",
            )
            while (chunk := _next_chunk(reader)) is not None:
                chunk[LINE] = chunk.index.to_numpy() + 2
                yield chunk
        finally:
            stream.close()

    return Sheet(None, raw_header, header, read_chunks, encoding, delimiter)


def _next_chunk(reader) -> pd.DataFrame | None:
    """The next chunk, with pandas' "rows longer than the header" warning made an error.

    pandas otherwise drops the extra cells of such a row with only a warning: a silent loss.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return next(reader)
        except StopIteration:
            return None
        except pd.errors.ParserWarning as exc:
            raise FormatError(
                "the CSV is malformed: rows have more cells than the header has columns"
            ) from exc
        except pd.errors.ParserError as exc:
            raise FormatError(f"the CSV is malformed: {_parser_message(exc)}") from exc


def _column_names(header: list[str]) -> list[str]:
    """Chunk column names: the normalised header, with a placeholder for blank header cells."""
    return [h or f"__blank{i}" for i, h in enumerate(header)]


def _parser_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1]
    return text.replace("Error tokenizing data. C error: ", "")


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


def _xlsx_sheets(upload: Upload) -> list[Sheet]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not a path: openpyxl would judge a path by its extension, and a workbook
    # saved as "tracking.csv" is still a workbook.
    source = upload.open()
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        source.close()
        raise FormatError("this ZIP file is not an Excel workbook (.xlsx)") from exc
    sheets = []
    for ws in workbook.worksheets:
        first = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), None)
        raw_header = [_cell_text(v) for v in (first or ())]
        while raw_header and not raw_header[-1]:
            raw_header.pop()
        header = [normalise_header(h) for h in raw_header]
        sheets.append(Sheet(ws.title, raw_header, header, _xlsx_reader(ws, _column_names(header))))
    return sheets


def _xlsx_reader(ws, names: list[str]):
    width = len(names)

    def read_chunks(_progress: Callable[[int], None] | None) -> Iterator[pd.DataFrame]:
        rows: list[list[str]] = []
        lines: list[int] = []
        for line, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
            cells = [_cell_text(v) for v in values[:width]]
            rows.append(cells + [""] * (width - len(cells)))
            lines.append(line)
            if len(rows) == CHUNK_ROWS:
                yield _frame(rows, lines, names)
                rows, lines = [], []
        if rows:
            yield _frame(rows, lines, names)

    return read_chunks


def _frame(rows: list[list[str]], lines: list[int], names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=names, dtype=str)
    frame[LINE] = lines
    return frame
