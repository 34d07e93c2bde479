"""Posting what the service answers: an answer with its chart, the rows as CSV, an error.

Shared by the listeners of slash commands and buttons, which differ only in where the answer
goes (the channel, or the thread of the message whose button was clicked).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import is_users, user_message
from bot.export import answer_csv
from bot.service import Service
from bot.slack import blocks
from insights.query import Query, to_text

log = logging.getLogger(__name__)

NOT_IN_CHANNEL = (
    "I'm not a member of this channel, so only you can see this answer. "
    "Invite me with `/invite @roasbot` to post answers and charts here."
)


def tell(respond, exc: BaseException) -> None:
    """An error, privately to the person who asked, in our words (logged when it is ours)."""
    if not is_users(exc):
        log.error("request failed", exc_info=exc)
    respond(response_type="ephemeral", text=f":warning: {user_message(exc)}")


def post_answer(
    service: Service,
    client: WebClient,
    respond,
    query: Query,
    channel: str,
    thread_ts: str | None,
) -> None:
    """Compute the answer, post it in the channel (or thread) and the chart under it."""
    try:
        prepared = service.prepared(query)
    except Exception as exc:
        tell(respond, exc)
        return
    result = prepared.answer
    fallback, message = blocks.answer_message(
        result, to_text(query), previous=prepared.previous, currency=service.settings.currency
    )
    try:
        posted = client.chat_postMessage(
            channel=channel, text=fallback, blocks=message, thread_ts=thread_ts
        )
    except SlackApiError as exc:
        if exc.response.get("error") in ("not_in_channel", "channel_not_found"):
            respond(response_type="ephemeral", text=f"{fallback}\n\n{NOT_IN_CHANNEL}")
            return
        raise
    if prepared.chart is not None:
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts or posted["ts"],
            content=prepared.chart,
            filename=f"roas-{result.command}-{result.by or 'total'}.png",
            title=f"{result.title} · {blocks.window_label(result)}",
        )


def post_csv(
    service: Service, client: WebClient, respond, query: Query, channel: str, thread_ts: str
) -> None:
    """Every row of the answer as a CSV file in the thread."""
    try:
        result = service.every_row(query)
    except Exception as exc:
        tell(respond, exc)
        return
    client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        content=answer_csv(result),
        filename=f"roas-{result.command}-{result.by or 'rows'}.csv",
        title=f"{result.title} · {blocks.window_label(result)} (CSV)",
    )
