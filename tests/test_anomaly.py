"""Anomaly alerts on a hand-computed dataset, both stores: the band, a holiday left out, the
min_value floor, and one fire and one resolve through the same machinery as threshold alerts.

HKVitals orders on Wednesdays (Asha on Instagram; Ravi on YouTube sells 5 each of them):

| day | 12 Feb | 19 Feb | 26 Feb | 5 Mar | 12 Mar | 19 Mar | 26 Mar | 2 Apr | 9 Apr |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| Instagram | 40 | 44 | 200 | 36 | 42 | 38 | 46 | 40 | **20** |

26 Feb 2025 is Maha Shivaratri, a public holiday in India: left out. The other seven sorted
are 36 38 40 40 42 44 46: the median is 40, the absolute deviations 0 0 2 2 4 4 6 have median
2, so the band is 3 x 1.4826 x 2 = 8.8956: 31.10 to 48.90. 20 is outside it, 50% below.
Kept in, the holiday would give median 41 and MAD 3 (band 13.34). YouTube's expected 5 is
below min_value=20: it never fires, though it drops to 0 on 9 April.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot.charts import render_reference_chart
from bot.notifications import Notifications
from bot.service import Service, thresholds_of
from bot.settings import Settings
from bot.slack.poster import SlackPoster
from insights.alerts import Notice, Reading, State, parse_rule, transition, unusual_day
from insights.anomaly import Expected, expect, outside, public_holidays
from insights.query import QueryError, Window
from tests.helpers import load, write
from tests.slack_standin import SlackStandIn

IST = ZoneInfo("Asia/Kolkata")
DAY = dt.date(2025, 4, 9)
WEDNESDAYS = [DAY - dt.timedelta(weeks=n) for n in range(8, 0, -1)]
INSTAGRAM = [40, 44, 200, 36, 42, 38, 46, 40]
BAND = 3 * 1.4826 * 2
RULE = "orders unusual brand=HKVitals each=platform direction=down min_value=20"

INFLUENCERS = """influencer_id,name,category,gender,follower_count,platform
I1,Asha Rao,Fitness,Female,12000,Instagram
I2,Ravi Kumar,Health,Male,600000,YouTube
"""


def tracking(days: dict[dt.date, tuple[int, int]]) -> str:
    lines = ["source,influencer_id,brand,product,date,orders,revenue,campaign"]
    for day, (instagram, youtube) in days.items():
        lines.append(f"influencer,I1,HKVitals,Fish Oil,{day},{instagram},{instagram * 100},C1")
        if youtube:
            lines.append(f"influencer,I2,HKVitals,Fish Oil,{day},{youtube},{youtube * 100},C1")
    return "\n".join(lines) + "\n"


@pytest.fixture
def db(store, tmp_path):
    days = {d: (v, 5) for d, v in zip(WEDNESDAYS, INSTAGRAM, strict=True)} | {DAY: (20, 0)}
    paths = (
        write(tmp_path, "influencers.csv", INFLUENCERS),
        write(tmp_path, "tracking.csv", tracking(days)),
    )
    assert load(store, *paths).ok
    return store


def test_the_band_leaves_the_holiday_out(db):
    readings = unusual_day(db, parse_rule(RULE), DAY)
    instagram = readings["Instagram"]
    assert instagram.value == 20
    e = instagram.expected
    assert e is not None and e.value == 40 and e.band == pytest.approx(BAND)
    assert [(r.day, r.value, r.left_out) for r in e.reference][2] == (
        dt.date(2025, 2, 26),
        200,
        "Maha Shivaratri",
    )
    assert e.deviation(20) == -50
    assert outside(20, e, "down") and not outside(20, e, "up") and outside(20, e, "both")
    assert not outside(31.2, e, "down") and outside(31.1, e, "down")
    # Kept in, the holiday moves the expectation: median 41, MAD 3.
    kept = expect(DAY, dict(zip(WEDNESDAYS, INSTAGRAM, strict=True)), sensitivity=3,
                  holidays_of={}, covered=WEDNESDAYS)  # fmt: skip
    assert kept is not None and (kept.value, kept.band) == (41, pytest.approx(3 * 1.4826 * 3))
    # YouTube sold 5 every Wednesday and none on 9 April: expected below min_value=20.
    assert readings["YouTube"] == Reading(0.0, None)


def test_too_few_reference_days_and_days_without_data_give_no_expectation():
    values = {d: 10.0 for d in WEDNESDAYS}
    assert expect(DAY, values, sensitivity=3, holidays_of={}, covered=WEDNESDAYS[:3]) is None
    found = expect(DAY, values, sensitivity=3, holidays_of={}, covered=WEDNESDAYS[4:])
    assert (
        found is not None
        and found.band == 0
        and [r.left_out for r in found.reference][:4] == ["no data"] * 4
    )
    assert public_holidays("", WEDNESDAYS) == {}
    assert public_holidays("IN", [dt.date(2025, 10, 20)])[dt.date(2025, 10, 20)] == "Diwali"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("orders unusual window=7d", "takes no window="),
        ("orders unusual direction=sideways", "direction= takes down, up, both"),
        ("orders unusual sensitivity=0", "sensitivity= must be above 0"),
        ("orders unusual min_value=lots", "take numbers"),
        ("orders unusual each=tier", "each= takes"),
    ],
)
def test_bad_unusual_rules_say_what_to_write(text, message):
    with pytest.raises(QueryError, match=message):
        parse_rule(text)


def test_an_unusual_rule_reads_back_as_written():
    rule = parse_rule(RULE)
    assert (rule.op, rule.threshold, rule.direction, rule.min_value) == ("unusual", 3, "down", 20)
    assert rule.describe() == (
        "orders unusual direction=down sensitivity=3 min_value=20 each=platform brand=HKVitals"
    )
    assert parse_rule(rule.describe()) == rule


def test_the_state_machine_is_the_threshold_alerts_one():
    rule, now = parse_rule(RULE), dt.datetime(2025, 4, 10, tzinfo=dt.UTC)
    e = Expected(DAY, 40, BAND, ())
    step = transition(rule, _state("OK"), 20, expected=e, muted=False, now=now,
                      repeat=dt.timedelta(hours=24))  # fmt: skip
    assert (step.state, step.event, step.notify) == ("FIRING", "fired", True)
    back = transition(rule, _state("FIRING"), 39, expected=e, muted=False, now=now,
                      repeat=dt.timedelta(hours=24))  # fmt: skip
    assert (back.state, back.event) == ("OK", "resolved")
    quiet = transition(rule, _state("OK"), 20, expected=None, muted=False, now=now,
                       repeat=dt.timedelta(hours=24))  # fmt: skip
    assert quiet.event is None  # no expectation (min_value, too few days): it never fires


def _state(state: str) -> State:
    return State(state, 0, None, "1.0" if state == "FIRING" else None)


def test_fires_once_with_its_figures_and_chart_then_resolves_in_its_thread(db, tmp_path):
    with SlackStandIn() as slack:
        settings = Settings(slack_bot_token="xoxb-test-token", slack_api_url=slack.api_url,
                            admin_user_ids="UADMIN1", timezone="Asia/Kolkata")  # fmt: skip
        client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
        poster = SlackPoster(client, settings, sleep=lambda _seconds: None)
        service = Service(settings, db, poster=poster)
        said = service.run(f"/alert add {RULE} channel=CALERT", service.console_caller())
        assert "against the same weekday of the 8 weeks before" in said.text
        runner = Notifications(settings, db, poster, thresholds_of(settings))
        morning = dt.datetime(2025, 4, 10, 9, tzinfo=IST)  # 9 April is the last complete day
        assert runner.evaluate_alerts(morning) == ["#1: Instagram fired"]
        assert runner.evaluate_alerts(morning + dt.timedelta(hours=1)) == ["#1: no change"]
        [fire] = slack.calls("chat.postMessage")
        assert fire.params["text"].startswith("orders for platform Instagram is 20")
        detail = fire.params["blocks"][0]["text"]["text"]
        assert "Expected 40 (band 31–49) · −50%" in detail
        assert "on Wed 09 Apr 2025, against the same weekday of the 8 weeks before" in detail
        [chart] = slack.uploads()
        assert chart.thread_ts == fire.response["ts"]
        # A usual Wednesday a week later: resolved, in the fire's thread.
        later = {DAY + dt.timedelta(weeks=1): (41, 5)}
        assert load(db, write(tmp_path, "more.csv", tracking(later))).ok
        assert runner.evaluate_alerts(morning + dt.timedelta(weeks=1)) == ["#1: Instagram resolved"]
        fire, resolve = slack.calls("chat.postMessage")
        assert resolve.params["thread_ts"] == fire.response["ts"]
        assert "Resolved: orders for platform Instagram is back to 41" in resolve.params["text"]
        assert len(slack.calls("chat.postMessage")) == 2  # once each; YouTube never


def test_the_chart_shows_the_eight_weeks_and_the_day(db):
    rule = parse_rule(RULE)
    reading = unusual_day(db, rule, DAY)["Instagram"]
    notice = Notice("fired", 1, rule, "Instagram", 20, Window(DAY, DAY), {}, 24,
                    expected=reading.expected)  # fmt: skip
    assert render_reference_chart(notice).startswith(b"\x89PNG")
