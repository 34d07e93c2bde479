"""Loading influencer-marketing exports (CSV/XLSX) into the store, validated and idempotent.

from storage.ingest import ingest_files, Upload, Origin
result = ingest_files(engine, [Upload.from_path("payouts.csv")], Origin("cli", "asha"))
"""

from storage.ingest.kinds import KINDS, HeaderError
from storage.ingest.readers import Upload
from storage.ingest.results import BatchResult, FileResult, RejectGroup, SheetResult
from storage.ingest.service import Options, Origin, ingest_bytes, ingest_files

__all__ = [
    "KINDS",
    "BatchResult",
    "FileResult",
    "HeaderError",
    "Options",
    "Origin",
    "RejectGroup",
    "SheetResult",
    "Upload",
    "ingest_bytes",
    "ingest_files",
]
