"""Plain-text rendering for the terminal: answers, digests, alerts, uploads, the store.

A leaf like every renderer: it turns `insights`/`storage` result objects into lines with the
shared words of `bot.labels`, and imports no other renderer.
"""

from __future__ import annotations

import re

from bot import labels
from insights.alerts import Check, Notice
from insights.catalogue import HEADLINE, TOTALS
from insights.digest import Digest
from insights.language import Understood
from insights.results import Answer, Explained, Metrics, WhatIf
from storage.ingest import FileResult
from storage.summary import StoreSummary

_SLACK_REFERENCE = re.compile(r"<([#@])([A-Z0-9]+)(?:\|([^>]*))?>")
_EMOJI = re.compile(r"(?:^|(?<=\s)):[a-z0-9_+-]+:\s?")


def plain(message: str) -> str:
    """A reply written for Slack, for a terminal: `<#C123|sales>` -> '#sales', `<@U1>` -> '@U1',
    emoji codes left out (backticks and *stars* read fine as they are)."""
    message = _SLACK_REFERENCE.sub(lambda m: m[1] + (m[3] or m[2]), message)
    return _EMOJI.sub("", message)


def file_result(result: FileResult, changed: str | None = None) -> str:
    """A readable account of one file: what loaded, and each reason rows were rejected."""
    out = [f"{result.filename}: {labels.UPLOAD_STATUS[result.status]} — {result.message}"]
    out += [f"  {line}" for line in labels.upload_details(result)]
    if changed:
        out.append(f"  {changed}")
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


# --- answers ----------------------------------------------------------------------------------


def answer_heading(answer: Answer) -> str:
    """'ROAS by brand · 01 Mar 2025 – 31 Mar 2025 · brand: MuscleBlaze'."""
    window = labels.window_label(answer.window_from, answer.window_to)
    return " · ".join([answer.title, window, labels.scope_label(answer.filters)])


def _figures_line(
    result: Metrics, names: tuple[str, ...], previous: Metrics | None, currency: str
) -> str:
    return " · ".join(
        f"{label} {value}" + (f" {change}" if change else "")
        for label, value, change in labels.figures(result, names, previous, currency)
    )


def answer_text(
    answer: Answer,
    currency: str = "INR",
    previous: Metrics | None = None,
    *,
    vs: str | None = None,
    understood: Understood | None = None,
) -> str:
    """The whole answer for a terminal: how a question in words was understood, heading,
    totals (with their change against the previous window, or `vs`, when given), the
    subject, the table, notes and charts."""
    lead = [labels.understood_line(understood)] if understood else []
    if isinstance(answer, Explained):
        return "\n".join([*lead, _why_text(answer, currency)])
    out = [*lead, answer_heading(answer), _figures_line(answer.totals, TOTALS, previous, currency)]
    if isinstance(answer, WhatIf):
        out += labels.whatif_lines(answer, currency)
    if answer.subject:
        out.append(labels.subject_line(answer))
    if answer.rows:
        out += ["", labels.aligned(labels.table_cells(answer, currency))]
    notes = [*answer.notes, *labels.changes_notes(vs, previous)]
    return "\n".join([*out, *_footer(answer, notes)])


def _footer(answer: Answer, notes: list[str]) -> list[str]:
    out = [f"Note: {n}" for n in notes]
    if answer.data_through is not None and answer.window_from is not None:
        out.append(f"{labels.data_through(answer.data_through)}.")
    return out + [f"Chart: {c}" for c in answer.charts]


def _why_text(answer: Explained, currency: str) -> str:
    """The change, both windows' figures, the segments pushing each way, and the notes."""
    out = [answer_heading(answer)]
    if answer.comparison_from is not None:
        names = labels.why_totals(answer)
        out += [
            labels.why_summary(answer, currency),
            f"Now: {_figures_line(answer.totals, names, answer.comparison, currency)}",
            f"Against {labels.comparison_label(answer)}: "
            f"{_figures_line(answer.comparison, names, None, currency)}",
        ]
    for title, lines in labels.why_sections(answer, currency):
        out += [f"{title}:", *(f"  {line}" for line in lines)]
    return "\n".join([*out, *_footer(answer, answer.notes)])


# --- scheduled messages -----------------------------------------------------------------------


def digest_text(digest: Digest, currency: str = "INR") -> str:
    """The weekly digest for a terminal (`roasbot digest --dry-run`, the console)."""
    if not digest.has_data:
        return "\n".join([labels.digest_heading(digest), labels.digest_empty(digest)])
    lines = [
        labels.digest_summary(digest, currency),
        labels.digest_heading(digest),
        _figures_line(digest.totals, HEADLINE[:5], digest.previous, currency),
    ]
    lines += [f"{title}: {text}" for title, text in labels.digest_sections(digest, currency)]
    changes = labels.digest_changes(digest, currency)
    if changes:
        lines += ["What changed", *(f"  {line}" for line in changes)]
    if digest.recommendations:
        lines.append("Recommendations")
        lines += [f"  • {r}" for r in digest.recommendations]
    lines.append(labels.digest_context(digest))
    return "\n".join(lines)


def alert_text(notice: Notice, currency: str = "INR") -> str:
    """One alert event for a terminal."""
    return f"Alert #{notice.rule_id}: {labels.alert_text(notice, currency)}"


def checks_text(checks: list[Check], currency: str = "INR") -> str:
    """Alert rules evaluated without acting on them, one entity a line."""
    if not checks:
        return "No alert rules yet."
    lines = ["Alert rules now (evaluated only: nothing is posted or changed):"]
    for c in checks:
        if c.error:
            lines.append(f"  #{c.rule_id} {c.rule.describe()}: {c.error}")
            continue
        shown = labels.rule_value(c.rule, c.value, currency)
        if c.rule.unusual:
            shown += f", {labels.expectation(c.rule, c.value, c.expected, currency)}"
        verdict = "breaches" if c.breached else "within"
        lines.append(
            f"  #{c.rule_id} {c.rule.describe()} · {c.entity or 'scope'}: {shown} "
            f"({verdict}; state {c.state})"
        )
    return "\n".join(lines)
