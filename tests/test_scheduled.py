"""Digests and alerts, exactly once, with the clock driven by the test. Both stores."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import insert, select, update

from bot.notifications import Notifications
from bot.scheduler import Scheduler, digest_trigger
from bot.service import thresholds_of
from bot.settings import Settings
from bot.slack.poster import SlackPoster
from storage import models
from storage.claims import claim_run
from storage.ingest import Upload, ingest_files
from storage.schedules import Subscription, subscriptions
from tests.conftest import FIXTURES
from tests.slack_standin import SlackStandIn

IST = ZoneInfo("Asia/Kolkata")
# The digest fixture's last full week is 2025-W23 (2-8 June 2025); Monday 9 June 09:00 IST is
# when a Monday-morning subscription posts it.
MONDAY = dt.datetime(2025, 6, 9, 9, 0, tzinfo=IST)


@pytest.fixture
def slack():
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def settings(slack) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_api_url=slack.api_url,
        admin_user_ids="UADMIN1",
        timezone="Asia/Kolkata",
        alert_repeat_hours=24,
    )


@pytest.fixture
def db(store):
    for folder in ("digest",):
        paths = sorted((FIXTURES / folder).glob("*.csv"))
        assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return store


def work(settings, db, slack) -> Notifications:
    """A fresh 'process': its own client (no retry handlers: the test controls failures)."""
    client = WebClient(token="xoxb-test-token", base_url=slack.api_url)
    poster = SlackPoster(client, settings, sleep=lambda _seconds: None)
    return Notifications(settings, db, poster, thresholds_of(settings))


def subscribe(db, channel="CDIGEST", day="mon", time="09:00", tz="Asia/Kolkata", filters=""):
    with db.begin() as conn:
        conn.execute(
            insert(models.digest_subscriptions).values(
                channel=channel,
                day=day,
                time=time,
                timezone=tz,
                filters=filters,
                created_by="U1",
                created_at=dt.datetime.now(dt.UTC),
                active=True,
            )
        )
    return next(s for s in subscriptions(db) if s.channel == channel)


def digests(slack, channel="CDIGEST"):
    return [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == channel]


# --- digests --------------------------------------------------------------------------------


def test_one_digest_per_week_across_two_schedulers_and_a_restart(settings, db, slack):
    sub = subscribe(db)
    first, second = work(settings, db, slack), work(settings, db, slack)
    assert first.run_digest(sub, MONDAY) == "posted"
    assert second.run_digest(sub, MONDAY + dt.timedelta(seconds=1)) == "already done"
    restarted = work(settings, db, slack)  # Wednesday, after a restart: catch-up finds it done
    assert restarted.catch_up(MONDAY + dt.timedelta(days=2), dt.timedelta(days=3)) == [
        "CDIGEST: already done"
    ]
    [message] = digests(slack)
    assert "Weekly digest 2025-W23" in message.params["text"]
    assert any(u.thread_ts == message.response["ts"] for u in slack.uploads())  # the chart
    with db.connect() as conn:
        runs = list(conn.execute(select(models.job_runs)))
    assert [(r.job, r.period, r.status) for r in runs] == [("digest:CDIGEST", "2025-W23", "done")]


def test_a_missed_monday_is_caught_up_once_within_the_grace_window(settings, db, slack):
    sub = subscribe(db)
    grace = dt.timedelta(hours=6)
    late = work(settings, db, slack)
    assert late.catch_up(MONDAY + dt.timedelta(hours=4), grace) == ["CDIGEST: posted"]
    assert late.catch_up(MONDAY + dt.timedelta(hours=5), grace) == ["CDIGEST: already done"]
    assert len(digests(slack)) == 1
    # A week later, started too late for that Monday: nothing is posted for it.
    assert work(settings, db, slack).catch_up(MONDAY + dt.timedelta(days=7, hours=7), grace) == []
    assert len(digests(slack)) == 1 and sub.channel == "CDIGEST"


def test_a_crashed_claim_is_taken_over_after_its_timeout(db):
    now = dt.datetime(2025, 6, 9, 3, 30, tzinfo=dt.UTC)
    assert claim_run(db, "digest:C1", "2025-W23", now)  # then the process died
    assert not claim_run(db, "digest:C1", "2025-W23", now + dt.timedelta(minutes=10))
    assert claim_run(db, "digest:C1", "2025-W23", now + dt.timedelta(minutes=31))


@pytest.mark.parametrize(
    ("tz", "local", "utc"),
    [
        # India has no DST: Monday 09:00 IST is always 03:30 UTC.
        ("Asia/Kolkata", dt.datetime(2025, 3, 3, 9, 0), dt.datetime(2025, 3, 3, 3, 30)),
        ("Asia/Kolkata", dt.datetime(2025, 3, 10, 9, 0), dt.datetime(2025, 3, 10, 3, 30)),
        # New York moves to summer time on Sunday 9 March 2025: 14:00 UTC before, 13:00 after.
        ("America/New_York", dt.datetime(2025, 3, 3, 9, 0), dt.datetime(2025, 3, 3, 14, 0)),
        ("America/New_York", dt.datetime(2025, 3, 10, 9, 0), dt.datetime(2025, 3, 10, 13, 0)),
    ],
)
def test_digests_fire_at_nine_local_time_across_dst(tz, local, utc):
    sub = Subscription(1, "C1", "mon", "09:00", tz, "")
    trigger = digest_trigger(sub)
    before = (local - dt.timedelta(days=1)).replace(tzinfo=ZoneInfo(tz))
    fire = trigger.get_next_fire_time(None, before)
    assert fire.astimezone(dt.UTC).replace(tzinfo=None) == utc
    # And the catch-up logic agrees on which slot is due a minute later.
    assert sub.due(fire + dt.timedelta(minutes=1)) == fire


def test_a_week_with_no_data_says_so_in_one_line(settings, db, slack):
    sub = subscribe(db)
    far = dt.datetime(2026, 1, 5, 9, 0, tzinfo=IST)  # the week before holds no data
    assert work(settings, db, slack).run_digest(sub, far) == "posted"
    [message] = digests(slack)
    assert (
        message.params["text"].startswith("No data for 2025-W01")
        or "No data for" in message.params["text"]
    )
    assert not slack.uploads()  # no chart for an empty week


def test_a_failed_post_is_retried(settings, db, slack):
    sub = subscribe(db)
    slack.fail("chat.postMessage", error="internal_error", times=2)
    assert work(settings, db, slack).run_digest(sub, MONDAY) == "posted"
    assert len(digests(slack)) == 3  # two refused, the third posted


def test_channel_not_found_disables_the_subscription_and_tells_the_admins(settings, db, slack):
    sub = subscribe(db)
    slack.fail("chat.postMessage", error="channel_not_found")
    assert work(settings, db, slack).run_digest(sub, MONDAY) == "failed: channel_not_found"
    assert subscriptions(db) == []
    [dm] = [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == "UADMIN1"]
    assert "channel_not_found" in dm.params["text"]
    assert len(digests(slack)) == 1  # tried once, not retried


def test_scheduler_jobs_come_from_the_store_with_explicit_ids_and_grace(settings, db, slack):
    subscribe(db, channel="CA", day="tue", time="08:30", tz="America/New_York")
    scheduler = Scheduler(settings, work(settings, db, slack))
    scheduler.sync()
    job = scheduler.scheduler.get_job("digest:CA")
    assert str(job.trigger.timezone) == "America/New_York"
    assert "day_of_week='tue', hour='8', minute='30'" in str(job.trigger)
    defaults = scheduler.scheduler._job_defaults
    assert defaults["coalesce"] is True and defaults["misfire_grace_time"] >= 3600
    with db.begin() as conn:
        conn.execute(update(models.digest_subscriptions).values(active=False))
    scheduler.sync()
    assert scheduler.scheduler.get_job("digest:CA") is None


# --- alerts ---------------------------------------------------------------------------------


@pytest.fixture
def metrics_db(store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return store


# Evaluated on 10 March 2025 with a 10-day window: 1-10 March, ROAS 2.22x (docs/metrics.md).
EVAL = dt.datetime(2025, 3, 10, 12, 0, tzinfo=IST)


def add_rule(db, **values) -> int:
    row = {
        "channel": "CALERT",
        "created_by": "U1",
        "metric": "roas",
        "op": "<",
        "threshold": 3.0,
        "window_days": 10,
        "each": None,
        "filters": "",
        "min_spend": 0.0,
        "pending": 1,
        "active": True,
        "created_at": dt.datetime.now(dt.UTC),
    }
    row.update(values)
    with db.begin() as conn:
        return conn.execute(
            insert(models.alert_rules).values(**row).returning(models.alert_rules.c.id)
        ).scalar_one()


def set_threshold(db, rule_id, threshold):
    with db.begin() as conn:
        conn.execute(
            update(models.alert_rules)
            .where(models.alert_rules.c.id == rule_id)
            .values(threshold=threshold)
        )


def alerts(slack):
    return [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == "CALERT"]


def test_ok_firing_ok_posts_a_fire_and_a_resolve_in_its_thread(settings, metrics_db, slack):
    rule = add_rule(metrics_db)  # ROAS 2.22 < 3: fires
    runner = work(settings, metrics_db, slack)
    assert runner.evaluate_alerts(EVAL) == [f"#{rule}: scope fired"]
    assert runner.evaluate_alerts(EVAL + dt.timedelta(hours=1)) == [f"#{rule}: no change"]
    set_threshold(metrics_db, rule, 2.0)  # 2.22 is no longer below: resolves
    assert runner.evaluate_alerts(EVAL + dt.timedelta(hours=2)) == [f"#{rule}: scope resolved"]
    fire, resolve = alerts(slack)
    assert "roas for all data is 2.22x" in fire.params["text"]
    assert resolve.params["thread_ts"] == fire.response["ts"]
    assert "Resolved" in resolve.params["text"]
    [edit] = slack.calls("chat.update")
    assert edit.params["ts"] == fire.response["ts"] and "resolved" in edit.params["text"]
    with metrics_db.connect() as conn:
        states = [
            r.state
            for r in conn.execute(
                select(models.alert_evaluations).order_by(models.alert_evaluations.c.id)
            )
        ]
    assert states == ["FIRING", "FIRING", "OK"]


def test_a_reminder_only_after_the_repeat_interval(settings, metrics_db, slack):
    add_rule(metrics_db)
    runner = work(settings, metrics_db, slack)
    runner.evaluate_alerts(EVAL)
    runner.evaluate_alerts(EVAL + dt.timedelta(hours=23))
    assert len(alerts(slack)) == 1
    runner.evaluate_alerts(EVAL + dt.timedelta(hours=24))
    reminder = alerts(slack)[-1]
    assert len(alerts(slack)) == 2 and "Still firing" in reminder.params["text"]
    assert reminder.params["thread_ts"] == alerts(slack)[0].response["ts"]


def test_mute_evaluates_and_records_but_does_not_post(settings, metrics_db, slack):
    rule = add_rule(metrics_db, muted_until=EVAL + dt.timedelta(days=1))
    work(settings, metrics_db, slack).evaluate_alerts(EVAL)
    assert alerts(slack) == []
    with metrics_db.connect() as conn:
        [evaluation] = list(conn.execute(select(models.alert_evaluations)))
    assert (evaluation.rule_id, evaluation.state, evaluation.posted) == (rule, "FIRING", False)


def test_per_influencer_alerts_fire_once_for_each_entity(settings, metrics_db, slack):
    add_rule(metrics_db, threshold=1.0, each="influencer")  # C and D sold nothing: ROAS 0
    runner = work(settings, metrics_db, slack)
    report = runner.evaluate_alerts(EVAL)
    assert report[0].endswith("C fired, D fired")
    runner.evaluate_alerts(EVAL + dt.timedelta(hours=1))
    texts = sorted(c.params["text"] for c in alerts(slack))
    assert len(texts) == 2
    assert "influencer C is 0.00x" in texts[0] and "influencer D is 0.00x" in texts[1]


def test_two_schedulers_evaluating_the_same_slot_post_once(settings, metrics_db, slack):
    add_rule(metrics_db)
    work(settings, metrics_db, slack).evaluate_alerts(EVAL)
    assert work(settings, metrics_db, slack).evaluate_alerts(EVAL) == []  # slot already claimed
    assert len(alerts(slack)) == 1


def test_a_revenue_drop_rule_compares_with_the_previous_window(settings, metrics_db, slack):
    # 5-10 March against 27 Feb-4 March: revenue 1,500 vs 3,500, a 57% drop.
    add_rule(metrics_db, metric="revenue", op="drop", threshold=30, window_days=6)
    work(settings, metrics_db, slack).evaluate_alerts(EVAL)
    [fire] = alerts(slack)
    assert "revenue for all data is -57%" in fire.params["text"]


def test_the_default_rule_comes_from_settings(metrics_db, slack):
    settings = Settings(roas_alert_threshold=1.5, alert_channel_id="CDEFAULT")
    work(settings, metrics_db, slack).ensure_default_rule()
    work(settings, metrics_db, slack).ensure_default_rule()  # idempotent across restarts
    with metrics_db.connect() as conn:
        rules = list(conn.execute(select(models.alert_rules)))
    assert [(r.channel, r.metric, r.op, r.threshold) for r in rules] == [
        ("CDEFAULT", "roas", "<", 1.5)
    ]


def test_an_alert_that_fires_while_slack_fails_is_posted_once_slack_recovers(
    settings, metrics_db, slack
):
    failing = add_rule(metrics_db)  # ROAS 2.22 < 3: fires
    other = add_rule(metrics_db, metric="cost", op=">", threshold=0.0, channel="COTHER")
    slack.fail("chat.postMessage", error="internal_error", times=4)  # every try of the first
    runner = work(settings, metrics_db, slack)
    report = runner.evaluate_alerts(EVAL)
    assert report == [f"#{failing}: scope fired", f"#{other}: scope fired"]  # both evaluated
    assert alerts(slack) and all(c.response.get("ok") is False for c in alerts(slack))
    assert [c.params["channel"] for c in slack.calls("chat.postMessage") if c.response["ok"]] == [
        "COTHER"
    ]  # one failing rule did not stop the other
    with metrics_db.connect() as conn:
        runs = {r.job: r.status for r in conn.execute(select(models.job_runs))}
    assert runs == {f"alert:{failing}": "done", f"alert:{other}": "done"}  # no claim left running
    # Slack is back: the owed message goes out once, at the next drain after its backoff.
    assert runner.deliver_owed(EVAL + dt.timedelta(seconds=10)) == 0  # not due yet
    assert work(settings, metrics_db, slack).deliver_owed(EVAL + dt.timedelta(minutes=2)) == 1
    assert runner.deliver_owed(EVAL + dt.timedelta(minutes=30)) == 0
    assert runner.evaluate_alerts(EVAL + dt.timedelta(hours=1)) == [
        f"#{failing}: no change", f"#{other}: no change",
    ]  # fmt: skip
    posted = [c for c in alerts(slack) if c.response["ok"]]
    assert len(posted) == 1 and "roas for all data is 2.22x" in posted[0].params["text"]


def test_a_fire_still_owed_when_the_alert_resolves_is_not_posted(settings, metrics_db, slack):
    rule = add_rule(metrics_db)
    slack.fail("chat.postMessage", error="internal_error", times=4)
    runner = work(settings, metrics_db, slack)
    runner.evaluate_alerts(EVAL)
    set_threshold(metrics_db, rule, 2.0)
    assert runner.evaluate_alerts(EVAL + dt.timedelta(hours=1)) == [f"#{rule}: scope resolved"]
    assert runner.deliver_owed(EVAL + dt.timedelta(hours=2)) == 0
    assert [c for c in alerts(slack) if c.response["ok"]] == []
    with metrics_db.connect() as conn:
        statuses = [r.status for r in conn.execute(select(models.alert_outbox))]
    assert statuses == ["superseded"]


def test_an_owed_message_is_sent_by_one_sender_only(settings, metrics_db, slack):
    from storage import schedules

    add_rule(metrics_db)
    slack.fail("chat.postMessage", error="internal_error", times=4)
    work(settings, metrics_db, slack).evaluate_alerts(EVAL)
    later = EVAL + dt.timedelta(minutes=5)
    [message] = schedules.owed(metrics_db, later)
    assert schedules.take(metrics_db, message, later, dt.timedelta(minutes=5))
    assert not schedules.take(metrics_db, message, later, dt.timedelta(minutes=5))
    assert schedules.owed(metrics_db, later) == []  # taken: not due until its lease runs out
    assert len(schedules.owed(metrics_db, later + dt.timedelta(minutes=6))) == 1


def test_a_digest_whose_scheduler_died_before_posting_is_posted_by_another_once(
    settings, db, slack
):
    lease = dt.timedelta(seconds=settings.scheduler_lease_seconds)
    sub = subscribe(db)
    assert claim_run(db, "digest:CDIGEST", "2025-W23", MONDAY, lease)  # then: kill -9
    other = work(settings, db, slack)
    assert other.run_digest(sub, MONDAY + dt.timedelta(seconds=5)) == "already done"
    assert other.resume_lapsed(MONDAY + dt.timedelta(seconds=30)) == []  # its lease still runs
    later = MONDAY + lease + dt.timedelta(seconds=1)
    assert other.resume_lapsed(later) == ["CDIGEST: posted"]
    assert other.resume_lapsed(later + dt.timedelta(minutes=10)) == []
    assert len(digests(slack)) == 1


def test_a_digest_whose_scheduler_died_after_posting_is_not_posted_again(settings, db, slack):
    lease = dt.timedelta(seconds=settings.scheduler_lease_seconds)
    sub = subscribe(db)
    dying = work(settings, db, slack)
    assert claim_run(db, "digest:CDIGEST", "2025-W23", MONDAY, lease)
    built = dying.build(dt.date(2025, 6, 2), sub.filters)
    dying.poster.digest("CDIGEST", built, "digest:CDIGEST@2025-W23")  # posted, then kill -9
    later = MONDAY + dt.timedelta(minutes=40)
    assert work(settings, db, slack).resume_lapsed(later) == ["CDIGEST: posted"]
    [message] = digests(slack)  # found by its marker, not posted twice
    assert message.params["metadata"]["event_payload"] == {"key": "digest:CDIGEST@2025-W23"}
    with db.connect() as conn:
        [run] = list(conn.execute(select(models.job_runs)))
    assert (run.status, run.message_ts) == ("done", message.response["ts"])
