"""The error handler of last resort: what no listener caught is logged with its traceback, and
the person who asked (when there is one to answer) is told in our words, never the exception's.
"""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.errors import user_message

log = logging.getLogger(__name__)


def register(app: App) -> None:
    def on_error(error: Exception, body: dict, respond) -> None:
        log.error("unhandled error in a Slack listener", exc_info=error)
        if respond is not None and body.get("response_url"):
            respond(response_type="ephemeral", text=f":warning: {user_message(error)}")

    app.error(on_error)
