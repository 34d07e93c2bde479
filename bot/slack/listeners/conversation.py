"""Conversations: a mention, a direct message, a reply in the thread of an answer.

People talk to a bot rather than type grammar: `@roasbot how did gritzo do last month` in a
channel is answered in the mention's thread, a DM in the DM, and a reply in the thread of an
answer ("by platform", "only Instagram", "why?") is read as a change to that answer's query and
answered in the same thread. The thread's query lives in the answer message's metadata, which
Slack keeps, so a restart of the bot loses no conversation. Threads without an answer of ours
are people talking to each other: the bot stays out of them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.service import Help, Later, Question, Service
from bot.slack.replies import post_answer, run_later, tell, thread_query
from bot.slack.workers import in_background

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def register(app: App, service: Service) -> None:
    def on_mention(event: dict, client: WebClient, context) -> None:
        if _ours(event, context):
            return
        asked_in = event.get("thread_ts")
        in_background(_converse, service, client, event, asked_in or event["ts"], asked_in)

    def on_message(event: dict, client: WebClient, context) -> None:
        """DMs, and replies in threads; other messages (and edits, joins...) are not for us."""
        if event.get("subtype") or _ours(event, context):
            return
        thread = event.get("thread_ts")
        if event.get("channel_type") == "im":
            in_background(_converse, service, client, event, thread, thread)
        elif thread and thread != event.get("ts") and not _MENTION.search(event.get("text", "")):
            # A mention in a thread arrives as app_mention too, and is answered from there.
            in_background(_converse, service, client, event, thread, thread, True)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def _ours(event: dict, context) -> bool:
    """The bot's own messages come back as events: answering them would be talking to itself."""
    return bool(event.get("bot_id")) or event.get("user") == context.get("bot_user_id")


def _converse(
    service: Service,
    client: WebClient,
    event: dict,
    reply_in: str | None,
    asked_in: str | None,
    only_follow_ups: bool = False,
) -> None:
    """Read the message (against the thread's answer, if any) and answer in `reply_in`."""
    channel = event["channel"]
    base = thread_query(client, channel, asked_in) if asked_in else None
    if only_follow_ups and base is None:
        return
    say = _saying(client, channel, reply_in)
    text = _MENTION.sub(" ", event.get("text") or "").strip()
    try:
        reply = service.converse(
            text,
            service.caller(event.get("user"), channel),
            service.parse(base) if base else None,
            quiet=only_follow_ups,
        )
    except Exception as exc:
        tell(say, exc)
        return
    if reply is None:
        return
    if isinstance(reply, Question):
        post_answer(service, client, say, reply.query, channel, reply_in, reply.understood)
    elif isinstance(reply, Later):
        say(text=reply.text)
        run_later(reply, say)
    else:
        say(text=f"```{reply.text}```" if isinstance(reply, Help) else getattr(reply, "text", ""))


def _saying(client: WebClient, channel: str, thread: str | None) -> Callable[..., None]:
    """A `respond` for a conversation: there is no response_url, so it posts in the thread
    (a DM without a thread: in the DM)."""

    def say(text: str = "", **_options) -> None:
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
        except SlackApiError as exc:
            log.warning("could not answer in %s: %s", channel, exc.response.get("error"))

    return say
