"""Buttons: each button of `bot.slack.buttons` has its listener here, registered from that table.

A re-run button's value carries the query it belongs to; the click answers in the thread of
the message it was under. Muting is for admins, checked by listener middleware before the
listener runs.
"""

from __future__ import annotations

import dataclasses
import json
import re

from slack_bolt import App

from bot.errors import UserError
from bot.service import Service
from bot.slack import home
from bot.slack.buttons import MUTE, RERUN
from bot.slack.listeners.middleware import admins_only
from bot.slack.replies import post_answer, post_csv, tell
from bot.slack.workers import in_background
from insights.catalogue import BREAKDOWN, QUERY_COMMANDS


def register(app: App, service: Service) -> None:
    def on_rerun(ack, body: dict, action: dict, client, respond) -> None:
        ack()
        try:
            value = json.loads(action.get("value") or "{}")
            query = service.parse(value["q"])
        except (ValueError, KeyError, TypeError) as exc:
            respond(response_type="ephemeral", text=f":warning: that button is stale ({exc})")
            return
        by, command = value.get("by", "influencer"), value.get("command", "roas")
        if not (isinstance(by, str) and isinstance(command, str)) or (
            by not in BREAKDOWN or command not in QUERY_COMMANDS
        ):
            respond(response_type="ephemeral", text=":warning: that button is stale")
            return
        if "by" in value:
            query = dataclasses.replace(query, command="roas", by=(value["by"],), subject=None)
        elif "command" in value:
            query = dataclasses.replace(query, command=value["command"], by=("influencer",))
        channel = body["channel"]["id"]
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts") or body["container"]["message_ts"]
        post = post_csv if value.get("csv") else post_answer
        in_background(post, service, client, respond, query, channel, thread)

    def on_mute(ack, body: dict, action: dict, respond, client) -> None:
        ack()
        if (body.get("view") or {}).get("type") == "home":  # the Home tab: mute, then redraw
            rule = json.loads(action.get("value") or "{}").get("rule")
            caller = service.caller(body["user"]["id"], None)
            in_background(_mute_home, service, client, caller, rule)
            return
        caller = service.caller(body["user"]["id"], (body.get("channel") or {}).get("id"))
        try:
            value = json.loads(action.get("value") or "{}")
            rule, days = int(value["rule"]), int(value.get("days", 1))
            text = service.mute_from(caller, rule, days)
        except (ValueError, KeyError, TypeError, OverflowError):
            tell(respond, UserError("that button is stale: mute with `/alert mute ID 1d`"))
            return
        except UserError as exc:
            tell(respond, exc)
            return
        respond(response_type="ephemeral", replace_original=False, text=text)

    ids = "|".join(re.escape(action_id) for action_id in RERUN)
    app.action(re.compile(f"^({ids})$"))(on_rerun)
    app.action(MUTE.action_id, middleware=[admins_only(service, "mute alert rules")])(on_mute)


def _mute_home(service: Service, client, caller, rule) -> None:
    try:
        service.mute_from(caller, int(rule), 1)
    finally:
        home.publish(service, client, caller.user)
