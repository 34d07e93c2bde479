"""APScheduler wiring: jobs defined from what the store holds (subscriptions, alert rules).

Every job has an explicit id, a time-zone-aware CronTrigger, `coalesce=True` (a backlog of missed
runs is one run) and a misfire grace of hours, not APScheduler's one second. The memory job store
forgets runs missed while no process was up, so `start()` first does a catch-up pass; `job_runs`
claims keep all of it exactly once across processes (see bot/notifications.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.notifications import Notifications, Subscription
from bot.settings import Settings

log = logging.getLogger(__name__)
RESYNC_SECONDS = 60


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest_trigger(sub: Subscription) -> CronTrigger:
    hour, minute = (int(x) for x in sub.time.split(":"))
    return CronTrigger(
        day_of_week=sub.day, hour=hour, minute=minute, timezone=ZoneInfo(sub.timezone)
    )


class Scheduler:
    """The BackgroundScheduler next to the Slack app (or alone: `roasbot scheduler`)."""

    def __init__(self, settings: Settings, work: Notifications) -> None:
        self.settings, self.work = settings, work
        self.grace = dt.timedelta(hours=settings.misfire_grace_hours)
        self.scheduler = BackgroundScheduler(
            timezone=ZoneInfo(settings.timezone),
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.grace.total_seconds()),
            },
        )

    def start(self) -> None:
        self.work.ensure_default_rule()
        for line in self.work.catch_up(now_utc(), self.grace):
            log.warning("catch-up digest %s", line)
        self.sync()
        self.scheduler.add_job(
            self._evaluate,
            CronTrigger.from_crontab(
                self.settings.alert_check_cron, timezone=ZoneInfo(self.settings.timezone)
            ),
            id="alerts",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.minutely, IntervalTrigger(seconds=RESYNC_SECONDS), id="resync",
            replace_existing=True,
        )  # fmt: skip
        self.scheduler.start()

    def sync(self) -> None:
        """Make the digest jobs match the stored subscriptions (another process may edit them)."""
        wanted = {f"digest:{s.channel}": s for s in self.work.subscriptions()}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:") and job.id not in wanted:
                job.remove()
        for job_id, sub in wanted.items():
            existing = self.scheduler.get_job(job_id)
            trigger = digest_trigger(sub)
            if existing is None or str(existing.trigger) != str(trigger):
                self.scheduler.add_job(
                    self._digest, trigger, id=job_id, args=[sub.channel], replace_existing=True
                )

    def minutely(self) -> None:
        """Follow the stored subscriptions, finish digests whose scheduler died mid-run, and
        post the alert messages Slack refused before."""
        self.sync()
        for line in self.work.resume_lapsed(now_utc()):
            log.warning("took over digest %s", line)
        sent = self.work.deliver_owed(now_utc())
        if sent:
            log.warning("delivered %s alert message(s) owed since Slack failed", sent)

    def _digest(self, channel: str) -> None:
        for sub in self.work.subscriptions(channel):
            log.warning("digest %s: %s", channel, self.work.run_digest(sub, now_utc()))

    def _evaluate(self) -> None:
        for line in self.work.evaluate_alerts(now_utc()):
            log.info("alert %s", line)

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)
