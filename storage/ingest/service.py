"""Ingesting a batch of files: checks, load order, one transaction per file, the uploads record.

This is the function API the CLI and the Slack app call. Policy: valid rows load, invalid rows
are reported by line and reason; a file that cannot be read, is too big, or has no valid row is
refused whole; a failure midway rolls the whole file back. Nothing here raises for bad input:
every outcome is a `FileResult` with a message a marketer can act on, and no exception name,
traceback or SQL reaches it (a failure's traceback goes to the log: at ERROR for a Slack load,
an operator's matter, at DEBUG for the CLI, whose user sees it with `--debug`).

`max_upload_mb` limits what a Slack upload may be; a local file of any size loads, since
reading is chunked (about 200 MB peak RSS at 10 M rows). A file on disk is read as a stream,
never held in memory: a Slack upload spooled to a temporary file loads the same way
(`Upload.from_path(tmp, filename=...)`).

Files load one at a time per store, whoever sends them (`storage.db.one_at_a_time`). Loads at
once each rebuild the derived tables, and a first load drops and rebuilds indexes: four files
shared together (two of tracking, posts, payouts; 107 k rows) into a new PostgreSQL store lost
one or two of them to a deadlock or a duplicate key in each of four tries. Queued, all load;
readers never wait for the queue.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from storage import derived, models, tracking_rollups
from storage.db import LOAD_LOCK_ID, one_at_a_time
from storage.ingest.kinds import (
    INFLUENCERS,
    HeaderError,
    Kind,
    check_header,
    detect_kind,
    fits_a_kind,
    kind_by_name,
)
from storage.ingest.load import Stager
from storage.ingest.parse import REASON, VALUE, ParseContext, parse_chunk
from storage.ingest.readers import (
    LINE,
    FormatError,
    Sheet,
    Upload,
    WorkbookLimits,
    fingerprint,
    open_sheets,
)
from storage.ingest.results import (
    BatchResult,
    FileResult,
    LoadProgress,
    RejectGroup,
    SheetResult,
    quoted,
)
from storage.spreadsheet import safe_cell

log = logging.getLogger(__name__)
# The columns that partition the derived tables, per table whose rows feed them: tracking feeds
# the rollups (by influencer and by day) and, with posts and payouts, the ledger (by influencer).
_DERIVED_PARTITIONS = {
    models.tracking.name: ("influencer_id", "date"),
    models.posts.name: ("influencer_id",),
    models.payouts.name: ("influencer_id",),
}

Progress = Callable[[str, int, int], None]  # (filename, bytes done, bytes in all): the CLI bar
OnProgress = Callable[[LoadProgress], None]  # rows done, percent and time left
_EXAMPLES = 3


@dataclass(frozen=True)
class Origin:
    """Who sent the data and from where, for the uploads record."""

    via: str = "cli"  # "cli" or "slack"
    user: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Options:
    """How to read files; `bot.settings.Settings.ingest_options` builds it from the settings."""

    kind: str | None = None  # force every sheet to this kind instead of detecting it
    max_upload_mb: float = 50  # the largest Slack upload; local files have no limit
    date_order: str = "dmy"
    earliest_date: dt.date = dt.date(2000, 1, 1)
    latest_date: dt.date | None = None  # None: a year after today
    workbook: WorkbookLimits = field(default_factory=WorkbookLimits)

    def date_bounds(self) -> tuple[dt.date, dt.date]:
        latest = self.latest_date or dt.date.today() + dt.timedelta(days=365)
        return self.earliest_date, latest


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
    on_progress: OnProgress | None = None,
) -> BatchResult:
    """Load several files, influencers first whatever the order they were given in.

    `on_progress` is told rows done, percent and time left as each file loads (about once a
    MB read, or once per 50,000 rows of a workbook; an adapter shows it at its own pace).
    `progress` is the older form, (filename, bytes done, bytes in all), for the CLI's bar.
    """
    origin, options = origin or Origin(), options or Options()
    results: dict[int, FileResult] = {}
    plans: list[tuple[int, _Plan]] = []
    for i, upload in enumerate(uploads):
        started = time.perf_counter()
        planned = _plan(engine, upload, origin, options)
        if isinstance(planned, FileResult):
            planned.duration_ms = _ms_since(started)
            _record(engine, planned, origin)
            results[i] = planned
        else:
            plans.append((i, planned))
    for i, plan in sorted(plans, key=lambda p: (p[1].rank, p[0])):
        tracker = _Tracker(plan, progress, on_progress)
        results[i] = _load(engine, plan, origin, options, tracker)
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


def _plan(engine: Engine, upload: Upload, origin: Origin, options: Options) -> _Plan | FileResult:
    name = upload.filename
    limit = options.max_upload_mb * 1024 * 1024
    size = upload.size
    if origin.via == "slack" and size > limit:
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
        is_header = functools.partial(fits_a_kind, forced=options.kind)
        sheets = open_sheets(upload, fp, is_header, options.workbook)
    except (FormatError, HeaderError) as exc:
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


class _Tracker:
    """Turns what the readers report (bytes of a CSV, rows of a workbook's sheets) into
    progress: the CLI's (filename, bytes, bytes in all) and `LoadProgress`."""

    def __init__(self, plan: _Plan, progress: Progress | None, on_progress: OnProgress | None):
        self.name, self.size = plan.upload.filename, plan.upload.size
        self.progress, self.on_progress = progress, on_progress
        self.total = plan.sheets[0][0].units_total if plan.sheets else 0
        self.started = time.perf_counter()
        self.offset = 0  # units of the sheets already read
        self.done = 0
        self.rows = 0  # rows of the file parsed so far

    def report(self, done_in_sheet: int) -> None:
        self.done = max(self.done, min(self.offset + done_in_sheet, self.total))
        self._send()

    def sheet_done(self) -> None:
        self.offset = self.done

    def finish(self) -> None:
        self.done = self.total
        self._send()

    def _send(self) -> None:
        fraction = self.done / self.total if self.total else 1.0
        if self.progress is not None:
            self.progress(self.name, round(self.size * fraction), self.size)
        if self.on_progress is not None:
            elapsed = time.perf_counter() - self.started
            self.on_progress(LoadProgress(self.name, self.rows, fraction, elapsed))


def _load(
    engine: Engine, plan: _Plan, origin: Origin, options: Options, tracker: _Tracker
) -> FileResult:
    started = time.perf_counter()
    name = plan.upload.filename
    result = FileResult(name, "loaded", "", sha256=plan.sha256)

    try:
        with engine.begin() as conn:
            one_at_a_time(conn, LOAD_LOCK_ID)
            known = _influencer_ids(conn)
            ledger: set[str] | None = set()  # influencers whose cost basis changes (None: all)
            stagers: list[Stager] = []
            for sheet, kind, ignored in plan.sheets:
                done, touched, stager = _load_sheet(
                    conn, sheet, kind, ignored, known, options, tracker
                )
                stagers.append(stager)
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
            for stager in stagers:
                stager.put_back_indexes()
            result.status = "partial" if result.total("rejected") else "loaded"
            result.message = _summary_line(result)
            result.sheets[0].notes[:0] = plan.notes
            result.duration_ms = _ms_since(started)
            result.upload_id = _record(conn, result, origin)
        tracker.finish()
    except _Refused as exc:
        result.status, result.message = "refused", str(exc)
    except FormatError as exc:
        result.status, result.message = "refused", f"{exc}; nothing from this file was saved"
        result.sheets = []
    except (SQLAlchemyError, OSError):
        _log_failure(origin, name)
        result.status = "failed"
        result.message = (
            "loading stopped: the data store reported an error (details are in the log); "
            "nothing from this file was saved"
        )
    except Exception:  # a defect of ours: the user gets a plain message, the log the traceback
        _log_failure(origin, name)
        result.status = "failed"
        result.message = (
            "loading stopped by an internal error (details are in the log); "
            "nothing from this file was saved"
        )
    if result.status in ("refused", "failed"):
        result.duration_ms = _ms_since(started)
        _record(engine, result, origin)
    return result


def _log_failure(origin: Origin, name: str) -> None:
    level = logging.DEBUG if origin.via == "cli" else logging.ERROR
    log.log(level, "ingest of %s failed", name, exc_info=True)


def _load_sheet(
    conn: Connection,
    sheet: Sheet,
    kind: Kind,
    ignored: list[str],
    known: set[str],
    options: Options,
    tracker: _Tracker,
) -> tuple[SheetResult, dict[str, set] | None, Stager]:
    """The sheet loaded, what it changed for the derived tables (`derived.touched`), and its
    stager, whose bulk load's indexes go back after the derived tables (`put_back_indexes`)."""
    out = SheetResult(kind=kind.name, sheet=sheet.name, ignored_columns=ignored)
    earliest, latest = options.date_bounds()
    ctx = ParseContext(
        known_influencers=None if kind is INFLUENCERS else known,
        default_date_order=options.date_order,
        earliest_date=earliest,
        latest_date=latest,
        # A workbook's numbers are numbers (their text has a decimal point). A decimal comma in
        # a comma-separated file would have to be quoted: "1,299" there is a thousands
        # separator. Elsewhere an ambiguous amount waits for the file to tell.
        decimal="." if sheet.delimiter is None else None,
        default_decimal="." if sheet.delimiter == "," else None,
    )
    stager = Stager(conn, kind.table)
    rejected_csv = io.StringIO()
    groups: dict[str, RejectGroup] = {}
    with stager.adding():
        for chunk in sheet.read_chunks(tracker.report):
            parsed = parse_chunk(chunk, kind, ctx)
            out.blank_lines += parsed.blank_lines
            out.rows_seen += len(chunk) - parsed.blank_lines
            tracker.rows += len(chunk) - parsed.blank_lines
            stager.add(parsed.rows)
            if not parsed.rejected.empty:
                out.rejected += len(parsed.rejected)
                _group_rejects(parsed.rejected, groups)
                _write_rejects(parsed.rejected, sheet.columns, rejected_csv, header=not out.rejects)
                out.rejects = list(groups.values())
    tracker.sheet_done()
    # The derived tables follow the rows in this same transaction, so no query sees them
    # disagree: the partitions this sheet touches are read before the upsert replaces rows.
    partitions = _DERIVED_PARTITIONS.get(kind.table.name, ())
    touched = derived.touched(stager, partitions) if partitions else {}
    counts = stager.finish()
    if not (counts.inserted or counts.updated):
        touched = {}
    elif kind.table is models.tracking:
        if touched is None:
            derived.make_room_for_full_rebuild(conn)
        tracking_rollups.refresh(conn, touched)
    out.inserted, out.updated, out.unchanged = counts.inserted, counts.updated, counts.unchanged
    out.duplicates, out.duplicate_lines = counts.duplicates, counts.duplicate_lines
    out.notes.extend(ctx.notes)
    if ignored:
        out.notes.append(f"columns ignored: {', '.join(_names_shown(ignored))}")
    if sheet.unlabelled:
        letters = ", ".join(sorted(sheet.unlabelled, key=lambda c: (len(c), c)))
        out.notes.append(f"values in columns without a header were ignored (column {letters})")
    if out.rejected:
        out.rejected_csv = rejected_csv.getvalue().encode("utf-8-sig")
    return out, touched, stager


def _names_shown(names: list[str]) -> list[str]:
    return [n if len(n) <= 40 else quoted(n) for n in names]


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
    """The rejected rows as they were, after their line and reason; every cell escaped as the
    answer export escapes it, so a hostile "=HYPERLINK(...)" stays text in a spreadsheet."""
    writer = csv.writer(out)
    if header:
        writer.writerow([safe_cell(c) for c in ["line", "reason", *raw_names.values()]])
    reasons = rejected[REASON] + ": " + rejected[VALUE]
    columns = [rejected[c].to_numpy(dtype=object) for c in raw_names]
    for line, reason, *cells in zip(rejected[LINE], reasons, *columns, strict=True):
        writer.writerow([int(line), *(safe_cell(v) for v in (reason, *cells))])


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
