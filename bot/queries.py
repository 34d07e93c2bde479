"""Running a command of the query language for any adapter (CLI, console, Slack).

The adapters differ only in how they show an `Answer`; what "today" is, which thresholds
apply and how help is answered is decided here once.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.settings import Settings
from insights.engine import Thresholds, answer
from insights.query import HELP, parse
from insights.results import Answer, Totals


def today(settings: Settings) -> dt.date:
    """Today in the team's time zone: `period=last_7d` at 01:00 IST is not yesterday's."""
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        tier_bounds=tuple(settings.tier_boundaries),
        roas_target=settings.roas_target,
        underperformer_min_spend=settings.underperformer_min_spend,
        persona_min_influencers=settings.persona_min_influencers,
        persona_min_spend=settings.persona_min_spend,
    )


def run(db: Engine, text: str, settings: Settings) -> Answer:
    """The answer to one command line; raises `QueryError` with a message for the user."""
    query = parse(text, today(settings))
    if query.command == "help":
        return Answer("help", {}, None, None, Totals(), notes=[HELP], title="roasbot help")
    return answer(db, query, thresholds(settings))
