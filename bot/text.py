"""Plain-text rendering of results for the terminal (and anything else that shows text)."""

from __future__ import annotations

from storage.ingest import FileResult
from storage.summary import StoreSummary

_LINES_SHOWN = 20


def line_ranges(lines: list[int], limit: int = _LINES_SHOWN) -> str:
    """[2, 3, 4, 9] -> 'lines 2-4, 9': the form a person can find in a spreadsheet."""
    ordered = sorted(set(lines))
    spans: list[str] = []
    start = prev = ordered[0]
    for n in [*ordered[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    shown = ", ".join(spans[:limit])
    more = f" and {len(spans) - limit} more ranges" if len(spans) > limit else ""
    word = "line" if len(ordered) == 1 else "lines"
    return f"{word} {shown}{more}"


def file_result(result: FileResult) -> str:
    """A readable account of one file: what loaded, and each reason rows were rejected."""
    head = {
        "loaded": "loaded",
        "partial": "loaded with rejections",
        "already_loaded": "skipped",
        "refused": "REFUSED",
        "failed": "FAILED",
    }[result.status]
    out = [f"{result.filename}: {head} — {result.message}"]
    for sheet in result.sheets:
        where = f"  [sheet {sheet.sheet}]" if sheet.sheet else ""
        if where:
            out.append(where)
        for group in sheet.rejects:
            rows = len(group.lines)
            examples = ", ".join(group.examples)
            out.append(
                f"  rejected {rows:,} row{'s' if rows != 1 else ''}: {group.reason} — "
                f"{line_ranges(group.lines)} (e.g. {examples})"
            )
        if sheet.duplicates:
            out.append(
                f"  {sheet.duplicates:,} rows repeat the key of a later row in this file; the "
                f"later one was kept ({line_ranges(sheet.duplicate_lines)})"
            )
        if sheet.blank_lines:
            out.append(f"  {sheet.blank_lines:,} blank lines skipped")
        out.extend(f"  note: {note}" for note in sheet.notes)
    return "\n".join(out)


def store_summary(summary: StoreSummary, url: str, revision: str | None) -> str:
    out = [f"Store: {url} (schema {revision or 'none'})"]
    for d in summary.datasets:
        span = f"  {d.first} .. {d.last}" if d.first else ""
        extra = (
            f"  ({summary.attributed_rows:,} influencer-attributed)"
            if d.name == "tracking_data" and d.rows
            else ""
        )
        out.append(f"  {d.name:<14}{d.rows:>10,}{span}{extra}")
    if summary.brands:
        out.append(f"Brands: {', '.join(summary.brands)}")
    if summary.uploads:
        out.append("Recent uploads:")
        for u in summary.uploads:
            out.append(
                f"  #{u.id} {u.started_at:%Y-%m-%d %H:%M} {u.filename} [{u.status}] "
                f"{u.rows_seen:,} rows, {u.rows_rejected:,} rejected"
            )
    if summary.is_empty:
        out.append(
            "The store is empty: load data with `roasbot ingest FILE...` or "
            "`roasbot sample-data --load`."
        )
    return "\n".join(out)
