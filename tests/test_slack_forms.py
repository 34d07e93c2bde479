"""End to end: forms instead of grammar, through the real `roasbot serve` and the stand-in, on
both stores. "New alert" from the Home tab opens a modal; a threshold that is no number comes
back as an inline error; a valid one creates the rule the slash grammar would, confirms in the
channel and refreshes the tab; "Alert me when this drops" under an answer opens the form with
the answer's scope; "Subscribe a channel" subscribes it.
"""

from __future__ import annotations

import json

from storage import schedules
from storage.db import open_store
from tests import test_slack_e2e as e2e
from tests.slack_standin import block_action_body, view_submission_body

slack, bot = e2e.slack, e2e.bot  # the stand-in and `roasbot serve` of each store (fixtures)
CHANNEL = "C2147483705"
VALID = {"metric": "roas", "condition": "<", "threshold": "1.5", "window": "14d",
         "each": "influencer", "filters": "brand=MuscleBlaze", "channel": CHANNEL}  # fmt: skip


def _opened(slack, count: int) -> dict:
    slack.wait_for("views.open", count=count, timeout=30)
    return slack.views("modal")[-1]


def _rules(url: str):
    engine = open_store(url)
    try:
        return schedules.rules(engine)
    finally:
        engine.dispose()


def test_new_alert_form_refuses_a_bad_threshold_inline_then_creates_the_rule(
    bot, slack, module_store
):
    opened = len(slack.calls("views.open"))
    bot.send(block_action_body("new_alert", "{}", "", in_view="home"))
    form = _opened(slack, opened + 1)
    assert form["callback_id"] == "alert_form" and form["title"]["text"] == "New alert"
    status, _, body = bot.send(view_submission_body(form, {**VALID, "threshold": "one and a half"}))
    assert status == 200
    reply = json.loads(body)
    assert reply["response_action"] == "errors"
    assert "is not a number" in reply["errors"]["threshold"]
    assert not [r for r in _rules(module_store) if r.window_days == 14]
    status, _, body = bot.send(view_submission_body(form, VALID))
    assert status == 200 and not body.strip()  # closes the modal
    [rule] = [r for r in _rules(module_store) if r.window_days == 14]
    assert (rule.metric, rule.op, rule.threshold, rule.each, rule.filters, rule.channel) == (
        "roas", "<", 1.5, "influencer", "brand=MuscleBlaze", CHANNEL,
    )  # fmt: skip
    [said] = slack.wait_for(
        "chat.postMessage", timeout=30, where=lambda c: f"Alert #{rule.id}" in c.params["text"]
    )
    assert said.params["channel"] == CHANNEL and "set by <@U2147483697>" in said.params["text"]


def test_alert_me_when_this_drops_is_prefilled_from_the_answer(bot, slack, module_store):
    opened = len(slack.calls("views.open"))
    value = json.dumps({"q": "roas brand=HKVitals platform=YouTube from=2025-03-01"})
    bot.send(block_action_body("alert_me", value, slack.response_url()))
    form = _opened(slack, opened + 1)
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        or (b["element"].get("initial_option") or {}).get("value")
        or b["element"].get("initial_conversation")
        for b in form["blocks"]
    }
    assert initial["filters"] == "brand=HKVitals platform=YouTube"
    assert initial["condition"] == "drop" and initial["channel"] == CHANNEL
    drop = {**VALID, "condition": "drop", "threshold": "25%", "window": "7d",
            "filters": initial["filters"]}  # fmt: skip
    status, _, body = bot.send(view_submission_body(form, drop))
    assert status == 200 and not body.strip()
    assert [r for r in _rules(module_store) if r.op == "drop" and r.threshold == 25.0]


def test_subscribe_a_channel_form(bot, slack, module_store):
    opened = len(slack.calls("views.open"))
    bot.send(block_action_body("subscribe_channel", "{}", "", in_view="home"))
    form = _opened(slack, opened + 1)
    values = {"channel": "C0DIGEST1", "day": "fri", "time": "25:00", "tz": "Asia/Kolkata"}
    _, _, body = bot.send(view_submission_body(form, values))
    assert "HH:MM" in json.loads(body)["errors"]["time"]
    _, _, body = bot.send(view_submission_body(form, {**values, "time": "08:30"}))
    assert not body.strip()
    engine = open_store(module_store)
    [sub] = schedules.subscriptions(engine, "C0DIGEST1")
    engine.dispose()
    assert (sub.day, sub.time) == ("fri", "08:30")


def test_edit_from_the_home_tab_replaces_the_rule(bot, slack, module_store):
    engine = open_store(module_store)
    old = schedules.add_rule(engine, CHANNEL, "U2147483697", metric="cpa", op=">",
                             threshold=500.0, window_days=30, each=None, filters="",
                             min_spend=0.0, pending=1)  # fmt: skip
    engine.dispose()
    opened = len(slack.calls("views.open"))
    bot.send(block_action_body("rule_edit", json.dumps({"rule": old}), "", in_view="home"))
    form = _opened(slack, opened + 1)
    assert form["title"]["text"] == "Edit alert"
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        or (b["element"].get("initial_option") or {}).get("value")
        for b in form["blocks"]
    }
    assert (initial["metric"], initial["condition"], initial["threshold"], initial["window"]) == (
        "cpa", ">", "500", "30d",
    )  # fmt: skip
    changed = {"metric": "cpa", "condition": ">", "threshold": "400", "window": "30d",
               "each": "scope", "channel": CHANNEL}  # fmt: skip
    _, _, body = bot.send(view_submission_body(form, changed))
    assert not body.strip()
    rules = [r for r in _rules(module_store) if r.metric == "cpa"]
    assert [(r.op, r.threshold) for r in rules] == [(">", 400.0)] and rules[0].id != old
