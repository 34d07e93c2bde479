"""Building the Bolt app from settings: one factory for HTTP mode, Socket Mode and tests."""

from __future__ import annotations

import re

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine

from bot.settings import Settings
from bot.slack.handlers import SLASH_PREFIX, SlackBot
from bot.slack.schedule_commands import ScheduleCommands

BUTTON_IDS = re.compile(r"^(by_brand|by_platform|by_persona|underperformers|download_csv)$")
SCHEDULE_COMMANDS = ("/digest", "/alert")


def build_client(settings: Settings) -> WebClient:
    """A WebClient on SLACK_API_URL that waits out rate limits and retries Slack's 5xx."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=30,
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(ServerErrorRetryHandler(max_retry_count=2))
    return client


def build_app(settings: Settings, db: Engine, client: WebClient | None = None) -> App:
    """The Bolt app with roasbot's listeners, one small registration per kind of request."""
    secret = settings.slack_signing_secret
    app = App(
        client=client or build_client(settings),
        signing_secret=secret.get_secret_value() if secret else "",
        # Socket Mode needs no signing secret; HTTP mode refuses to start without one.
        request_verification_enabled=True,
    )
    bot = SlackBot(settings, db)
    for name in SLASH_PREFIX:
        app.command(f"/{name}")(bot.on_command)
    app.action(BUTTON_IDS)(bot.on_button)
    schedule = ScheduleCommands(settings, db)
    app.command("/digest")(schedule.on_digest)
    app.command("/alert")(schedule.on_alert)
    app.action("alert_mute")(schedule.on_mute_button)
    app.event({"type": "message", "subtype": "file_share"})(bot.on_file_share)
    app.event("message")(_ignore)  # other messages in channels the bot is in
    return app


def _ignore() -> None:
    """Bolt acknowledges events itself; unhandled ones would only be logged as warnings."""
