"""Forms instead of grammar: "New alert", "Subscribe a channel", "Edit" (Home tab) and "Alert
me when this drops" (under every answer) open modals; a submission is checked field by field
(inline errors through `response_action: errors`, keyed by the field's block) and then does
exactly what the slash command would: the form writes the `/alert add` or `/digest subscribe`
line and the service runs it, so both ways share every rule, message and permission.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import is_users, user_message
from bot.service import Service
from bot.slack import blocks, home
from bot.slack.buttons import ALERT_ME, EDIT_RULE, NEW_ALERT, SUBSCRIBE
from bot.slack.listeners.middleware import admins_only
from bot.slack.workers import in_background
from insights.query import FILTER_KEYS, QueryError

log = logging.getLogger(__name__)
DEFAULT_DROP = "20"  # "Alert me when this drops": by more than 20% over 7 days, to start from


def register(app: App, service: Service) -> None:
    def opener(build):
        def on_click(ack, body: dict, action: dict, client: WebClient) -> None:
            ack()
            try:
                value = json.loads(action.get("value") or "{}")
                view = build(body, value if isinstance(value, dict) else {})
            except (ValueError, KeyError, TypeError, QueryError):
                log.warning("a stale form button: %s", action.get("value"))
                return
            try:
                client.views_open(trigger_id=body["trigger_id"], view=view)
            except SlackApiError as exc:
                log.warning("form not opened: %s", exc.response.get("error"))

        return on_click

    def new_alert(body: dict, value: dict) -> dict:
        return blocks.alert_form({"channel": _channel_of(body)})

    def alert_me(body: dict, value: dict) -> dict:
        query = service.parse(value["q"])
        return blocks.alert_form({"metric": "roas", "op": "drop", "threshold": DEFAULT_DROP,
                                  "filters": _filters_text(query.filters),
                                  "channel": _channel_of(body)})  # fmt: skip

    def edit(body: dict, value: dict) -> dict:
        rule = service.rule(int(value["rule"]))
        if rule is None:
            raise KeyError("rule")
        return blocks.alert_form({
            "metric": rule.metric, "op": rule.op, "threshold": f"{rule.threshold:g}",
            "window": f"{rule.window_days}d", "each": rule.each, "filters": rule.filters,
            "channel": rule.channel, "replace": rule.id,
        })  # fmt: skip

    def subscribe(body: dict, value: dict) -> dict:
        return blocks.subscribe_form(_channel_of(body), service.settings.timezone)

    def on_alert_form(ack, body: dict, view: dict, client: WebClient) -> None:
        values, user = _values(view), body["user"]["id"]
        errors = _required(values, ("metric", "condition", "threshold", "window", "channel"))
        number = _threshold(values.get("threshold", ""), errors)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        op, metric = values["condition"], values["metric"]
        rule = f"{metric} {op} {number}" if op in ("<", ">") else f"{metric} {op} > {number}%"
        each = values.get("each", "scope")
        rule += f" window={values['window']}" + (f" each={each}" if each != "scope" else "")
        command = f"/alert add {rule} {values.get('filters', '')} channel={values['channel']}"
        replace = json.loads(view.get("private_metadata") or "{}").get("replace")
        after = f"/alert remove {int(replace)}" if replace else None
        _submit(service, ack, client, user, values["channel"], command, after)

    def on_subscribe_form(ack, body: dict, view: dict, client: WebClient) -> None:
        values, user = _values(view), body["user"]["id"]
        errors = _required(values, ("channel", "day", "time", "tz"))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        command = (
            f"/digest subscribe day={values['day']} time={values['time'].strip()} "
            f"tz={values['tz'].strip()} {values.get('filters', '')} channel={values['channel']}"
        )
        _submit(service, ack, client, user, values["channel"], command, None)

    for button, build in ((NEW_ALERT, new_alert), (ALERT_ME, alert_me), (EDIT_RULE, edit),
                          (SUBSCRIBE, subscribe)):  # fmt: skip
        what = "subscribe channels" if button is SUBSCRIBE else "add or change alert rules"
        app.action(button.action_id, middleware=[admins_only(service, what)])(opener(build))
    app.view(blocks.ALERT_FORM)(on_alert_form)
    app.view(blocks.SUBSCRIBE_FORM)(on_subscribe_form)


def _channel_of(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _filters_text(filters: dict[str, tuple[str, ...]]) -> str:
    def quoted(value: str) -> str:
        return f'"{value}"' if " " in value else value

    return " ".join(f"{k}={quoted(','.join(filters[k]))}" for k in FILTER_KEYS if k in filters)


def _values(view: dict) -> dict[str, str]:
    """A submitted view's values by block id: the selected option's value, the conversation,
    or the typed text."""
    out: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            chosen = (
                (element.get("selected_option") or {}).get("value")
                or element.get("selected_conversation")
                or element.get("selected_channel")
                or element.get("value")
            )
            if chosen:
                out[block_id] = str(chosen)
    return out


def _required(values: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: "Required." for name in names if not values.get(name, "").strip()}


def _threshold(text: str, errors: dict[str, str]) -> str:
    cleaned = text.strip().removesuffix("%").replace(",", "").removesuffix("x").strip()
    if "threshold" in errors:
        return cleaned
    try:
        number = float(cleaned)
    except ValueError:
        errors["threshold"] = f"'{text}' is not a number: write e.g. 1.5, or 30 for 30%."
        return cleaned
    if number <= 0:
        errors["threshold"] = "Write a number above 0."
    return f"{number:g}"


_FIELDS = (
    ("window=", "window"), ("each=", "each"), ("time=", "time"), ("tz=", "tz"), ("day=", "day"),
    ("metric", "metric"), ("filter", "filters"), ("=", "filters"),
)  # fmt: skip


def _field_of(message: str, default: str) -> str:
    """The form field an error of the command it wrote is about."""
    return next((field for word, field in _FIELDS if word in message), default)


def _submit(service: Service, ack, client, user: str, channel: str, command: str,
            after: str | None) -> None:  # fmt: skip
    """Run the command the form wrote, as its author in the chosen channel; an error goes
    back into the form, success closes it and is said in the channel."""
    caller = service.caller(user, channel)
    if not caller.admin:
        ack(response_action="errors",
            errors={"channel": "Only admins (ADMIN_USER_IDS) can do this."})  # fmt: skip
        return
    try:
        reply = service.run(command, caller)
    except Exception as exc:
        if not is_users(exc):
            log.error("a form failed", exc_info=exc)
        default = "threshold" if command.startswith("/alert") else "filters"
        ack(response_action="errors", errors={_field_of(str(exc), default): user_message(exc)})
        return
    ack()
    if after:
        service.run(after, caller)
    in_background(_confirm, service, client, user, channel, getattr(reply, "text", ""))


def _confirm(service: Service, client: WebClient, user: str, channel: str, text: str) -> None:
    try:
        client.chat_postMessage(channel=channel, text=f"{text} (set by <@{user}>)")
    except SlackApiError as exc:
        log.warning("form confirmation not posted: %s", exc.response.get("error"))
    home.publish(service, client, user)
