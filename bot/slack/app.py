"""Building the Bolt app from settings: one factory for HTTP mode, Socket Mode and tests."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine

from bot.charts import render_chart
from bot.errors import UserError
from bot.service import Service
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.http import serve
from bot.slack.poster import SlackPoster

log = logging.getLogger(__name__)


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


def build_service(settings: Settings, db: Engine, client: WebClient) -> Service:
    """The application with Slack as its transport and charts for its answers."""

    def chart(result) -> bytes | None:
        return render_chart(result, currency=settings.currency, target=settings.roas_target)

    return Service(settings, db, chart=chart, poster=SlackPoster(client, settings))


def build_app(
    settings: Settings,
    db: Engine,
    client: WebClient | None = None,
    service: Service | None = None,
) -> App:
    """The Bolt app with roasbot's listeners (`bot.slack.listeners`, one module per kind)."""
    secret = settings.slack_signing_secret
    client = client or build_client(settings)
    try:
        app = App(
            client=client,
            signing_secret=secret.get_secret_value() if secret else "",
            # Socket Mode needs no signing secret; HTTP mode refuses to start without one.
            request_verification_enabled=True,
        )
    except BoltError as exc:  # auth.test refused the token
        raise UserError("Slack refused the bot token (check SLACK_BOT_TOKEN)") from exc
    listeners.register(app, service or build_service(settings, db, client))
    return app


def run_slack(app: App, settings: Settings, db: Engine, host: str, port: int) -> None:
    """Serve Slack until stopped: Socket Mode with SLACK_APP_TOKEN, else HTTP on host:port."""
    if settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.warning("roasbot: connecting to Slack in Socket Mode")
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
        return
    secret = settings.slack_signing_secret
    serve(app, db, host, port, secret.get_secret_value() if secret else "")
