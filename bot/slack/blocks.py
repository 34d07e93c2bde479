"""Block Kit messages built from result objects; pure functions, no Slack calls.

A leaf like every renderer: the words come from `bot.labels`, the markup and Slack's limits
from here. The limits are enforced (50 blocks, 3000 characters a section, 150 a header, 10
fields, 2000 a button value), so a large answer is shortened with a note instead of being
rejected as invalid_blocks.
"""

from __future__ import annotations

import json

from bot import labels
from bot.slack.buttons import (
    ALERT_ME,
    ANSWER_BUTTONS,
    EDIT_RULE,
    MUTE,
    NEW_ALERT,
    OTHER_READING,
    REMOVE_RULE,
    SHOW_UNDERPERFORMERS,
    SUBSCRIBE,
    UNSUBSCRIBE,
    VIEW_RULE,
    Button,
)
from insights.alerts import EACH, METRICS, Notice
from insights.catalogue import HEADLINE, TIME_BREAKDOWNS, metric
from insights.digest import Digest
from insights.formatting import money, ratio
from insights.home import Home
from insights.language import Understood
from insights.query import to_text
from insights.results import Answer, Explained, Metrics, WhatIf
from storage.ingest import FileResult

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100  # a Home tab or a modal
HOME_FIGURES = ("revenue", "cost", "roas", "incremental_roas")
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_TEXT = 75

_STATUS_ICONS = {
    "loaded": ":white_check_mark:",
    "partial": ":large_yellow_circle:",
    "already_loaded": ":repeat:",
    "refused": ":x:",
    "failed": ":x:",
}


def _text(kind: str, text: str) -> dict:
    return {"type": kind, "text": text}


def section(markdown: str) -> dict:
    return {"type": "section", "text": _text("mrkdwn", _clip(markdown, MAX_SECTION))}


def _header(text: str) -> dict:
    return {"type": "header", "text": _text("plain_text", _clip(text, MAX_HEADER))}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [_text("mrkdwn", _clip(text, MAX_SECTION))]}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


delta = labels.delta  # the change shown beside a figure: '▲ 12%'


def figure_fields(
    totals: Metrics, previous: Metrics | None, currency: str, names: tuple[str, ...] = HEADLINE
) -> list[dict]:
    return [
        _text("mrkdwn", f"*{label}*\n{value}" + (f"  {change}" if change else ""))
        for label, value, change in labels.figures(totals, names, previous, currency)
    ]


def window_label(answer: Answer) -> str:
    return labels.window_label(answer.window_from, answer.window_to)


def answer_message(
    answer: Answer,
    query_text: str,
    *,
    previous: Metrics | None = None,
    currency: str = "INR",
    buttons: bool = True,
    vs: str | None = None,
    understood: Understood | None = None,
    native: bool = False,
) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for an answer posted in a channel; a question in words gets
    how it was understood above it, and its other readings as buttons. `native`: the rows as
    a table block, a trend's figures as chart blocks (else the rows as text)."""
    lead = _understood_blocks(understood)
    if isinstance(answer, Explained):
        fallback, message = why_message(answer, query_text, currency=currency, buttons=buttons)
        return fallback, [*lead, *message][:MAX_BLOCKS]
    fallback, message = _figures_message(
        answer, query_text, previous, currency, buttons, vs, native
    )
    return fallback, [*lead, *message][:MAX_BLOCKS]


def _understood_blocks(understood: Understood | None) -> list[dict]:
    if understood is None:
        return []
    out = [_context(labels.understood_line(understood, code="`"))]
    others = [
        _button(OTHER_READING, "", {"q": to_text(query)}, label=f"Did you mean {label}?")
        for label, query in understood.alternatives
    ]
    if any(others):
        out.append(_actions("other_readings", others))
    return out


def _figures_message(
    answer: Answer,
    query_text: str,
    previous: Metrics | None,
    currency: str,
    buttons: bool,
    vs: str | None,
    native: bool = False,
) -> tuple[str, list[dict]]:
    t = answer.totals
    blocks: list[dict] = [
        _header(f"{answer.title} · {window_label(answer)}"),
        {"type": "section", "fields": figure_fields(t, previous, currency)},
    ]
    if isinstance(answer, WhatIf):
        blocks.append(section("\n".join(labels.whatif_lines(answer, currency))))
    if answer.subject:
        s = answer.subject
        blocks.append(
            section(
                f"*{s['name']}* · {s['platform']} · {s['category']} · {s['followers']:,} "
                f"followers ({s['tier']}) · engagement {labels.figure(t, 'engagement_rate')} · "
                f"{labels.figure(t, 'posts')} posts"
            )
        )
    if answer.rows and native:
        blocks += [*trend_charts(answer), table_block(answer, currency)]
    elif answer.rows:
        blocks.append(section(_table_block(answer, currency)))
    notes = labels.changes_notes(vs, previous)
    blocks += _footer(answer, query_text, notes, buttons)
    fallback = (
        f"{answer.title}: ROAS {ratio(t.roas)} on {money(t.revenue, currency)} revenue, "
        f"{money(t.cost, currency)} cost ({window_label(answer)}; "
        f"{labels.scope_label(answer.filters)})"
    )
    return fallback, blocks[:MAX_BLOCKS]


def why_message(
    answer: Explained, query_text: str, *, currency: str = "INR", buttons: bool = True
) -> tuple[str, list[dict]]:
    """`why`: the one-line summary, both windows' figures, the segments pushing each way."""
    blocks: list[dict] = [_header(f"{answer.title} · {window_label(answer)}")]
    summary = answer.title
    if answer.comparison_from is not None:
        summary = labels.why_summary(answer, currency)
        names = labels.why_totals(answer)
        blocks += [
            section(f"*{summary}*"),
            {"type": "section",
             "fields": figure_fields(answer.totals, answer.comparison, currency, names)},
            _context(f"Against {labels.comparison_label(answer)}: " + " · ".join(
                f"{label} {value}"
                for label, value, _ in labels.figures(answer.comparison, names, None, currency)
            )),
        ]  # fmt: skip
    for title, lines in labels.why_sections(answer, currency):
        blocks.append(section(f"*{title}*\n" + "\n".join(f"• {line}" for line in lines)))
    blocks += _footer(answer, query_text, [], buttons)
    return summary, blocks[:MAX_BLOCKS]


def _footer(answer: Answer, query_text: str, extra: list[str], buttons: bool) -> list[dict]:
    """An answer's notes, freshness, filters and command, then its buttons."""
    context = [f"_{_clip(n, 300)}_" for n in answer.notes] + extra
    if answer.data_through is not None:
        context.append(labels.data_through(answer.data_through))
    context.append(f"Filters: {labels.scope_label(answer.filters)} · `/roas {query_text}`")
    return [_context(" · ".join(context)), *([action_buttons(query_text)] if buttons else [])]


def _table_block(answer: Answer, currency: str) -> str:
    """The rows as a code block; rows are dropped from the end until it fits one section."""
    cells = labels.table_cells(answer, currency)
    shown = len(cells) - 1
    while True:
        dropped = len(answer.rows) - shown
        suffix = f"\n… {dropped} more rows: Download CSV" if dropped else ""
        text = f"```{labels.aligned(cells[: shown + 1])}```{suffix}"
        if len(text) <= MAX_SECTION or shown <= 1:
            return _clip(text, MAX_SECTION)
        shown -= 1


# Slack's table block (docs.slack.dev/reference/block-kit/blocks/table-block): at most 100 rows
# of at most 20 cells, column_settings of at most 20. One table per message is kept to.
MAX_TABLE_ROWS = 100
MAX_TABLE_CELLS = 20
# Its chart block (data-visualization-block): a title of at most 50 characters, 1-6 series of
# unique names whose labels are the axis categories, at most two charts in a message.
MAX_CHART_TITLE = 50
MAX_CHARTS = 2
MAX_CHART_POINTS = 20  # not in Slack's reference as read: a conservative bound
MAX_CHART_LABEL = 20  # likewise


def table_block(answer: Answer, currency: str = "INR") -> dict:
    """The rows as Slack's table: the header and the top rows (the rest are in the CSV)."""
    cells = labels.table_cells(answer, currency)
    rows = [line[:MAX_TABLE_CELLS] for line in cells[:MAX_TABLE_ROWS]]
    return {
        "type": "table",
        "column_settings": [{"align": "left", "is_wrapped": True}]
        + [{"align": "right"}] * (min(len(rows[0]), MAX_TABLE_CELLS) - 1),
        "rows": [[{"type": "raw_text", "text": cell} for cell in line] for line in rows],
    }


def has_chart(answer: Answer) -> bool:
    """Whether a native message of `answer` carries its chart (a trend over time)."""
    return bool(trend_charts(answer))


def trend_charts(answer: Answer) -> list[dict]:
    """A time breakdown as Slack charts: ROAS as a line, revenue and cost as bars, over the
    last periods that have every figure (at most MAX_CHART_POINTS)."""
    if answer.by not in TIME_BREAKDOWNS:
        return []
    rows = [r for r in answer.rows if r.roas is not None][-MAX_CHART_POINTS:]
    if not rows:
        return []
    names = [_clip(r.label, MAX_CHART_LABEL) for r in rows]
    if len(set(names)) != len(names):
        return []

    def series(name: str, values: list[float]) -> dict:
        return {"name": name, "data": [{"label": n, "value": round(v, 2)}
                                       for n, v in zip(names, values, strict=True)]}  # fmt: skip

    def chart(title: str, kind: str, lines: list[dict], y: str) -> dict:
        axis = {"categories": names, "x_label": answer.by.title(), "y_label": y}
        return {"type": "data_visualization", "title": _clip(title, MAX_CHART_TITLE),
                "chart": {"type": kind, "series": lines, "axis_config": axis}}  # fmt: skip

    return [
        chart(f"ROAS by {answer.by}", "line", [series("ROAS", [r.roas for r in rows])], "ROAS"),
        chart(f"Revenue and cost by {answer.by}", "bar",
              [series("Revenue", [r.revenue or 0 for r in rows]),
               series("Cost", [r.cost or 0 for r in rows])], "Amount"),
    ][:MAX_CHARTS]  # fmt: skip


def _button(
    button: Button, query_text: str, value: dict | None = None, label: str | None = None
) -> dict | None:
    """A button whose value carries the query to re-run (None when it would not fit)."""
    data = json.dumps(value if value is not None else {"q": query_text, **button.change})
    if len(data) > MAX_BUTTON_VALUE:
        return None
    return {
        "type": "button",
        "action_id": button.action_id,
        "text": _text("plain_text", _clip(label or button.label, MAX_BUTTON_TEXT)),
        "value": data,
    }


def _actions(block_id: str, buttons: list[dict | None]) -> dict:
    return {"type": "actions", "block_id": block_id, "elements": [b for b in buttons if b]}


def action_buttons(query_text: str) -> dict:
    """Buttons that re-run the query with one change; the value carries the query itself."""
    shown = [_button(b, query_text) for b in ANSWER_BUTTONS]
    return _actions("roas_actions", [*shown, _button(ALERT_ME, query_text, {"q": query_text})])


def error_message(text: str) -> tuple[str, list[dict]]:
    return text, [section(f":warning: {text}")]


def upload_message(result: FileResult, changed: str | None = None) -> tuple[str, list[dict]]:
    """The reply in a file's thread: what loaded, what was refused and why, what changed."""
    lines = [f"{_STATUS_ICONS[result.status]} *{result.filename}*: {result.message}"]
    lines += [f"• {line}" for line in labels.upload_details(result, ranges=8, groups=10)]
    if changed:
        lines.append(f":chart_with_upwards_trend: {changed}")
    text = _clip("\n".join(lines), MAX_SECTION)
    return text, [section(text)]


# --- scheduled messages -----------------------------------------------------------------------


def digest_message(digest: Digest, currency: str = "INR") -> tuple[str, list[dict]]:
    """The Monday message: the week against the week before, who led, who lagged, what to do."""
    header = _header(labels.digest_heading(digest))
    if not digest.has_data:
        text = labels.digest_empty(digest)
        return text, [header, section(text)]
    message = [
        header,
        {
            "type": "section",
            "fields": figure_fields(digest.totals, digest.previous, currency, HEADLINE[:5]),
        },
    ]
    sections = labels.digest_sections(digest, currency)
    if sections:
        message.append(section("\n".join(f"*{title}:* {text}" for title, text in sections)))
    changes = labels.digest_changes(digest, currency)
    if changes:
        message.append(section("*What changed*\n" + "\n".join(f"• {c}" for c in changes)))
    if digest.recommendations:
        message.append(
            section("*Recommendations*\n" + "\n".join(f"• {r}" for r in digest.recommendations))
        )
    message.append(_context(labels.digest_context(digest)))
    return labels.digest_summary(digest, currency), message[:MAX_BLOCKS]


def alert_message(notice: Notice, currency: str = "INR") -> tuple[str, list[dict]]:
    """A firing alert: what crossed which line, with Mute and Show underperformers buttons."""
    title = f"{labels.alert_subject(notice)} is {labels.alert_value(notice, currency)}"
    detail = f"Condition: {labels.alert_condition(notice)}"
    if notice.rule.unusual:
        expected = labels.expectation(notice.rule, notice.value, notice.expected, currency)
        detail = f"{expected[0].upper()}{expected[1:]}\n{detail}"
    buttons = [
        _button(MUTE, "", {"rule": notice.rule_id, "days": 1}),
        _button(SHOW_UNDERPERFORMERS, to_text(notice.query)),
    ]
    return f"{title} — {detail}", [
        section(f":rotating_light: *{title}*\n{detail}"),
        _context(labels.alert_footer(notice)),
        _actions("alert_actions", buttons),
    ]


def alert_reminder(notice: Notice, currency: str = "INR") -> str:
    return f":bell: {labels.alert_text(notice, currency)}"


def alert_resolved(notice: Notice, currency: str = "INR") -> tuple[str, str, list[dict]]:
    """(thread reply, the fire message's new text, its new blocks) for a resolve."""
    who, value = labels.alert_subject(notice), labels.alert_value(notice, currency)
    reply = f":white_check_mark: {labels.alert_text(notice, currency)}"
    struck = f"~Alert #{notice.rule_id}~ resolved"
    return reply, struck, [section(f":white_check_mark: {struck}: {who} is back to {value}")]


# --- the Home tab ---------------------------------------------------------------------------


def home_view(home: Home, currency: str = "INR") -> dict:
    """The Home tab: recent figures with their change, the week's best and worst, every
    channel's digests and alert rules with their state, and the buttons that change them
    (admins) or show them (everyone)."""
    blocks: list[dict] = [_header("roasbot · the team's ROAS")]
    for days, totals, previous in home.windows:
        blocks += [
            section(f"*Last {days} days*"),
            {"type": "section",
             "fields": figure_fields(totals, previous, currency, HOME_FIGURES)},
        ]  # fmt: skip
    if home.top:
        blocks.append(section("*This week's best*\n" + _ranked(home.top, currency)))
    if home.bottom:
        blocks.append(section("*This week's weakest*\n" + _ranked(home.bottom, currency)))
    blocks += [{"type": "divider"}, section(f"*Weekly digests* ({len(home.subscriptions)})")]
    for sub in home.subscriptions:
        text = f"<#{sub.channel}> · {sub.day.title()} {sub.time} {sub.timezone}"
        text += f" · {sub.filters}" if sub.filters else ""
        button = _button(UNSUBSCRIBE, "", {"channel": sub.channel}) if home.admin else None
        blocks.append(_with_button(text, button))
    blocks.append(section(f"*Alert rules* ({len(home.rules)})"))
    room = MAX_VIEW_BLOCKS - len(blocks) - 4
    for state in home.rules[: room // 2]:
        status = "FIRING" if state.firing else "OK"
        status += " · muted" if state.muted else ""
        value = {"rule": state.rule.id, "days": 1}
        shown = [_button(VIEW_RULE, "", value)]
        if home.admin:
            shown += [_button(b, "", value) for b in (EDIT_RULE, MUTE, REMOVE_RULE)]
        blocks += [
            section(f"*#{state.rule.id}* <#{state.rule.channel}> `{state.describe}` · *{status}*"),
            _actions(f"rule_{state.rule.id}", shown),
        ]
    if len(home.rules) > room // 2:
        blocks.append(_context(f"… {len(home.rules) - room // 2} more: `/alert list`"))
    if home.admin:
        blocks.append(_actions("home_forms", [_button(NEW_ALERT, "", {}),
                                              _button(SUBSCRIBE, "", {})]))  # fmt: skip
    else:
        blocks.append(_context("Only admins (ADMIN_USER_IDS) add alerts and subscriptions."))
    loaded = home.last_load
    last = f"last load: {loaded.filename} at {loaded.started_at:%d %b %H:%M} UTC" if loaded else ""
    blocks.append(_context(" · ".join(x for x in (labels.data_through(home.data_through), last)
                                      if x)))  # fmt: skip
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _ranked(rows, currency: str) -> str:
    return "\n".join(
        f"• {row.label}: ROAS {ratio(row.roas)} on {money(row.cost, currency)} cost" for row in rows
    )


def _with_button(text: str, button: dict | None) -> dict:
    block = section(text)
    if button is not None:
        block["accessory"] = button
    return block


# --- forms (modals) ---------------------------------------------------------------------------

ALERT_FORM = "alert_form"  # the callback_id of each form's view_submission
SUBSCRIBE_FORM = "subscribe_form"
CONDITIONS = (("<", "is below"), (">", "is above"), ("drop", "drops by more than %"),
              ("rise", "rises by more than %"))  # fmt: skip
WINDOWS = ("1d", "7d", "14d", "30d", "90d")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _option(value: str, text: str) -> dict:
    return {"text": _text("plain_text", _clip(text, 75)), "value": value}


def _select(block_id: str, label: str, options: list[tuple[str, str]], initial: str | None,
            optional: bool = False) -> dict:  # fmt: skip
    element: dict = {
        "type": "static_select",
        "action_id": f"{block_id}_select",
        "options": [_option(v, t) for v, t in options],
    }
    chosen = [_option(v, t) for v, t in options if v == initial]
    if chosen:
        element["initial_option"] = chosen[0]
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": _text("plain_text", label), "element": element}  # fmt: skip


def _input(block_id: str, label: str, initial: str = "", hint: str = "",
           optional: bool = False) -> dict:  # fmt: skip
    element: dict = {"type": "plain_text_input", "action_id": f"{block_id}_input"}
    if initial:
        element["initial_value"] = initial
    block = {"type": "input", "block_id": block_id, "optional": optional,
             "label": _text("plain_text", label), "element": element}  # fmt: skip
    if hint:
        block["hint"] = _text("plain_text", hint)
    return block


def _channel_input(initial: str | None) -> dict:
    element: dict = {"type": "conversations_select", "action_id": "channel_select",
                     "filter": {"include": ["public", "private"],
                                "exclude_bot_users": True}}  # fmt: skip
    if initial:
        element["initial_conversation"] = initial
    return {"type": "input", "block_id": "channel",
            "label": _text("plain_text", "Post in channel"), "element": element}  # fmt: skip


def _form(callback_id: str, title: str, submit: str, blocks: list[dict], metadata: dict) -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _text("plain_text", _clip(title, 24)),
        "submit": _text("plain_text", submit),
        "close": _text("plain_text", "Cancel"),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def alert_form(prefill: dict) -> dict:
    """ "New alert" (or "Edit", "Alert me when this drops"): metric, condition, threshold,
    window, entity and channel, prefilled from `prefill` (the same keys)."""
    metrics = [(m, metric(m).label) for m in METRICS]
    each = [("scope", "The whole scope"), *((e, f"Each {e}") for e in EACH)]
    blocks = [
        _select("metric", "Metric", metrics, prefill.get("metric", "roas")),
        _select("condition", "Condition", list(CONDITIONS), prefill.get("op", "<")),
        _input("threshold", "Threshold", prefill.get("threshold", ""),
               "A number: 1.5 for ROAS, 30 for a 30% drop"),
        _select("window", "Over the last", [(w, w.replace("d", " days")) for w in WINDOWS],
                prefill.get("window", "7d")),
        _select("each", "Watch", each, prefill.get("each") or "scope"),
        _input("filters", "Filters", prefill.get("filters", ""),
               "e.g. brand=MuscleBlaze platform=Instagram", optional=True),
        _channel_input(prefill.get("channel")),
    ]  # fmt: skip
    title = "Edit alert" if prefill.get("replace") else "New alert"
    metadata = {k: prefill[k] for k in ("replace",) if prefill.get(k)}
    return _form(ALERT_FORM, title, "Save alert", blocks, metadata)


def subscribe_form(channel: str | None, timezone: str) -> dict:
    """ "Subscribe a channel": the weekly digest's channel, day, time, zone and filters."""
    blocks = [
        _channel_input(channel),
        _select("day", "Day", [(d, d.title()) for d in WEEKDAYS], "mon"),
        _input("time", "Time (HH:MM)", "09:00"),
        _input("tz", "Time zone", timezone),
        _input("filters", "Filters", "", "e.g. brand=MuscleBlaze", optional=True),
    ]
    return _form(SUBSCRIBE_FORM, "Subscribe a channel", "Subscribe", blocks, {})
