"""The work the scheduler does: weekly digests and alert evaluations, each exactly once.

Time is always passed in (`now`, an aware datetime), so tests drive the clock. Two guards make
"exactly once" hold across processes and restarts:

- a digest claims (digest:CHANNEL, ISO week) in `job_runs` before doing anything;
- an alert's state changes by compare-and-set (`UPDATE ... WHERE state = 'OK'`), so of two
  evaluations racing, only the one whose update matched posts the message.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from bot import queries
from bot.charts import render_chart
from bot.settings import Settings
from bot.slack import blocks
from bot.slack.notify import FatalSlackError, call_with_retry, tell_admins
from insights.alerts import Rule, breached, evaluate, rolling_window, scope_query
from insights.digest import build_digest, iso_week, last_full_week
from insights.engine import answer
from insights.formatting import money, percent, ratio
from insights.query import QueryError, to_text
from storage import models
from storage.claims import claim_run, finish_run

log = logging.getLogger(__name__)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: str
    day: str
    time: str
    timezone: str
    filters: str

    def due(self, now: dt.datetime) -> dt.datetime:
        """The latest scheduled time at or before `now`, in the subscription's zone."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        hour, minute = (int(x) for x in self.time.split(":"))
        days_back = (local.weekday() - DAYS.index(self.day)) % 7
        day = local.date() - dt.timedelta(days=days_back)
        slot = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
        return slot if slot <= local else slot - dt.timedelta(days=7)


def subscriptions(db: Engine, channel: str | None = None) -> list[Subscription]:
    table = models.digest_subscriptions
    statement = select(table).where(table.c.active.is_(True)).order_by(table.c.id)
    if channel:
        statement = statement.where(table.c.channel == channel)
    with db.connect() as conn:
        return [
            Subscription(r.id, r.channel, r.day, r.time, r.timezone, r.filters)
            for r in conn.execute(statement)
        ]


class ScheduledWork:
    def __init__(self, settings: Settings, db: Engine, client: WebClient, sleep=None) -> None:
        self.settings, self.db, self.client = settings, db, client
        self.retry = {"sleep": sleep} if sleep else {}

    # --- digests ----------------------------------------------------------------------------

    def run_digest(self, sub: Subscription, now: dt.datetime, *, claim: bool = True) -> str:
        """Post the digest of the last full week before the run day; returns what happened.

        `claim=False` is `/digest now`: posted on request, leaving the scheduled run alone.
        """
        run_day = sub.due(now).date() if claim else now.astimezone(ZoneInfo(sub.timezone)).date()
        week_start, _ = last_full_week(run_day)
        job, period = f"digest:{sub.channel}", iso_week(week_start)
        if claim and not claim_run(self.db, job, period, now, channel=sub.channel):
            return "already done"
        try:
            currency = self.settings.currency
            digest = build_digest(
                self.db,
                week_start,
                filters=sub.filters,
                thresholds=queries.thresholds(self.settings),
                currency=currency,
            )
            text, message = blocks.digest_message(digest, currency)
            posted = call_with_retry(
                self.client.chat_postMessage,
                channel=sub.channel,
                text=text,
                blocks=message,
                **self.retry,
            )
            if digest.has_data:
                self._trend_chart(digest, sub.channel, posted["ts"])
        except FatalSlackError as exc:
            self._disable_subscription(sub, exc.code)
            if claim:
                finish_run(self.db, job, period, "failed", now, error=exc.code)
            return f"failed: {exc.code}"
        except (SlackApiError, SQLAlchemyError, QueryError) as exc:
            log.exception("digest for %s failed", sub.channel)
            if claim:
                finish_run(self.db, job, period, "failed", now, error=str(exc)[:500])
            return f"failed: {exc}"
        if claim:
            finish_run(self.db, job, period, "done", now, message_ts=posted["ts"])
        return "posted"

    def _trend_chart(self, digest, channel: str, ts: str) -> None:
        self._chart_in_thread(digest.trend_answer(), channel, ts, f"digest-{digest.week}.png",
                              f"Weekly trend to {digest.week}")  # fmt: skip

    def _chart_in_thread(self, result, channel: str, ts: str, filename: str, title: str) -> None:
        """The chart of `result` uploaded into the thread of `ts` (nothing when it has none)."""
        png = render_chart(
            result, currency=self.settings.currency, target=self.settings.roas_target
        )
        if png:
            call_with_retry(
                self.client.files_upload_v2,
                channel=channel,
                thread_ts=ts,
                content=png,
                filename=filename,
                title=title,
                **self.retry,
            )

    def catch_up(self, now: dt.datetime, grace: dt.timedelta) -> list[str]:
        """Run digests whose time passed while no scheduler was up, if still within `grace`."""
        done = []
        for sub in subscriptions(self.db):
            if now - sub.due(now) <= grace:
                done.append(f"{sub.channel}: {self.run_digest(sub, now)}")
        return done

    def _disable_subscription(self, sub: Subscription, code: str) -> None:
        table = models.digest_subscriptions
        with self.db.begin() as conn:
            conn.execute(
                update(table).where(table.c.id == sub.id).values(active=False, disabled_reason=code)
            )
        tell_admins(
            self.client,
            self.settings.admin_user_ids,
            f"roasbot stopped the weekly digest for <#{sub.channel}>: Slack said "
            f"`{code}`. Invite the bot back and run `/digest subscribe` there.",
        )

    # --- alerts ---------------------------------------------------------------------------------

    def evaluate_alerts(
        self, now: dt.datetime, rule_id: int | None = None, claim: bool = True
    ) -> list[str]:
        table = models.alert_rules
        statement = select(table).where(table.c.active.is_(True)).order_by(table.c.id)
        if rule_id is not None:
            statement = statement.where(table.c.id == rule_id)
        with self.db.connect() as conn:
            rules = list(conn.execute(statement))
        slot = now.astimezone(ZoneInfo(self.settings.timezone)).strftime("%Y-%m-%dT%H:%M")
        report = []
        for row in rules:
            if claim and not claim_run(self.db, f"alert:{row.id}", slot, now, channel=row.channel):
                continue
            outcome, status = self._evaluate_rule(row, now), "done"
            if outcome.startswith("failed"):
                status = "failed"
            if claim:
                finish_run(
                    self.db,
                    f"alert:{row.id}",
                    slot,
                    status,
                    now,
                    error=(outcome if status == "failed" else None),
                )
            report.append(f"#{row.id}: {outcome}")
        return report

    def _evaluate_rule(self, row, now: dt.datetime) -> str:
        rule = Rule(
            row.metric,
            row.op,
            row.threshold,
            row.window_days,
            row.each,
            row.filters,
            row.min_spend,
            row.pending,
        )
        today = now.astimezone(ZoneInfo(self.settings.timezone)).date()
        try:
            values = evaluate(self.db, rule, today, queries.thresholds(self.settings))
        except (QueryError, SQLAlchemyError) as exc:
            self._record(row.id, "", now, None, "ERROR", False, str(exc)[:500])
            return f"failed: {exc}"
        muted = row.muted_until is not None and row.muted_until > now
        firing = self._states(row.id)
        changes = []
        for entity in sorted(set(values) | {e for e, s in firing.items() if s.state == "FIRING"}):
            value = values.get(entity)
            try:
                changes.append(self._step(row, rule, entity, value, now, today, muted))
            except FatalSlackError as exc:
                self._disable_rule(row, exc.code)
                return f"failed: {exc.code}"
        return ", ".join(c for c in changes if c) or "no change"

    def _states(self, rule_id: int) -> dict:
        table = models.alert_states
        with self.db.connect() as conn:
            return {
                r.entity: r for r in conn.execute(select(table).where(table.c.rule_id == rule_id))
            }

    def _step(self, row, rule: Rule, entity: str, value, now, today, muted: bool) -> str:
        """One entity's evaluation: OK -> FIRING posts once, FIRING -> OK resolves once."""
        table = models.alert_states
        self._ensure_state(row.id, entity)
        state = self._states(row.id)[entity]
        hit = breached(rule, value)
        key = (table.c.rule_id == row.id) & (table.c.entity == entity)
        posted, change, current = False, "", state.state
        with self.db.begin() as conn:
            streak = state.streak + 1 if hit else 0
            conn.execute(update(table).where(key).values(streak=streak, value=value))
        name = entity or "scope"
        if hit and current == "OK":
            if streak >= rule.pending and self._swap(key, "OK", "FIRING", now):
                current, change = "FIRING", f"{name} fired"
                if not muted:
                    ts = self._post_fire(row, rule, entity, value, today)
                    self._set(key, message_ts=ts, notified_at=now)
                    posted = True
        elif hit and not muted:
            repeat = dt.timedelta(hours=self.settings.alert_repeat_hours)
            last = state.notified_at
            if (
                last is not None
                and now - last >= repeat
                and self._touch(key, state.notified_at, now)
            ):
                self._post_reminder(row, rule, entity, value, state.message_ts, today)
                change, posted = f"{name} reminded", True
        elif not hit and current == "FIRING" and self._swap(key, "FIRING", "OK", now):
            current, change = "OK", f"{name} resolved"
            if not muted and state.message_ts:
                self._post_resolved(row, rule, entity, value, state.message_ts, today)
                posted = True
        self._record(row.id, entity, now, value, current, posted, None)
        return change

    def _ensure_state(self, rule_id: int, entity: str) -> None:
        table = models.alert_states
        dialect = postgresql if self.db.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(table)
            .values(rule_id=rule_id, entity=entity, state="OK", streak=0)
            .on_conflict_do_nothing()
        )
        with self.db.begin() as conn:
            conn.execute(statement)

    def _swap(self, key, old: str, new: str, now: dt.datetime) -> bool:
        table = models.alert_states
        with self.db.begin() as conn:
            done = conn.execute(
                update(table).where(key, table.c.state == old).values(state=new, since=now)
            )
            return done.rowcount == 1

    def _touch(self, key, last: dt.datetime, now: dt.datetime) -> bool:
        table = models.alert_states
        with self.db.begin() as conn:
            done = conn.execute(
                update(table).where(key, table.c.notified_at == last).values(notified_at=now)
            )
            return done.rowcount == 1

    def _set(self, key, **values) -> None:
        with self.db.begin() as conn:
            conn.execute(update(models.alert_states).where(key).values(**values))

    def _record(self, rule_id, entity, now, value, state, posted, error) -> None:
        with self.db.begin() as conn:
            conn.execute(
                insert(models.alert_evaluations).values(
                    rule_id=rule_id,
                    entity=entity,
                    evaluated_at=now,
                    value=value,
                    state=state,
                    posted=posted,
                    error=error,
                )
            )

    def _describe(self, rule: Rule, entity: str, value, today) -> tuple[str, str, str]:
        window = rolling_window(rule, today)
        who = f"{rule.each} {entity}" if entity else (rule.filters or "all data")
        shown = _shown(rule, value, self.settings.currency)
        line = (
            f"{rule.metric} drop > {rule.threshold:g}%"
            if rule.op == "drop"
            else f"{rule.metric} rise > {rule.threshold:g}%"
            if rule.op == "rise"
            else f"{rule.metric} {rule.op} {rule.threshold:g}"
        )
        span = f"{window.start:%d %b} – {window.end:%d %b %Y}"
        return who, shown, f"{line} · window {rule.window_days}d ({span})"

    def _post_fire(self, row, rule, entity, value, today) -> str:
        who, shown, condition = self._describe(rule, entity, value, today)
        query = scope_query(rule, today)
        text, message = blocks.alert_message(
            f"{rule.metric.replace('_', ' ')} for {who} is {shown}",
            f"Condition: {condition}",
            f"Alert #{row.id} · it stays quiet until resolved (reminder after "
            f"{self.settings.alert_repeat_hours}h)",
            row.id,
            to_text(query),
        )
        posted = call_with_retry(
            self.client.chat_postMessage,
            channel=row.channel,
            text=text,
            blocks=message,
            **self.retry,
        )
        self._alert_chart(rule, query, row.channel, posted["ts"])
        return posted["ts"]

    def _alert_chart(self, rule: Rule, query, channel: str, ts: str) -> None:
        try:
            by = rule.each if rule.each else "week"
            result = answer(
                self.db, query.with_changes(by=(by,), top=15), queries.thresholds(self.settings)
            )
        except (QueryError, SQLAlchemyError):
            return
        self._chart_in_thread(result, channel, ts, "alert.png", "What the alert watches")

    def _post_reminder(self, row, rule, entity, value, ts, today) -> None:
        who, shown, condition = self._describe(rule, entity, value, today)
        call_with_retry(
            self.client.chat_postMessage,
            channel=row.channel,
            thread_ts=ts,
            text=f":bell: Still firing: {rule.metric} for {who} is {shown} "
            f"({condition.split(' · ')[0]})",
            **self.retry,
        )

    def _post_resolved(self, row, rule, entity, value, ts, today) -> None:
        who, shown, _ = self._describe(rule, entity, value, today)
        text = f":white_check_mark: Resolved: {rule.metric} for {who} is back to {shown}"
        call_with_retry(
            self.client.chat_postMessage, channel=row.channel, thread_ts=ts, text=text, **self.retry
        )
        try:
            self.client.chat_update(
                channel=row.channel,
                ts=ts,
                text=f"~Alert #{row.id}~ resolved",
                blocks=[
                    blocks._section(
                        f":white_check_mark: ~Alert #{row.id}~ resolved: {who} is back to {shown}"
                    )
                ],
            )
        except SlackApiError:
            log.warning("could not update alert message %s", ts, exc_info=True)

    def _disable_rule(self, row, code: str) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(models.alert_rules)
                .where(models.alert_rules.c.id == row.id)
                .values(active=False)
            )
        tell_admins(
            self.client,
            self.settings.admin_user_ids,
            f"roasbot disabled alert #{row.id} in <#{row.channel}>: Slack said `{code}`.",
        )


def _shown(rule: Rule, value: float | None, currency: str) -> str:
    if value is None:
        return "n/a"
    if rule.op in ("drop", "rise"):
        return f"{value:+.0f}%"
    if rule.metric in ("roas", "incremental_roas"):
        return ratio(value)
    if rule.metric == "engagement_rate":
        return percent(value)
    if rule.metric in ("revenue", "cost", "cpa"):
        return money(value, currency)
    return f"{value:,.0f}"
