"""The alert state machine alone (a pure function), and the notifications runner with a test
poster instead of Slack: fire, remind, resolve, mute, per entity, exactly once. Both stores."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import DeliveryError
from bot.notifications import Notifications
from bot.service import thresholds_of
from bot.settings import Settings
from insights.alerts import Notice, Rule, State, transition
from storage.ingest import Upload, ingest_files
from tests.conftest import FIXTURES
from tests.test_scheduled import EVAL, add_rule, set_threshold

BELOW = Rule("roas", "<", 1.5)
NOW = dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=24)


def step(before: State, value, muted=False, now=NOW, rule=BELOW):
    return transition(rule, before, value, muted=muted, now=now, repeat=DAY)


@pytest.mark.parametrize(
    ("before", "value", "muted", "after"),
    [
        (State(), 1.0, False, ("FIRING", 1, "fired", True)),
        (State(), 2.0, False, ("OK", 0, None, False)),
        (State(), None, False, ("OK", 0, None, False)),  # undefined never fires
        (State(), 1.0, True, ("FIRING", 1, "fired", False)),  # muted: changes, says nothing
        (State("FIRING", 1, NOW - DAY, "1.1"), 1.0, False, ("FIRING", 2, "reminded", True)),
        (State("FIRING", 1, NOW - DAY / 2, "1.1"), 1.0, False, ("FIRING", 2, None, False)),
        (State("FIRING", 1, NOW - DAY, "1.1"), 1.0, True, ("FIRING", 2, None, False)),
        (State("FIRING", 1, None, None), 1.0, False, ("FIRING", 2, None, False)),  # muted fire
        (State("FIRING", 3, NOW, "1.1"), 2.0, False, ("OK", 0, "resolved", True)),
        (State("FIRING", 3, NOW, "1.1"), None, False, ("OK", 0, "resolved", True)),
        (State("FIRING", 3, NOW, None), 2.0, False, ("OK", 0, "resolved", False)),  # no thread
        (State("FIRING", 3, NOW, "1.1"), 2.0, True, ("OK", 0, "resolved", False)),
    ],
)
def test_the_state_machine(before, value, muted, after):
    got = step(before, value, muted)
    assert (got.state, got.streak, got.event, got.notify) == after


def test_pending_needs_that_many_evaluations_in_a_row():
    rule = Rule("roas", "<", 1.5, pending=3)
    first = step(State(), 1.0, rule=rule)
    second = step(State("OK", first.streak), 1.0, rule=rule)
    third = step(State("OK", second.streak), 1.0, rule=rule)
    assert [s.event for s in (first, second, third)] == [None, None, "fired"]
    assert step(State("OK", 2), 2.0, rule=rule).streak == 0  # a break starts over


class RecordingPoster:
    """A transport that keeps what it is given (and can refuse, like a failing Slack)."""

    def __init__(self) -> None:
        self.notices: list[tuple[str, Notice]] = []
        self.refuse = 0

    def digest(self, channel, digest, key=None):
        raise AssertionError("no digest here")

    def alert(self, channel: str, notice: Notice) -> str:
        if self.refuse:
            self.refuse -= 1
            raise DeliveryError("internal_error")
        self.notices.append((channel, notice))
        return f"ts-{len(self.notices)}"

    def tell_admins(self, text: str) -> None:
        raise AssertionError(text)

    def events(self) -> list[tuple[str, str]]:
        return [(n.event, n.entity) for _, n in self.notices]


@pytest.fixture
def db(store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return store


def runner(db, poster) -> Notifications:
    settings = Settings(timezone="Asia/Kolkata", alert_repeat_hours=24)
    return Notifications(settings, db, poster, thresholds_of(settings))


def test_fire_remind_resolve_with_a_test_poster(db):
    poster = RecordingPoster()
    rule = add_rule(db)  # ROAS 2.22 < 3 over 1-10 March
    work = runner(db, poster)
    assert work.evaluate_alerts(EVAL) == [f"#{rule}: scope fired"]
    assert work.evaluate_alerts(EVAL + dt.timedelta(hours=23)) == [f"#{rule}: no change"]
    assert work.evaluate_alerts(EVAL + dt.timedelta(hours=24)) == [f"#{rule}: scope reminded"]
    set_threshold(db, rule, 2.0)
    assert work.evaluate_alerts(EVAL + dt.timedelta(hours=25)) == [f"#{rule}: scope resolved"]
    assert poster.events() == [("fired", ""), ("reminded", ""), ("resolved", "")]
    fired, reminded, resolved = (n for _, n in poster.notices)
    assert fired.value == pytest.approx(5000 / 2250) and fired.chart is not None
    assert reminded.thread_ts == resolved.thread_ts == "ts-1"  # in the fire's thread


def test_per_entity_and_muted_with_a_test_poster(db):
    poster = RecordingPoster()
    add_rule(db, threshold=1.0, each="influencer")  # C and D: ROAS 0
    muted = add_rule(db, threshold=3.0, muted_until=EVAL + dt.timedelta(days=1))
    work = runner(db, poster)
    report = work.evaluate_alerts(EVAL)
    assert report[0].endswith("C fired, D fired") and report[1] == f"#{muted}: scope fired"
    assert sorted(poster.events()) == [("fired", "C"), ("fired", "D")]  # the muted one silent
    assert work.evaluate_alerts(EVAL) == []  # the slot is claimed: nothing twice


def test_a_refused_message_is_owed_until_the_poster_takes_it(db):
    poster = RecordingPoster()
    poster.refuse = 1
    add_rule(db)
    work = runner(db, poster)
    work.evaluate_alerts(EVAL)
    assert poster.events() == []
    assert work.deliver_owed(EVAL + dt.timedelta(minutes=2)) == 1
    assert work.deliver_owed(EVAL + dt.timedelta(hours=2)) == 0
    assert poster.events() == [("fired", "")]
