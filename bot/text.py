"""Plain-text rendering of results for the terminal (and anything else that shows text)."""

from __future__ import annotations

from insights.digest import Digest
from insights.formatting import count, money, percent, ratio
from insights.results import Answer, Row
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


# --- answers ------------------------------------------------------------------------------

_COLUMNS = {
    "roas": ["revenue", "cost", "roas", "incremental_roas", "orders"],
    "underperformers": ["revenue", "cost", "roas", "wasted_spend", "posts", "engagement_rate"],
    "personas": ["influencers", "cost", "revenue", "roas", "incremental_roas"],
    "trend": ["revenue", "cost", "roas", "orders", "posts"],
    "influencer": ["revenue", "cost", "roas", "orders", "posts", "engagement_rate"],
}
_HEADINGS = {
    "revenue": "Revenue", "cost": "Cost", "roas": "ROAS", "incremental_roas": "iROAS",
    "orders": "Orders", "posts": "Posts", "engagement_rate": "Eng.", "wasted_spend": "Wasted",
    "influencers": "Infl.",
}  # fmt: skip


def _cell(row: Row, column: str, currency: str) -> str:
    value = getattr(row, column)
    if column in ("revenue", "cost", "wasted_spend"):
        return money(value, currency)
    if column in ("roas", "incremental_roas"):
        return ratio(value)
    if column == "engagement_rate":
        return percent(value)
    return count(value)


def answer_heading(answer: Answer) -> str:
    """'ROAS by brand · 2025-03-01 to 2025-03-31 · brand: MuscleBlaze'."""
    parts = [answer.title]
    if answer.window_from:
        parts.append(f"{answer.window_from} to {answer.window_to}")
    filters = "; ".join(f"{k}: {', '.join(v)}" for k, v in answer.filters.items())
    parts.append(filters or "all data")
    return " · ".join(parts)


def answer_totals(answer: Answer, currency: str = "INR") -> str:
    t = answer.totals
    return " · ".join([
        f"Revenue {money(t.revenue, currency)}", f"Cost {money(t.cost, currency)}",
        f"ROAS {ratio(t.roas)}", f"iROAS {ratio(t.incremental_roas)}",
        f"Orders {count(t.orders)}", f"CPA {money(t.cpa, currency)}",
        f"Engagement {percent(t.engagement_rate)}", f"Influencers {count(t.influencers)}",
    ])  # fmt: skip


def answer_table(answer: Answer, currency: str = "INR", width: int = 28) -> str:
    """The rows as an aligned plain-text table (also what Slack shows in a code block)."""
    columns = _COLUMNS.get(answer.command, _COLUMNS["roas"])
    if answer.command == "roas" and answer.by in ("influencer", "week", "month"):
        columns = [*columns, "posts", "engagement_rate"]
    header = [(answer.by or "").capitalize(), *(_HEADINGS[c] for c in columns)]
    body = [
        [_shorten(r.label, width), *(_cell(r, c, currency) for c in columns)] for r in answer.rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = []
    for line in [header, *body]:
        first = line[0].ljust(widths[0])
        rest = (cell.rjust(w) for cell, w in zip(line[1:], widths[1:], strict=True))
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def answer_text(answer: Answer, currency: str = "INR") -> str:
    """The whole answer for a terminal: heading, totals, table, notes."""
    if answer.command == "help":
        return answer.notes[0]
    out = [answer_heading(answer), answer_totals(answer, currency)]
    if answer.subject:
        s = answer.subject
        out.append(f"{s['name']} · {s['platform']} · {s['category']} · {s['gender']} · "
                   f"{s['followers']:,} followers ({s['tier']})")  # fmt: skip
    if answer.rows:
        out += ["", answer_table(answer, currency)]
    out += [f"Note: {n}" for n in answer.notes]
    out += [f"Chart: {c}" for c in answer.charts]
    return "\n".join(out)


def digest_text(digest: Digest, currency: str = "INR") -> str:
    """The weekly digest for a terminal (`roasbot digest --dry-run`)."""
    from bot.slack.blocks import digest_message

    text, message = digest_message(digest, currency)
    lines = [text]
    for block in message[1:]:
        if block["type"] == "section" and "fields" in block:
            lines.append(
                "  ".join(f["text"].replace("*", "").replace("\n", " ") for f in block["fields"])
            )
        elif block["type"] == "section":
            lines.append(block["text"]["text"].replace("*", ""))
    return "\n".join(lines)
