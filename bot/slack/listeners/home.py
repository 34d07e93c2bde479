"""The App Home tab: published when opened, and its buttons (mute, remove, view a rule,
unsubscribe a channel), after which the tab is published again with the new state.

Changing buttons are for admins, checked by the middleware the other listeners use; the tab
shows them only to admins, but a button is checked where it lands, not where it was drawn.
"""

from __future__ import annotations

import json

from slack_bolt import App
from slack_sdk import WebClient

from bot.errors import user_message
from bot.service import Service
from bot.slack import home
from bot.slack.buttons import REMOVE_RULE, UNSUBSCRIBE, VIEW_RULE
from bot.slack.listeners.middleware import admins_only
from bot.slack.workers import in_background


def register(app: App, service: Service) -> None:
    def on_home_opened(event: dict, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            in_background(home.publish, service, client, event["user"])

    def on_remove(ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        rule = _value(action).get("rule")
        in_background(_then_publish, service, client, body, f"/alert remove {rule}")

    def on_unsubscribe(ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        channel = _value(action).get("channel")
        in_background(
            _then_publish, service, client, body, f"/digest unsubscribe channel={channel}"
        )

    def on_view(ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        rule = _value(action).get("rule")
        caller = service.caller(body["user"]["id"], None)
        try:
            text = service.run(f"/alert history {rule}", caller).text
        except Exception as exc:
            text = user_message(exc)
        client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "title": {"type": "plain_text", "text": f"Alert #{rule}"[:24]},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
        })  # fmt: skip

    app.event("app_home_opened")(on_home_opened)
    app.action(REMOVE_RULE.action_id, middleware=[admins_only(service, "remove alert rules")])(
        on_remove
    )
    app.action(UNSUBSCRIBE.action_id, middleware=[admins_only(service, "unsubscribe")])(
        on_unsubscribe
    )
    app.action(VIEW_RULE.action_id)(on_view)


def _value(action: dict) -> dict:
    try:
        value = json.loads(action.get("value") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _then_publish(service: Service, client: WebClient, body: dict, command: str) -> None:
    user = body["user"]["id"]
    try:
        service.run(command, service.caller(user, None))
    finally:
        home.publish(service, client, user)
