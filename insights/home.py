"""What the App Home tab shows, as data: the service fills it, `bot.slack.blocks` draws it.

Kept apart from both so that the renderer (a leaf) and the service agree on one shape without
the renderer importing the application.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from insights.results import Metrics, Row
from storage.schedules import StoredRule, Subscription
from storage.summary import UploadSummary


@dataclass(frozen=True)
class RuleState:
    """An alert rule as the Home tab lists it: what it watches and whether it fires."""

    rule: StoredRule
    describe: str
    firing: bool
    muted: bool


@dataclass(frozen=True)
class Home:
    """What the Home tab shows the person opening it (`admin`: with the buttons that change)."""

    user: str | None
    admin: bool
    windows: list[tuple[int, Metrics, Metrics | None]]  # (days, totals, the days before)
    top: list[Row]  # the last 7 days' best and worst influencers by ROAS
    bottom: list[Row]
    subscriptions: list[Subscription]
    rules: list[RuleState]
    data_through: dt.date | None
    last_load: UploadSummary | None
