"""Loading influencer-marketing exports (CSV/XLSX) into the store, validated and idempotent.

from storage.ingest import ingest_files, Upload, Origin
result = ingest_files(engine, [Upload.from_path("payouts.csv")], Origin("cli", "asha"))

A Slack upload spooled to a temporary file loads as a stream, under its Slack name, with
progress for an in-thread note:
result = ingest_files(engine, [Upload.from_path(tmp, filename=name)], Origin("slack", user),
                      options, on_progress=lambda p: note(p.describe()))
"""

from storage.ingest.kinds import KINDS, HeaderError
from storage.ingest.readers import Upload, WorkbookLimits
from storage.ingest.results import BatchResult, FileResult, LoadProgress, RejectGroup, SheetResult
from storage.ingest.service import Options, Origin, ingest_bytes, ingest_files

__all__ = [
    "KINDS",
    "BatchResult",
    "FileResult",
    "HeaderError",
    "LoadProgress",
    "Options",
    "Origin",
    "RejectGroup",
    "SheetResult",
    "Upload",
    "WorkbookLimits",
    "ingest_bytes",
    "ingest_files",
]
