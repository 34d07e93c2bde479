"""What an ingest reports back: plain data the CLI prints and the Slack app posts."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["loaded", "partial", "already_loaded", "refused", "failed"]
_QUOTED_CHARS = 40


def quoted(value: object) -> str:
    """A value for a message: quoted, and cut to a short prefix when long (a 100,000-character
    cell must not come back whole in every message that mentions it)."""
    text = str(value).replace("\x00", "\\0")  # a NUL shows as \0, not as nothing
    if len(text) <= _QUOTED_CHARS:
        return f"'{text}'"
    return f"'{text[:_QUOTED_CHARS]}…' ({len(text):,} characters)"


@dataclass
class RejectGroup:
    """Rows rejected for one reason: every line number, and a few of the offending values."""

    reason: str
    lines: list[int]
    examples: list[str]


@dataclass
class SheetResult:
    kind: str
    sheet: str | None  # worksheet name for XLSX
    rows_seen: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    duplicate_lines: list[int] = field(default_factory=list)
    blank_lines: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    rejects: list[RejectGroup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected_csv: bytes | None = field(default=None, repr=False)


@dataclass
class FileResult:
    filename: str
    status: Status
    message: str
    sha256: str | None = None
    sheets: list[SheetResult] = field(default_factory=list)
    already_loaded_on: dt.datetime | None = None
    upload_id: int | None = None
    duration_ms: int = 0

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sheets)

    @property
    def ok(self) -> bool:
        return self.status in ("loaded", "already_loaded")

    def to_dict(self) -> dict:
        data = asdict(self)
        for sheet in data["sheets"]:
            sheet.pop("rejected_csv")
        data["already_loaded_on"] = (
            self.already_loaded_on.isoformat() if self.already_loaded_on else None
        )
        for name in ("rows_seen", "inserted", "updated", "unchanged", "rejected"):
            data[name] = self.total(name)
        return data


@dataclass(frozen=True)
class LoadProgress:
    """How far the load of one file is, for a progress line or an in-thread note."""

    filename: str
    rows_done: int
    fraction: float  # of the file read, 0 to 1
    elapsed_s: float

    @property
    def percent(self) -> int:
        return int(self.fraction * 100)

    @property
    def seconds_left(self) -> float | None:
        """Time left at the pace so far; None until there is a pace to go by."""
        if self.fraction >= 1:
            return 0.0
        if self.fraction < 0.01 or self.elapsed_s < 1:
            return None
        return self.elapsed_s * (1 - self.fraction) / self.fraction

    def describe(self) -> str:
        """E.g. "120,000 rows, 45%, about 2 min left"; "3%" while the first chunk is read (rows
        are counted as a chunk is parsed: "0 rows" would read as a load that found none)."""
        parts = [f"{self.rows_done:,} rows"] if self.rows_done else []
        parts.append(f"{self.percent}%")
        left = self.seconds_left
        if left is not None and self.fraction < 1:
            parts.append(
                f"about {left:.0f} s left" if left < 90 else f"about {left / 60:.0f} min left"
            )
        return ", ".join(parts)


@dataclass
class BatchResult:
    files: list[FileResult]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "files": [f.to_dict() for f in self.files]}
