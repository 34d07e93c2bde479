"""Ingesting a batch of files: checks, load order, one transaction per file, the uploads record.

This is the function API the CLI and the Slack app call. Policy: valid rows load, invalid rows
are reported by line and reason; a file that cannot be read, is too big, or has no valid row is
refused whole; a failure midway rolls the whole file back. Nothing here raises for bad input:
every outcome is a `FileResult` with a message a marketer can act on.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from storage import derived, models, tracking_rollups
from storage.ingest.kinds import (
    INFLUENCERS,
    HeaderError,
    Kind,
    check_header,
    detect_kind,
    kind_by_name,
)
from storage.ingest.load import Stager
from storage.ingest.parse import REASON, VALUE, ParseContext, parse_chunk
from storage.ingest.readers import LINE, FormatError, Sheet, Upload, fingerprint, open_sheets
from storage.ingest.results import BatchResult, FileResult, RejectGroup, SheetResult

log = logging.getLogger(__name__)
# The columns that partition the derived tables, per table whose rows feed them: tracking feeds
# the rollups (by influencer and by day) and, with posts and payouts, the ledger (by influencer).
_DERIVED_PARTITIONS = {
    models.tracking.name: ("influencer_id", "date"),
    models.posts.name: ("influencer_id",),
    models.payouts.name: ("influencer_id",),
}

Progress = Callable[[str, int, int], None]  # (filename, bytes done, bytes in all)
_EXAMPLES = 3


@dataclass(frozen=True)
class Origin:
    """Who sent the data and from where, for the uploads record."""

    via: str = "cli"  # "cli" or "slack"
    user: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Options:
    kind: str | None = None  # force every sheet to this kind instead of detecting it
    max_upload_mb: float = 50
    date_order: str = "dmy"


@dataclass
class _Plan:
    upload: Upload
    sha256: str
    sheets: list[tuple[Sheet, Kind, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rank(self) -> int:
        return min(kind.rank for _, kind, _ in self.sheets)


class _Refused(Exception):
    """Raised inside the file's transaction to roll it back and refuse the file."""


def ingest_files(
    engine: Engine,
    uploads: list[Upload],
    origin: Origin | None = None,
    options: Options | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Load several files, influencers first whatever the order they were given in."""
    origin, options = origin or Origin(), options or Options()
    results: dict[int, FileResult] = {}
    plans: list[tuple[int, _Plan]] = []
    for i, upload in enumerate(uploads):
        started = time.perf_counter()
        planned = _plan(engine, upload, options)
        if isinstance(planned, FileResult):
            planned.duration_ms = _ms_since(started)
            _record(engine, planned, origin)
            results[i] = planned
        else:
            plans.append((i, planned))
    for i, plan in sorted(plans, key=lambda p: (p[1].rank, p[0])):
        results[i] = _load(engine, plan, origin, options, progress)
    return BatchResult([results[i] for i in range(len(uploads))])


def ingest_bytes(
    engine: Engine,
    data: bytes,
    filename: str,
    origin: Origin,
    options: Options | None = None,
) -> FileResult:
    """Load one file received in memory (a Slack upload)."""
    return ingest_files(engine, [Upload(filename=filename, data=data)], origin, options).files[0]


def _plan(engine: Engine, upload: Upload, options: Options) -> _Plan | FileResult:
    name = upload.filename
    limit = options.max_upload_mb * 1024 * 1024
    size = upload.size
    if size > limit:
        return _refused(
            name,
            f"the file is {size / 1048576:.1f} MB, over the {options.max_upload_mb:g} MB limit "
            "(MAX_UPLOAD_MB); split it or raise the limit",
        )
    if size == 0:
        return _refused(name, "the file is empty")
    fp = fingerprint(upload)
    earlier = _earlier_clean_load(engine, fp.sha256)
    if earlier is not None:
        upload_id, when = earlier
        return FileResult(
            name,
            "already_loaded",
            f"already loaded on {when:%Y-%m-%d %H:%M} (upload #{upload_id}); nothing to do",
            sha256=fp.sha256,
            already_loaded_on=when,
        )
    try:
        sheets = open_sheets(upload, fp)
    except FormatError as exc:
        return _refused(name, str(exc), fp.sha256)
    plan = _Plan(upload, fp.sha256)
    errors = []
    for sheet in sheets:
        where = f"sheet '{sheet.name}': " if sheet.name is not None else ""
        if not any(sheet.header):
            plan.notes.append(f"{where}empty, skipped")
            continue
        try:
            kind = kind_by_name(options.kind) if options.kind else detect_kind(sheet.header)
            plan.sheets.append((sheet, kind, check_header(sheet.header, kind)))
        except HeaderError as exc:
            errors.append(f"{where}{exc}")
    if not plan.sheets:
        return _refused(name, errors[0] if errors else "the file is empty", fp.sha256)
    plan.notes.extend(f"{e}; skipped" for e in errors)
    plan.sheets.sort(key=lambda s: s[1].rank)
    return plan


def _load(
    engine: Engine, plan: _Plan, origin: Origin, options: Options, progress: Progress | None
) -> FileResult:
    started = time.perf_counter()
    name = plan.upload.filename
    result = FileResult(name, "loaded", "", sha256=plan.sha256)
    size = plan.upload.size

    def report(done: int) -> None:
        if progress is not None:
            progress(name, done, size)

    try:
        with engine.begin() as conn:
            known = _influencer_ids(conn)
            ledger: set[str] | None = set()  # influencers whose cost basis changes (None: all)
            for sheet, kind, ignored in plan.sheets:
                done, touched = _load_sheet(conn, sheet, kind, ignored, known, options, report)
                result.sheets.append(done)
                if touched is None:
                    ledger = None
                elif ledger is not None:
                    ledger |= touched.get("influencer_id", set()) - {None}
                if kind is INFLUENCERS:
                    known = _influencer_ids(conn)
            if result.total("inserted") + result.total("updated") + result.total("unchanged") == 0:
                raise _Refused(_nothing_valid(result))
            derived.refresh_influencers(conn, ledger)
            result.status = "partial" if result.total("rejected") else "loaded"
            result.message = _summary_line(result)
            result.sheets[0].notes[:0] = plan.notes
            result.duration_ms = _ms_since(started)
            result.upload_id = _record(conn, result, origin)
    except _Refused as exc:
        result.status, result.message = "refused", str(exc)
    except FormatError as exc:
        result.status, result.message = "refused", f"{exc}; nothing from this file was saved"
        result.sheets = []
    except (SQLAlchemyError, OSError) as exc:
        log.exception("ingest of %s failed", name)
        result.status = "failed"
        result.message = f"loading stopped ({type(exc).__name__}); nothing from this file was saved"
    if result.status in ("refused", "failed"):
        result.duration_ms = _ms_since(started)
        _record(engine, result, origin)
    return result


def _load_sheet(
    conn: Connection,
    sheet: Sheet,
    kind: Kind,
    ignored: list[str],
    known: set[str],
    options: Options,
    report: Callable[[int], None],
) -> tuple[SheetResult, dict[str, set] | None]:
    """The sheet loaded, and what it changed for the derived tables (`derived.touched`)."""
    out = SheetResult(kind=kind.name, sheet=sheet.name, ignored_columns=ignored)
    ctx = ParseContext(
        known_influencers=None if kind is INFLUENCERS else known,
        default_date_order=options.date_order,
    )
    stager = Stager(conn, kind.table)
    rejected_csv = io.StringIO()
    raw_names = dict(zip(_chunk_names(sheet), sheet.raw_header, strict=True))
    groups: dict[str, RejectGroup] = {}
    for chunk in sheet.read_chunks(report):
        parsed = parse_chunk(chunk, kind, ctx)
        out.blank_lines += parsed.blank_lines
        out.rows_seen += len(chunk) - parsed.blank_lines
        stager.add(parsed.rows)
        if not parsed.rejected.empty:
            out.rejected += len(parsed.rejected)
            _group_rejects(parsed.rejected, groups)
            _write_rejects(parsed.rejected, raw_names, rejected_csv, header=not out.rejects)
            out.rejects = list(groups.values())
    # The derived tables follow the rows in this same transaction, so no query sees them
    # disagree: the partitions this sheet touches are read before the upsert replaces rows.
    partitions = _DERIVED_PARTITIONS.get(kind.table.name, ())
    touched = derived.touched(stager, partitions) if partitions else {}
    counts = stager.finish()
    if not (counts.inserted or counts.updated):
        touched = {}
    elif kind.table is models.tracking:
        tracking_rollups.refresh(conn, touched)
    out.inserted, out.updated, out.unchanged = counts.inserted, counts.updated, counts.unchanged
    out.duplicates, out.duplicate_lines = counts.duplicates, counts.duplicate_lines
    out.notes.extend(ctx.notes)
    if ignored:
        out.notes.append(f"columns ignored: {', '.join(ignored)}")
    if out.rejected:
        out.rejected_csv = rejected_csv.getvalue().encode("utf-8-sig")
    return out, touched


def _chunk_names(sheet: Sheet) -> list[str]:
    return [h or f"__blank{i}" for i, h in enumerate(sheet.header)]


def _group_rejects(rejected: pd.DataFrame, groups: dict[str, RejectGroup]) -> None:
    for reason, part in rejected.groupby(REASON, sort=False):
        group = groups.setdefault(str(reason), RejectGroup(str(reason), [], []))
        group.lines.extend(int(n) for n in part[LINE])
        for value in part[VALUE].unique():
            if len(group.examples) < _EXAMPLES and value not in group.examples:
                group.examples.append(str(value))


def _write_rejects(
    rejected: pd.DataFrame, raw_names: dict[str, str], out: io.StringIO, header: bool
) -> None:
    frame = rejected[list(raw_names)].rename(columns=raw_names)
    frame.insert(0, "reason", rejected[REASON] + ": " + rejected[VALUE])
    frame.insert(0, "line", rejected[LINE])
    frame.to_csv(out, index=False, header=header)


def _nothing_valid(result: FileResult) -> str:
    seen = result.total("rows_seen")
    if seen == 0:
        return "the file has a header but no data rows"
    groups = [g for s in result.sheets for g in s.rejects]
    top = max(groups, key=lambda g: len(g.lines))
    return f"no valid row: all {seen:,} rows were rejected (most: {top.reason})"


def _summary_line(result: FileResult) -> str:
    kinds = ", ".join(s.kind for s in result.sheets)
    parts = [
        f"{result.total('inserted'):,} new",
        f"{result.total('updated'):,} updated",
        f"{result.total('unchanged'):,} unchanged",
    ]
    if result.total("rejected"):
        parts.append(f"{result.total('rejected'):,} rejected")
    return f"{kinds}: {result.total('rows_seen'):,} rows, " + ", ".join(parts)


def _influencer_ids(conn: Connection) -> set[str]:
    return set(conn.execute(select(models.influencers.c.influencer_id)).scalars())


def _earlier_clean_load(engine: Engine, sha256: str) -> tuple[int, dt.datetime] | None:
    """The last load of these exact bytes that rejected nothing, if any.

    A file that had rejections is processed again: rows refused for an unknown influencer may
    load now that the influencers are there.
    """
    u = models.uploads
    with engine.connect() as conn:
        row = conn.execute(
            select(u.c.id, u.c.started_at)
            .where(u.c.sha256 == sha256, u.c.status == "loaded")
            .order_by(u.c.id.desc())
            .limit(1)
        ).first()
    return (row.id, row.started_at) if row else None


def _record(target: Engine | Connection, result: FileResult, origin: Origin) -> int | None:
    """Write the uploads row: in the data's transaction on success, on its own otherwise."""
    values = {
        "filename": result.filename[:500],
        "sha256": result.sha256 or "",
        "kinds": ",".join(s.kind for s in result.sheets) or "-",
        "origin": origin.via,
        "uploaded_by": origin.user,
        "channel": origin.channel,
        "status": result.status,
        "rows_seen": result.total("rows_seen"),
        "rows_inserted": result.total("inserted"),
        "rows_updated": result.total("updated"),
        "rows_unchanged": result.total("unchanged"),
        "rows_rejected": result.total("rejected"),
        "message": result.message,
        "started_at": dt.datetime.now(dt.UTC),
        "duration_ms": result.duration_ms,
    }
    statement = insert(models.uploads).values(values).returning(models.uploads.c.id)
    if isinstance(target, Connection):
        return int(target.execute(statement).scalar_one())
    try:
        with target.begin() as conn:
            return int(conn.execute(statement).scalar_one())
    except SQLAlchemyError:
        log.exception("could not record the upload of %s", result.filename)
        return None


def _refused(name: str, message: str, sha256: str | None = None) -> FileResult:
    return FileResult(name, "refused", message, sha256=sha256)


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
