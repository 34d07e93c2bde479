"""Block Kit messages built from result objects; pure functions, no Slack calls.

Slack's limits are enforced here (50 blocks, 3000 characters a section, 150 a header, 10 fields),
so a large answer is shortened with a note instead of being rejected as invalid_blocks.
"""

from __future__ import annotations

import json

from bot.text import answer_table, line_ranges
from insights.digest import Digest
from insights.formatting import count, money, percent, ratio
from insights.results import Answer, Metrics
from storage.ingest import FileResult

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_VALUE = 2000

_STATUS_ICONS = {
    "loaded": ":white_check_mark:",
    "partial": ":large_yellow_circle:",
    "already_loaded": ":repeat:",
    "refused": ":x:",
    "failed": ":x:",
}
BUTTONS = (
    ("by_brand", "By brand", {"by": "brand"}),
    ("by_platform", "By platform", {"by": "platform"}),
    ("by_persona", "By persona", {"by": "persona"}),
    ("underperformers", "Underperformers", {"command": "underperformers"}),
    ("download_csv", "Download CSV", {"csv": True}),
)


def _text(kind: str, text: str) -> dict:
    return {"type": kind, "text": text}


def _section(markdown: str) -> dict:
    return {"type": "section", "text": _text("mrkdwn", _clip(markdown, MAX_SECTION))}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def delta(now: float | None, before: float | None) -> str:
    """'▲ 12%' / '▼ 3%' / '' when there is nothing to compare with."""
    if now is None or before is None or before == 0:
        return ""
    change = (now - before) / abs(before) * 100
    if abs(change) < 0.5:
        return "■ 0%"
    return f"{'▲' if change > 0 else '▼'} {abs(change):.0f}%"


def _field(name: str, value: str, change: str) -> dict:
    return _text("mrkdwn", f"*{name}*\n{value}" + (f"  {change}" if change else ""))


def figure_fields(totals: Metrics, previous: Metrics | None, currency: str) -> list[dict]:
    p = previous
    shown = [
        ("Revenue", "revenue", lambda v: money(v, currency)),
        ("Cost", "cost", lambda v: money(v, currency)),
        ("ROAS", "roas", ratio),
        ("iROAS", "incremental_roas", ratio),
        ("Orders", "orders", count),
        ("CPA", "cpa", lambda v: money(v, currency)),
    ]
    return [
        _field(
            name,
            fmt(getattr(totals, attr)),
            delta(getattr(totals, attr), getattr(p, attr) if p else None),
        )
        for name, attr, fmt in shown
    ]


def window_label(answer: Answer) -> str:
    if answer.window_from is None:
        return "no data yet"
    return f"{answer.window_from:%d %b %Y} – {answer.window_to:%d %b %Y}"


def filters_label(answer: Answer) -> str:
    if not answer.filters:
        return "all brands, products, campaigns and influencers"
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in answer.filters.items())


def answer_message(
    answer: Answer,
    query_text: str,
    *,
    previous: Metrics | None = None,
    currency: str = "INR",
    buttons: bool = True,
) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for an answer posted in a channel."""
    if answer.command == "help":
        return answer.notes[0], [_section(f"```{answer.notes[0]}```")]
    t = answer.totals
    header = _clip(f"{answer.title} · {window_label(answer)}", MAX_HEADER)
    blocks: list[dict] = [
        {"type": "header", "text": _text("plain_text", header)},
        {"type": "section", "fields": figure_fields(t, previous, currency)},
    ]
    if answer.subject:
        s = answer.subject
        blocks.append(
            _section(
                f"*{s['name']}* · {s['platform']} · {s['category']} · {s['followers']:,} "
                f"followers ({s['tier']}) · engagement {percent(t.engagement_rate)} · "
                f"{count(t.posts)} posts"
            )
        )
    if answer.rows:
        blocks.append(_section(_table_block(answer, currency)))
    context = [f"_{_clip(n, 300)}_" for n in answer.notes]
    if previous is not None:
        context.append("Changes are against the previous period of the same length.")
    context.append(f"Filters: {filters_label(answer)} · `/roas {query_text}`")
    blocks.append(
        {"type": "context", "elements": [_text("mrkdwn", _clip(" · ".join(context), MAX_SECTION))]}
    )
    if buttons:
        blocks.append(action_buttons(query_text))
    fallback = (
        f"{answer.title}: ROAS {ratio(t.roas)} on {money(t.revenue, currency)} revenue, "
        f"{money(t.cost, currency)} cost ({window_label(answer)}; {filters_label(answer)})"
    )
    return fallback, blocks[:MAX_BLOCKS]


def _table_block(answer: Answer, currency: str) -> str:
    """The rows as a code block; rows are dropped from the end until it fits one section."""
    rows = list(answer.rows)
    while True:
        shown = Answer(**{**answer.__dict__, "rows": rows})
        table = answer_table(shown, currency)
        dropped = len(answer.rows) - len(rows)
        suffix = f"\n… {dropped} more rows: Download CSV" if dropped else ""
        text = f"```{table}```{suffix}"
        if len(text) <= MAX_SECTION or len(rows) <= 1:
            return _clip(text, MAX_SECTION)
        rows = rows[:-1]


def action_buttons(query_text: str) -> dict:
    """Buttons that re-run the query with one change; the value carries the query itself."""
    elements = []
    for action_id, label, change in BUTTONS:
        value = json.dumps({"q": query_text, **change})
        if len(value) > MAX_BUTTON_VALUE:
            continue
        button = {"type": "button", "action_id": action_id, "value": value}
        elements.append({**button, "text": _text("plain_text", label)})
    return {"type": "actions", "block_id": "roas_actions", "elements": elements}


def error_message(text: str) -> tuple[str, list[dict]]:
    return text, [_section(f":warning: {text}")]


def upload_message(result: FileResult, changed: str | None = None) -> tuple[str, list[dict]]:
    """The reply in a file's thread: what loaded, what was refused and why, what changed."""
    icon = _STATUS_ICONS[result.status]
    lines = [f"{icon} *{result.filename}*: {result.message}"]
    for sheet in result.sheets:
        where = f" (sheet {sheet.sheet})" if sheet.sheet else ""
        for group in sheet.rejects[:10]:
            lines.append(
                f"• {len(group.lines):,} rejected{where}: {group.reason} — "
                f"{line_ranges(group.lines, 8)} (e.g. {', '.join(group.examples[:2])})"
            )
        if sheet.duplicates:
            lines.append(f"• {sheet.duplicates:,} rows repeated a later row's key; the later won")
        lines.extend(f"• {note}" for note in sheet.notes)
    if changed:
        lines.append(f":chart_with_upwards_trend: {changed}")
    text = _clip("\n".join(lines), MAX_SECTION)
    return text, [_section(text)]


# --- scheduled messages -------------------------------------------------------------------------


def _arrow(now: float | None, before: float | None) -> str:
    change = delta(now, before)
    return f" ({change})" if change else ""


def digest_message(digest: Digest, currency: str = "INR") -> tuple[str, list[dict]]:
    """The Monday message: the week against the week before, who led, who lagged, what to do."""
    scope = "; ".join(f"{k}: {', '.join(v)}" for k, v in digest.filters.items()) or "all brands"
    header = _clip(
        f"Weekly digest {digest.week} · {digest.start:%d %b} – {digest.end:%d %b %Y}", MAX_HEADER
    )
    if not digest.has_data:
        text = f"No data for {digest.week} ({scope}): nothing was tracked or paid that week."
        return text, [{"type": "header", "text": _text("plain_text", header)}, _section(text)]
    t, p = digest.totals, digest.previous
    lines = []
    if digest.top:
        lines.append(
            "*Top influencers:* "
            + ", ".join(
                f"{r.label} {ratio(r.roas)} ({money(r.cost, currency, compact=True)} spend)"
                for r in digest.top
            )
        )
    if digest.bottom:
        lines.append(
            "*Bottom influencers:* "
            + ", ".join(
                f"{r.label} {ratio(r.roas)} ({money(r.cost, currency, compact=True)} spend)"
                for r in digest.bottom
            )
        )
    if digest.top_persona:
        r = digest.top_persona
        lines.append(f"*Top persona:* {r.label} {ratio(r.roas)} ({r.influencers} influencers)")
    if digest.new_underperformers:
        lines.append(
            "*New underperformers:* "
            + ", ".join(f"{r.label} {ratio(r.roas)}" for r in digest.new_underperformers)
        )
    message = [
        {"type": "header", "text": _text("plain_text", header)},
        {"type": "section", "fields": figure_fields(t, p, currency)[:5]},
    ]
    if lines:
        message.append(_section("\n".join(lines)))
    if digest.recommendations:
        message.append(
            _section("*Recommendations*\n" + "\n".join(f"• {r}" for r in digest.recommendations))
        )
    message.append(
        {
            "type": "context",
            "elements": [
                _text(
                    "mrkdwn",
                    _clip(
                        f"{scope} · changes are against the week before",
                        MAX_SECTION,
                    ),
                )
            ],
        }
    )
    text = (
        f"Weekly digest {digest.week}: revenue {money(t.revenue, currency)}"
        f"{_arrow(t.revenue, p.revenue)}, cost {money(t.cost, currency)}, "
        f"ROAS {ratio(t.roas)}{_arrow(t.roas, p.roas)} ({scope})"
    )
    return text, message[:MAX_BLOCKS]


def alert_message(
    title: str, detail: str, context: str, rule_id: int, query_text: str
) -> tuple[str, list[dict]]:
    """A firing alert: what crossed which line, with Mute and Show underperformers buttons."""
    buttons = [
        {
            "type": "button",
            "action_id": "alert_mute",
            "text": _text("plain_text", "Mute 1 day"),
            "value": json.dumps({"rule": rule_id, "days": 1}),
        },
        {
            "type": "button",
            "action_id": "underperformers",
            "text": _text("plain_text", "Show underperformers"),
            "value": json.dumps({"q": query_text, "command": "underperformers"})[:MAX_BUTTON_VALUE],
        },
    ]
    return f"{title} — {detail}", [
        _section(f":rotating_light: *{title}*\n{detail}"),
        {"type": "context", "elements": [_text("mrkdwn", _clip(context, MAX_SECTION))]},
        {"type": "actions", "block_id": "alert_actions", "elements": buttons},
    ]
