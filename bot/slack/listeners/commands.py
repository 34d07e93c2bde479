"""Slash commands: every command of the catalogue marked `slash`, answered by the service.

Each is acknowledged within Slack's 3 seconds: a bad command gets the parser's message in the
acknowledgement, visible only to its author; a question is acknowledged at once and answered
in the channel from the worker pool; a slow digest or alert command says so and reports back
through `respond` when done.
"""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.errors import is_users, user_message
from bot.service import Help, Later, Question, Said, Service
from bot.slack.replies import post_answer
from bot.slack.workers import in_background
from insights.catalogue import SLASH_COMMANDS

log = logging.getLogger(__name__)


def register(app: App, service: Service) -> None:
    def on_command(ack, command: dict, client, respond) -> None:
        name = command.get("command", "/roas").lstrip("/")
        caller = service.caller(command.get("user_id"), command.get("channel_id"))
        try:
            reply = service.run(f"{name} {command.get('text', '')}", caller)
        except Exception as exc:
            if not is_users(exc):
                log.error("/%s failed", name, exc_info=exc)
            ack(text=f":warning: {user_message(exc)}\nType `/roas help` for the commands.")
            return
        if isinstance(reply, Help):
            ack(text=f"```{reply.text}```")
        elif isinstance(reply, Said):
            ack(text=reply.text)
        elif isinstance(reply, Later):
            ack(text=reply.text)
            in_background(_later, reply, respond)
        elif isinstance(reply, Question):
            ack()
            in_background(post_answer, service, client, respond, reply.query,
                          command["channel_id"], None)  # fmt: skip

    for name in SLASH_COMMANDS:
        app.command(name)(on_command)


def _later(reply: Later, respond) -> None:
    try:
        outcome = reply.work()
    except Exception as exc:
        if not is_users(exc):
            log.error("background command failed", exc_info=exc)
        outcome = user_message(exc)
    if outcome:
        respond(response_type="ephemeral", text=outcome)
