"""Slack listeners by kind, each module with its own `register(app, service)`: slash commands,
buttons, file uploads, and the error handler of last resort."""

from __future__ import annotations

from slack_bolt import App

from bot.service import Service
from bot.slack.listeners import actions, commands, errors, uploads


def register(app: App, service: Service) -> None:
    commands.register(app, service)
    actions.register(app, service)
    uploads.register(app, service)
    errors.register(app)
