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
from bot.service import Later, Service
from bot.slack import blocks
from bot.slack.workers import to_slack
from insights.language import Understood
from insights.query import Query, to_text

log = logging.getLogger(__name__)

ANSWER_EVENT = "roasbot_answer"  # the message metadata that carries an answer's query


def answer_metadata(query: Query) -> dict:
    """What an answer's message carries for a reply in its thread to be read against (kept by
    Slack with the message, so a restart loses nothing)."""
    return {"event_type": ANSWER_EVENT, "event_payload": {"q": to_text(query)}}


def thread_query(client: WebClient, channel: str, thread_ts: str) -> str | None:
    """The query of the latest answer in a thread (its command line), None when the thread
    has no answer of ours."""
    try:
        replies = client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
        )
    except SlackApiError as exc:
        log.warning("could not read thread %s: %s", thread_ts, exc.response.get("error"))
        return None
    for message in reversed(replies.get("messages") or []):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == ANSWER_EVENT:
            return (metadata.get("event_payload") or {}).get("q")
    return None


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
    understood: Understood | None = None,
) -> None:
    """Compute the answer, post it in the channel (or thread) and the chart under it;
    `understood` is how a question in words was read (echoed above the answer)."""
    try:
        prepared = service.prepared(query)
    except Exception as exc:
        tell(respond, exc)
        return
    to_slack(_deliver, service, client, respond, query, prepared, channel, thread_ts, understood)


def _deliver(
    service: Service,
    client: WebClient,
    respond,
    query: Query,
    prepared: Prepared,
    channel: str,
    thread_ts: str | None,
    understood: Understood | None = None,
) -> None:
    """Post a computed answer and its chart; when Slack will not take it, the person who asked
    is told through the command's response_url (another endpoint) and it is logged."""
    result = prepared.answer
    native = service.settings.chart_style == "native"
    for style in (True, False) if native else (False,):
        fallback, message = blocks.answer_message(
            result, to_text(query), previous=prepared.previous, currency=service.settings.currency,
            vs=query.vs, understood=understood, native=style,
        )  # fmt: skip
        try:
            posted = client.chat_postMessage(
                channel=channel, text=fallback, blocks=message, thread_ts=thread_ts,
                metadata=answer_metadata(query),
            )  # fmt: skip
            native = style
            break
        except SlackApiError as exc:
            code = exc.response.get("error") or f"HTTP {exc.response.status_code}"
            if code == "invalid_blocks" and style:  # a table or chart Slack will not take here
                log.warning("Slack refused native blocks (%s): the answer goes without them",
                            exc.response.get("errors"))  # fmt: skip
                continue
            if code in ("not_in_channel", "channel_not_found"):
                respond(response_type="ephemeral", text=f"{fallback}\n\n{NOT_IN_CHANNEL}")
                return
            _not_posted(respond, code, fallback)
            return
        except OSError as exc:  # Slack did not answer within the client's timeout
            _not_posted(respond, type(exc).__name__, fallback)
            return
    if native and blocks.has_chart(result):
        return  # the chart is in the message; the PNG is for everything else and the fallback
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


def run_later(reply: Later, respond) -> None:
    """A slow command's work (a digest, an alert check), then what it has to say."""
    try:
        outcome = reply.work()
    except Exception as exc:
        if not is_users(exc):
            log.error("background command failed", exc_info=exc)
        outcome = user_message(exc)
    if outcome:
        respond(response_type="ephemeral", text=outcome)
