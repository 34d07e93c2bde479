"""The query language: commands, filters, periods and the errors a typo gets."""

from __future__ import annotations

import datetime as dt

import pytest

from insights.query import PERIODS, QueryError, Window, parse, period_window

TODAY = dt.date(2025, 5, 14)  # a Wednesday in Q2


def test_a_full_roas_command():
    q = parse(
        "/roas brand=MuscleBlaze platform=Instagram from=2025-01-01 to=2025-03-31 by=influencer",
        TODAY,
    )
    assert q.command == "roas"
    assert q.filters == {"brand": ("MuscleBlaze",), "platform": ("Instagram",)}
    assert q.window == Window(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert q.by == ("influencer",)
    assert q.top == 10


def test_no_filters_means_all_data_and_the_default_breakdown():
    q = parse("roas", TODAY)
    assert (q.filters, q.window, q.by) == ({}, Window(), ("influencer",))
    assert parse("", TODAY).command == "roas"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/underperformers brand=Gritzo", "underperformers"),
        ("/roas underperformers brand=Gritzo", "underperformers"),
        ("roas personas", "personas"),
        ("/roas trend", "trend"),
        ("/roas help", "help"),
        ("TREND", "trend"),
    ],
)
def test_sub_commands_work_on_their_own_and_under_roas(text, command):
    assert parse(text, TODAY).command == command


def test_influencer_takes_an_id_or_a_name():
    assert parse("/influencer INF0007", TODAY).subject == "INF0007"
    assert parse("/roas influencer Kabir Shah period=last_30d", TODAY).subject == "Kabir Shah"
    with pytest.raises(QueryError, match="which influencer"):
        parse("/influencer", TODAY)


def test_quoted_and_comma_separated_values():
    q = parse('/roas brand="HK Vitals",Gritzo campaign=“MB Summer”', TODAY)
    assert q.filters == {"brand": ("HK Vitals", "Gritzo"), "campaign": ("MB Summer",)}


def test_apostrophes_are_text_not_quotes():
    with pytest.raises(QueryError, match="I don't understand 'Health'"):
        parse("/roas category=Women's Health", TODAY)  # two words need double quotes
    q = parse("/roas category=\"Women's Health\" brand=L'Oreal", TODAY)
    assert q.filters == {"category": ("Women's Health",), "brand": ("L'Oreal",)}


def test_options_are_typed():
    q = parse("/underperformers threshold=1.5 min_spend=10,000 top=5", TODAY)
    assert (q.threshold, q.min_spend, q.top) == (1.5, 10000.0, 5)
    assert parse("/personas by=tier,gender min_influencers=3", TODAY).by == ("tier", "gender")
    assert parse("/personas", TODAY).by == ("tier", "category")
    assert parse("/roas tier=Micro,NANO", TODAY).filters == {"tier": ("micro", "nano")}


# Hand-computed for Wednesday 2025-05-14: last_Nd ends yesterday; calendar periods run to today.
EXPECTED_PERIODS = {
    "last_7d": ("2025-05-07", "2025-05-13"),
    "last_30d": ("2025-04-14", "2025-05-13"),
    "last_90d": ("2025-02-13", "2025-05-13"),
    "this_week": ("2025-05-12", "2025-05-14"),
    "last_week": ("2025-05-05", "2025-05-11"),
    "this_month": ("2025-05-01", "2025-05-14"),
    "last_month": ("2025-04-01", "2025-04-30"),
    "qtd": ("2025-04-01", "2025-05-14"),
    "ytd": ("2025-01-01", "2025-05-14"),
}


@pytest.mark.parametrize("period", PERIODS)
def test_every_period_keyword(period):
    start, end = EXPECTED_PERIODS[period]
    window = parse(f"/roas period={period}", TODAY).window
    assert window == Window(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_period_edges_at_year_and_month_starts():
    assert period_window("last_month", dt.date(2025, 1, 3)) == Window(
        dt.date(2024, 12, 1), dt.date(2024, 12, 31)
    )
    assert period_window("last_week", dt.date(2025, 1, 6)) == Window(
        dt.date(2024, 12, 30), dt.date(2025, 1, 5)
    )
    assert period_window("qtd", dt.date(2025, 12, 31)).start == dt.date(2025, 10, 1)


def test_previous_window_has_the_same_length():
    w = Window(dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert w.days == 31
    assert w.previous() == Window(dt.date(2025, 1, 29), dt.date(2025, 2, 28))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/roas brnd=MuscleBlaze", "no filter 'brnd' — did you mean brand?"),
        ("/roas colour=red", "Keys: brand, product"),
        ("/roas period=last_31d", "no period 'last_31d' — did you mean last_30d?"),
        ("/roas by=brands", "did you mean brand?"),
        ("/roas by=brand,platform", "one breakdown"),
        ("/personas by=influencer", "by= takes tier, category, gender, platform"),
        ("/roas from=31-03-2025", "is not a date: use YYYY-MM-DD"),
        ("/roas from=2025-03-31 to=2025-03-01", "is after"),
        ("/roas period=ytd from=2025-01-01", "either period= or from=/to="),
        ("/roas top=0", "at least 1"),
        ("/roas threshold=-1", "cannot be negative"),
        ("/roas tier=giga", "no tier 'giga'"),
        ("/roas brand=", "brand= needs a value"),
        ("/roas brand=a brand=b", "given twice"),
        ("/roas MuscleBlaze", "write filters as key=value"),
        ('/roas brand="HK Vitals', "check the quotes"),
        ("/roaz", "no command 'roaz' — did you mean roas?"),
    ],
)
def test_errors_say_what_is_wrong_and_suggest(text, message):
    with pytest.raises(QueryError) as err:
        parse(text, TODAY)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        "roas",
        'roas brand="HK Vitals,Gritzo" platform=Instagram period=last_30d by=tier top=5',
        "underperformers from=2025-01-01 to=2025-03-31 threshold=1.5 min_spend=10000",
        "personas by=tier,gender min_influencers=3",
        'influencer "Kabir Shah" period=ytd',
        "trend campaign=MB-Mar",
    ],
)
def test_to_text_round_trips(text):
    from insights.query import to_text

    query = parse(text, TODAY)
    assert to_text(query) == text
    assert parse(to_text(query), TODAY) == query
