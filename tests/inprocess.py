"""The real Bolt app in this process, driven through Bolt's own dispatch with signed requests
(as bolt-python's scenario tests do), its Web API calls landing on the Slack stand-in."""

from __future__ import annotations

import time

from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy import Engine

from bot.settings import Settings
from bot.slack.app import build_app
from tests.slack_standin import SlackStandIn, sign

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


def settings_for(slack: SlackStandIn, **extra) -> Settings:
    return Settings(
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        timezone="Asia/Kolkata",
        **extra,
    )


def app_for(slack: SlackStandIn, db: Engine, **extra) -> App:
    return build_app(settings_for(slack, **extra), db)


def dispatch(app: App, body: bytes, signed: bool = True) -> BoltResponse:
    """One request as Slack sends it, answered by the app's listeners (or 401/404)."""
    headers = {
        "content-type": "application/json"
        if body.startswith(b"{")
        else "application/x-www-form-urlencoded",
        **(sign(SECRET, body) if signed else {"X-Slack-Request-Timestamp": str(int(time.time()))}),
    }
    return app.dispatch(BoltRequest(body=body.decode(), headers=headers))
