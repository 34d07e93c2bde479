"""Slack listeners by kind, each module with its own `register(app, service)`: slash commands,
buttons, file uploads, conversations (mentions, DMs, thread replies), the Home tab, forms
(modals), and the error handler of last resort. Bolt runs the first listener that matches an
event, so uploads (message events of subtype file_share) come before conversations."""

from __future__ import annotations

from slack_bolt import App

from bot.service import Service
from bot.slack.listeners import actions, commands, conversation, errors, forms, home, uploads


def register(app: App, service: Service) -> None:
    commands.register(app, service)
    actions.register(app, service)
    uploads.register(app, service)
    conversation.register(app, service)
    home.register(app, service)
    forms.register(app, service)
    errors.register(app)
