"""Digests and alerts that nobody asked for, delivered exactly once, through any transport.

The scheduler, `/digest now`, `/alert check` and `roasbot digest` all run here, against a
`Poster`: Slack's (`bot.slack.poster`) posts Block Kit with retries; the console's prints; the
tests' records. Time is always passed in (`now`, an aware datetime), so tests drive the clock.
Two guards make "exactly once" hold across processes and restarts:

- a digest claims (digest:CHANNEL, ISO week) and an alert evaluation (alert:ID, the minute)
  in `job_runs` before doing anything (`storage.claims`);
- an alert's state changes by compare-and-set (`storage.schedules.move_state`), so of two
  evaluations racing only one moves it, and the message the change owes is queued in the same
  transaction (`alert_outbox`). What the state should become is decided by
  `insights.alerts.transition`, a pure function.

and "at least once" rests on that queue: a message is owed until Slack takes it, retried with
backoff after every evaluation and every minute, each by one sender at a time.

A transport that refuses for good (the channel is gone, the bot was removed) raises
`Undeliverable`: the subscription or rule is disabled and the admins are told once, instead of
failing every hour. One failing rule or message never stops the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import DeliveryError, Undeliverable, user_message
from bot.settings import Settings
from insights.alerts import (
    Check,
    Notice,
    Reading,
    Rule,
    State,
    breached,
    evaluate,
    rule_window,
    scope_query,
    transition,
    unusual_day,
)
from insights.anomaly import Expected
from insights.digest import Digest, build_digest, iso_week, last_full_week, week_of
from insights.engine import Thresholds, answer
from insights.query import QueryError, Window
from insights.results import Answer
from storage import schedules
from storage.claims import claim_run, finish_run, lapsed_runs, renew_run
from storage.schedules import StoredRule, Subscription

__all__ = ["Notifications", "Poster", "Subscription"]

log = logging.getLogger(__name__)
ALERT_CHART_ROWS = 15
SEND_LEASE = dt.timedelta(minutes=5)  # a sender that died holding a message: due again after
RETRY_FIRST = dt.timedelta(minutes=1)  # Slack refused: again after 1, 2, 4... minutes
RETRY_LONGEST = dt.timedelta(hours=1)


class Poster(Protocol):
    """A transport for scheduled messages. Each call returns the id of the message it posted
    (Slack's ts) or None; it raises DeliveryError or Undeliverable when it cannot."""

    def digest(self, channel: str, digest: Digest, key: str | None = None) -> str | None:
        """Post `digest`; with a `key`, first look for the channel's message marked with it
        and return that one's id instead of posting again."""
        ...

    def alert(self, channel: str, notice: Notice) -> str | None: ...

    def tell_admins(self, text: str) -> None: ...


class Notifications:
    def __init__(
        self, settings: Settings, db: Engine, poster: Poster, thresholds: Thresholds
    ) -> None:
        self.settings, self.db, self.poster, self.thresholds = settings, db, poster, thresholds
        # Renewed four times a lease while a digest is built and posted.
        self.lease = dt.timedelta(seconds=settings.scheduler_lease_seconds)

    def subscriptions(self, channel: str | None = None) -> list[Subscription]:
        """The digests to schedule (the scheduler syncs its jobs with them)."""
        return schedules.subscriptions(self.db, channel)

    def ensure_default_rule(self) -> None:
        """A fresh install alerts without typing: ROAS_ALERT_THRESHOLD + ALERT_CHANNEL_ID."""
        threshold, channel = self.settings.roas_alert_threshold, self.settings.alert_channel_id
        if threshold is not None and channel:
            schedules.ensure_default_rule(self.db, channel, threshold)

    # --- digests -------------------------------------------------------------------------------

    def build(self, week_start: dt.date, filters: str = "") -> Digest:
        return build_digest(
            self.db,
            week_start,
            filters=filters,
            thresholds=self.thresholds,
            currency=self.settings.currency,
        )

    def run_digest(self, sub: Subscription, now: dt.datetime, *, claim: bool = True) -> str:
        """Post the digest of the last full week before the run day; returns what happened.

        `claim=False` is `/digest now`: posted on request, leaving the scheduled run alone.
        """
        run_day = sub.due(now).date() if claim else now.astimezone(ZoneInfo(sub.timezone)).date()
        week_start, _ = last_full_week(run_day)
        job, period = f"digest:{sub.channel}", iso_week(week_start)
        if not claim:
            return self._digest_of_week(sub, week_start, None)[0]
        if not claim_run(self.db, job, period, now, self.lease, channel=sub.channel):
            return "already done"
        return self._claimed_digest(sub, week_start, job, period, now)

    def _claimed_digest(
        self, sub: Subscription, week_start: dt.date, job: str, period: str, now: dt.datetime
    ) -> str:
        """Build and post a claimed digest, renewing the claim's lease while it works (a
        process that dies stops renewing, and any scheduler then takes the run over); the post
        carries its (job, period), so a run taken over after the post does not post again."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease.total_seconds() / 4):
                renew_run(self.db, job, period, dt.datetime.now(dt.UTC) + self.lease)

        heartbeat = threading.Thread(target=renew, name=f"lease-{job}", daemon=True)
        heartbeat.start()
        try:
            outcome, ts = self._digest_of_week(sub, week_start, f"{job}@{period}")
        finally:
            stop.set()
            heartbeat.join()
            status = "done" if outcome == "posted" else "failed"
            finish_run(self.db, job, period, status, now, message_ts=ts,
                       error=None if status == "done" else outcome)  # fmt: skip
        return outcome

    def _digest_of_week(
        self, sub: Subscription, week_start: dt.date, key: str | None
    ) -> tuple[str, str | None]:
        try:
            digest = self.build(week_start, sub.filters)
        except (SQLAlchemyError, QueryError) as exc:
            log.warning("digest for %s not built: %s", sub.channel, user_message(exc))
            return f"failed: {user_message(exc)}", None
        return self.deliver(sub.channel, digest, sub.id or None, key)

    def resume_lapsed(self, now: dt.datetime) -> list[str]:
        """Take over the digests whose owner died mid-run (their lease lapsed) and finish
        them: posted once, since the post looks for its own marker first."""
        done = []
        for job, period in lapsed_runs(self.db, "digest:", now):
            channel = job.removeprefix("digest:")
            subs = self.subscriptions(channel)
            if not subs or not claim_run(self.db, job, period, now, self.lease, channel):
                continue
            week_start = week_of(period)[0]
            done.append(f"{channel}: {self._claimed_digest(subs[0], week_start, job, period, now)}")
        return done

    def deliver(
        self,
        channel: str,
        digest: Digest,
        subscription_id: int | None = None,
        key: str | None = None,
    ) -> tuple[str, str | None]:
        """Post a built digest: ('posted', its id) or ('failed: why', None). With a `key`, a
        message of the channel already carrying it counts as posted. A channel that is gone
        disables its subscription (when it has one) and tells the admins."""
        try:
            return "posted", self.poster.digest(channel, digest, key)
        except Undeliverable as exc:
            if subscription_id is not None:
                schedules.disable_subscription(self.db, subscription_id, exc.code)
            self.poster.tell_admins(
                f"roasbot stopped the weekly digest for <#{channel}>: Slack said "
                f"`{exc.code}`. Invite the bot back and run `/digest subscribe` there."
            )
            return f"failed: {exc.code}", None
        except DeliveryError as exc:
            log.warning("digest for %s not delivered: %s", channel, exc.code)
            return f"failed: {user_message(exc)}", None

    def catch_up(self, now: dt.datetime, grace: dt.timedelta) -> list[str]:
        """Run digests whose time passed while no scheduler was up, if still within `grace`."""
        return [
            f"{sub.channel}: {self.run_digest(sub, now)}"
            for sub in schedules.subscriptions(self.db)
            if now - sub.due(now) <= grace
        ]

    # --- alerts -------------------------------------------------------------------------------

    def evaluate_alerts(
        self,
        now: dt.datetime,
        rule_id: int | None = None,
        claim: bool = True,
        channel: str | None = None,
    ) -> list[str]:
        """Evaluate every active rule (or one, or one channel's) at `now`: '#3: scope fired',
        '#4: no change'."""
        slot = now.astimezone(ZoneInfo(self.settings.timezone)).strftime("%Y-%m-%dT%H:%M")
        report = []
        for stored in schedules.rules(self.db, rule_id, channel):
            job = f"alert:{stored.id}"
            if claim and not claim_run(self.db, job, slot, now, channel=stored.channel):
                continue
            outcome = self._evaluate_rule(stored, now)
            failed = outcome.startswith("failed")
            if claim:
                finish_run(self.db, job, slot, "failed" if failed else "done", now,
                           error=outcome if failed else None)  # fmt: skip
            report.append(f"#{stored.id}: {outcome}")
            self.deliver_owed(now, stored.id)
        return report

    def deliver_owed(self, now: dt.datetime, rule_id: int | None = None) -> int:
        """Post the alert messages due (one rule's, or all): what Slack refused before is
        tried again with backoff, each message by one sender however many run. Returns how
        many went out. Runs after every evaluation and every minute (`bot.scheduler`)."""
        sent = 0
        for message in schedules.owed(self.db, now, rule_id):
            if schedules.take(self.db, message, now, SEND_LEASE):
                sent += self._send(message, now)
        return sent

    def _send(self, message: schedules.OwedMessage, now: dt.datetime) -> int:
        [stored] = schedules.rules(self.db, message.rule_id, active=None) or [None]
        if stored is None:
            return 0
        state = schedules.states(self.db, message.rule_id).get(message.entity)
        window = Window(message.window_start, message.window_end)
        rule = Rule.of(stored)
        fired = message.event == "fired"
        chart = self._chart(rule, window) if fired and not rule.unusual else None
        notice = Notice(
            event=message.event,  # type: ignore[arg-type]
            rule_id=stored.id,
            rule=rule,
            entity=message.entity,
            value=message.value,
            window=window,
            filters=chart.filters if chart else self._filters(rule, window),
            repeat_hours=self.settings.alert_repeat_hours,
            data_through=message.window_end,
            thread_ts=state.message_ts if state is not None else None,
            chart=chart,
            expected=self._expected(rule, message, fired),
        )
        try:
            ts = self.poster.alert(stored.channel, notice)
        except Undeliverable as exc:
            schedules.not_delivered(self.db, message, exc.code, None)
            schedules.deactivate_rule(self.db, stored.id)
            self.poster.tell_admins(
                f"roasbot disabled alert #{stored.id} in <#{stored.channel}>: Slack said "
                f"`{exc.code}`."
            )
            return 0
        except DeliveryError as exc:
            wait = min(RETRY_FIRST * 2**message.attempts, RETRY_LONGEST)
            log.warning("alert #%s %s not delivered (%s); again in %s", stored.id,
                        message.event, exc.code, wait)  # fmt: skip
            schedules.not_delivered(self.db, message, exc.code, now + wait)
            return 0
        schedules.delivered(self.db, message, ts, now)
        return 1

    def _expected(self, rule: Rule, message: schedules.OwedMessage, fired: bool) -> Expected | None:
        """An unusual rule's expectation for the message: a fire's with its reference days
        (for the chart, recomputed: the data of past days does not change), the others' as
        queued."""
        if not rule.unusual or message.expected is None or message.band is None:
            return None
        if fired:
            try:
                reading = unusual_day(self.db, rule, message.window_end, self.thresholds)
            except (QueryError, SQLAlchemyError):
                reading = {}
            found = reading.get(message.entity)
            if found is not None and found.expected is not None:
                return found.expected
        return Expected(message.window_end, message.expected, message.band, ())

    def preview(self, now: dt.datetime) -> list[Check]:
        """Every active rule's values now and whether each breaches, changing nothing and
        posting nothing (the console's `/alert check`: Slack's channels keep their alerts)."""
        checks = []
        for stored in schedules.rules(self.db):
            rule = Rule.of(stored)
            try:
                readings = evaluate(self.db, rule, self._today(now), self.thresholds)
            except (QueryError, SQLAlchemyError) as exc:
                checks.append(Check(stored.id, rule, "", None, False, "", user_message(exc)))
                continue
            states = schedules.states(self.db, stored.id)
            checks += [
                Check(
                    stored.id,
                    rule,
                    entity,
                    r.value,
                    breached(rule, r.value, r.expected),
                    states[entity].state if entity in states else "OK",
                    expected=r.expected,
                )
                for entity, r in sorted(readings.items())
            ]
        return checks

    def _today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(ZoneInfo(self.settings.timezone)).date()

    def _evaluate_rule(self, stored: StoredRule, now: dt.datetime) -> str:
        rule, today = Rule.of(stored), self._today(now)
        try:
            readings = evaluate(self.db, rule, today, self.thresholds)
        except (QueryError, SQLAlchemyError) as exc:
            schedules.record_evaluation(self.db, stored.id, "", now, None, "ERROR", False,
                                        str(exc)[:500])  # fmt: skip
            return f"failed: {user_message(exc)}"
        states = schedules.states(self.db, stored.id)
        firing = {entity for entity, s in states.items() if s.state == "FIRING"}
        window = rule_window(self.db, rule, today)
        changes = [
            self._step(stored, rule, entity, readings.get(entity, Reading(None)), now, window)
            for entity in sorted(set(readings) | firing)
        ]
        return ", ".join(c for c in changes if c) or "no change"

    def _step(
        self,
        stored: StoredRule,
        rule: Rule,
        entity: str,
        reading: Reading,
        now: dt.datetime,
        window: Window,
    ) -> str:
        """One entity's evaluation: the state machine's verdict, applied by compare-and-set
        together with the message it owes (delivered by `deliver_owed`)."""
        before = schedules.ensure_state(self.db, stored.id, entity)
        value, expected = reading.value, reading.expected
        step = transition(
            rule,
            State(before.state, before.streak, before.notified_at, before.message_ts),
            value,
            muted=stored.muted(now),
            now=now,
            repeat=dt.timedelta(hours=self.settings.alert_repeat_hours),
            expected=expected,
        )
        schedules.set_streak(self.db, stored.id, entity, step.streak, value)
        owed = (
            schedules.Owed(value, window.start, window.end,
                           *((expected.value, expected.band) if expected else ()))
            if step.notify
            else None
        )  # fmt: skip
        won = step.event is not None and schedules.move_state(
            self.db, stored.id, entity, step.event, now, before.notified_at, owed
        )
        state = step.state if won else before.state
        queued = won and step.notify
        schedules.record_evaluation(self.db, stored.id, entity, now, value, state, queued)
        return f"{entity or 'scope'} {step.event}" if won else ""

    def _chart(self, rule: Rule, window) -> Answer | None:
        """What the alert watches, by its entity (or by week), for the fire message's chart."""
        query = dataclasses.replace(
            scope_query(rule, window, rule.each or "week"), top=ALERT_CHART_ROWS
        )
        try:
            return answer(self.db, query, self.thresholds)
        except (QueryError, SQLAlchemyError):
            return None

    def _filters(self, rule: Rule, window) -> dict[str, list[str]]:
        return {k: list(v) for k, v in scope_query(rule, window).filters.items()}
