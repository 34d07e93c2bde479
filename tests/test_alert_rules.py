"""The alert rule language of `/alert add`."""

from __future__ import annotations

import pytest

from insights.alerts import Rule, breached, parse_rule
from insights.query import QueryError


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "roas < 1.5 brand=MuscleBlaze window=7d",
            Rule("roas", "<", 1.5, 7, None, "brand=MuscleBlaze"),
        ),
        (
            "roas < 1 each=influencer min_spend=10000 window=14d",
            Rule("roas", "<", 1.0, 14, "influencer", "", 10000.0),
        ),
        ("revenue drop > 30% window=7d", Rule("revenue", "drop", 30.0, 7)),
        ("engagement_rate < 2 each=influencer", Rule("engagement_rate", "<", 2.0, 7, "influencer")),
        ("cost >= 1,00,000 pending=3", Rule("cost", ">=", 100000.0, 7, pending=3)),
    ],
)
def test_rules_parse(text, rule):
    assert parse_rule(text) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roas", "write a rule as"),
        ("clicks < 3", "no metric 'clicks'"),
        ("roas < 1 window=week", "window= takes days"),
        ("roas < 1 each=tier", "each= takes influencer, brand, platform, persona"),
        ("roas < 1 colour=red", "'colour=red' is not an alert option"),
        ("roas < 1 period=last_7d", "is not an alert option"),
        ("roas < 1 brand=", "brand= needs a value"),
        ("roas < 1 pending=0", "pending= must be at least 1"),
    ],
)
def test_bad_rules_say_what_to_write(text, message):
    with pytest.raises(QueryError, match=message):
        parse_rule(text)


def test_conditions():
    below = Rule("roas", "<", 1.5)
    assert breached(below, 1.49) and not breached(below, 1.5) and not breached(below, None)
    assert breached(Rule("roas", "<=", 1.5), 1.5)
    assert breached(Rule("revenue", "drop", 30), -30) and not breached(
        Rule("revenue", "drop", 30), -29
    )
    assert breached(Rule("revenue", "rise", 10), 12) and not breached(
        Rule("revenue", "rise", 10), -50
    )
    assert Rule("revenue", "drop", 30.0, 7).describe() == "revenue drop 30% window=7d"
