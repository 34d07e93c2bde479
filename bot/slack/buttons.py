"""The buttons roasbot puts under its messages, declared once.

`bot.slack.blocks` draws them from this table and `bot.slack.listeners.actions` registers a
listener for each action id in it, so a button cannot be shown without being handled, or handled
without being shown. A button's value carries the query it re-runs (`q`) and its change.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    action_id: str
    label: str
    change: dict = field(default_factory=dict)  # merged into the value: by=, command=, csv


ANSWER_BUTTONS = (
    Button("by_brand", "By brand", {"by": "brand"}),
    Button("by_platform", "By platform", {"by": "platform"}),
    Button("by_persona", "By persona", {"by": "persona"}),
    Button("underperformers", "Underperformers", {"command": "underperformers"}),
    Button("download_csv", "Download CSV", {"csv": True}),
)
MUTE = Button("alert_mute", "Mute 1 day")
SHOW_UNDERPERFORMERS = Button(
    "underperformers", "Show underperformers", {"command": "underperformers"}
)
# Another reading of a question in words ("Did you mean product SuperMilk Growth 3-5y?"): its
# value carries that reading's query, re-run as it is.
OTHER_READING = Button("other_reading", "Other reading")
# Re-run buttons by action id (the alert's "Show underperformers" re-runs like the answer's).
RERUN = {b.action_id: b for b in (*ANSWER_BUTTONS, OTHER_READING)}
# The Home tab's and the answers' buttons that open forms (modals), and the Home tab's own.
NEW_ALERT = Button("new_alert", "New alert")
SUBSCRIBE = Button("subscribe_channel", "Subscribe a channel")
ALERT_ME = Button("alert_me", "Alert me when this drops")
REMOVE_RULE = Button("rule_remove", "Remove")
EDIT_RULE = Button("rule_edit", "Edit")
VIEW_RULE = Button("rule_view", "View")
UNSUBSCRIBE = Button("digest_unsubscribe", "Unsubscribe")
