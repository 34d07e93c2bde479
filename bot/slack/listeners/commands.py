"""Slash commands: every command of the catalogue marked `slash`, answered by the service.

Each is acknowledged within Slack's 3 seconds: a bad command gets the parser's message in the
acknowledgement, visible only to its author; a question is acknowledged at once and answered
in the channel from the worker pool; a slow digest or alert command says so and reports back
through `respond` when done.
"""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as FutureTimeout

from slack_bolt import App

from bot.errors import is_users, user_message
from bot.service import Help, Later, Question, Said, Service
from bot.slack.replies import post_answer, run_later
from bot.slack.workers import in_background, soon
from insights.catalogue import SLASH_COMMANDS

log = logging.getLogger(__name__)
ACK_WITHIN_S = 1.5  # Slack waits 3 s for the acknowledgement; what takes longer answers later


def register(app: App, service: Service) -> None:
    def on_command(ack, command: dict, client, respond) -> None:
        name = command.get("command", "/roas").lstrip("/")
        caller = service.caller(command.get("user_id"), command.get("channel_id"))
        pending = soon(service.run, f"{name} {command.get('text', '')}", caller)
        try:
            reply = pending.result(timeout=ACK_WITHIN_S)
        except FutureTimeout:  # the store is slow or busy: acknowledge now, answer when done
            ack(text="Working on it…")
            channel = command.get("channel_id")
            pending.add_done_callback(lambda done: _answer(done, respond, channel))
            return
        except Exception as exc:
            ack(text=_refusal(name, exc))
            return
        if isinstance(reply, Help):
            ack(text=f"```{reply.text}```")
        elif isinstance(reply, Said):
            ack(text=reply.text)
        elif isinstance(reply, Later):
            ack(text=reply.text)
            in_background(run_later, reply, respond)
        elif isinstance(reply, Question):
            ack()
            in_background(post_answer, service, client, respond, reply.query,
                          command["channel_id"], None, reply.understood)  # fmt: skip

    def _answer(done, respond, channel: str | None) -> None:
        """A reply that came after the acknowledgement, through the response_url."""
        try:
            reply = done.result()
        except Exception as exc:
            respond(response_type="ephemeral", text=_refusal("roas", exc))
            return
        if isinstance(reply, Question):
            in_background(post_answer, service, app.client, respond, reply.query,
                          channel, None, reply.understood)  # fmt: skip
        elif isinstance(reply, Later):
            respond(response_type="ephemeral", text=reply.text)
            in_background(run_later, reply, respond)
        else:
            text = f"```{reply.text}```" if isinstance(reply, Help) else getattr(reply, "text", "")
            respond(response_type="ephemeral", text=text)

    for name in SLASH_COMMANDS:
        app.command(name)(on_command)


def _refusal(name: str, exc: BaseException) -> str:
    if not is_users(exc):
        log.error("/%s failed", name, exc_info=exc)
    return f":warning: {user_message(exc)}\nType `/roas help` for the commands."
