"""Posting what the service answers: an answer with its chart, the rows as CSV, an error.

Shared by the listeners of slash commands and buttons, which differ only in where the answer
goes (the channel, or the thread of the message whose button was clicked).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer_cache import Prepared
from bot.errors import is_users, user_message
from bot.export import answer_csv
from bot.service import Service
from bot.slack import blocks
from bot.slack.workers import to_slack
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
    to_slack(_deliver, service, client, respond, query, prepared, channel, thread_ts)


def _deliver(
    service: Service,
    client: WebClient,
    respond,
    query: Query,
    prepared: Prepared,
    channel: str,
    thread_ts: str | None,
) -> None:
    """Post a computed answer and its chart; when Slack will not take it, the person who asked
    is told through the command's response_url (another endpoint) and it is logged."""
    result = prepared.answer
    fallback, message = blocks.answer_message(
        result, to_text(query), previous=prepared.previous, currency=service.settings.currency
    )
    try:
        posted = client.chat_postMessage(
            channel=channel, text=fallback, blocks=message, thread_ts=thread_ts
        )
    except SlackApiError as exc:
        code = exc.response.get("error") or f"HTTP {exc.response.status_code}"
        if code in ("not_in_channel", "channel_not_found"):
            respond(response_type="ephemeral", text=f"{fallback}\n\n{NOT_IN_CHANNEL}")
            return
        _not_posted(respond, code, fallback)
        return
    except OSError as exc:  # Slack did not answer within the client's timeout
        _not_posted(respond, type(exc).__name__, fallback)
        return
    if prepared.chart is not None:
        try:
            client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts or posted["ts"],
                content=prepared.chart,
                filename=f"roas-{result.command}-{result.by or 'total'}.png",
                title=f"{result.title} · {blocks.window_label(result)}",
            )
        except (SlackApiError, OSError):
            log.warning("the chart of %s was not uploaded", to_text(query), exc_info=True)


def _not_posted(respond, code: str, fallback: str) -> None:
    log.error("an answer was not posted: Slack gave %s", code)
    respond(
        response_type="ephemeral",
        text=f":warning: Slack did not take the answer just now, so here it is for you: {fallback}",
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
