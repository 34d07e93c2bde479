"""Two `roasbot scheduler` processes on one PostgreSQL, the first killed with SIGKILL before or
after its digest's post: every case ends with exactly one digest in the channel.

The first process starts with a digest due (its catch-up runs it at once); the stand-in holds
one of its Slack calls long enough to kill it there. The second starts a few seconds later,
once the first one's lease (SCHEDULER_LEASE_SECONDS=3) has lapsed, and finishes the run.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from sample_data.generator import generate
from storage import models
from storage.db import open_store
from storage.ingest import Upload, ingest_files
from tests.slack_standin import SlackStandIn
from tests.test_slack_e2e import bot_environment

CHANNEL = "CSCHED"


def _scheduler(url: str, api_url: str) -> subprocess.Popen:
    env = bot_environment(url, api_url, SCHEDULER_LEASE_SECONDS="3", TIMEZONE="UTC")
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"sched-{time.time_ns()}.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "scheduler"], env=env, stdout=log, stderr=log
    )


def _due_store(url: str, tmp_path: Path):
    """Last week's data and a subscription whose time passed two minutes ago (UTC)."""
    db = open_store(url)
    today = dt.datetime.now(dt.UTC).date()
    paths = generate(tmp_path, influencers=12, days=21, end_date=today - dt.timedelta(days=1))
    assert ingest_files(db, [Upload.from_path(p) for p in paths.values()]).ok
    due = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    with db.begin() as conn:
        conn.execute(
            insert(models.digest_subscriptions).values(
                channel=CHANNEL, day=due.strftime("%a").lower(), time=due.strftime("%H:%M"),
                timezone="UTC", filters="", created_by="U1", created_at=due, active=True,
            )
        )  # fmt: skip
    return db


def _digests(slack: SlackStandIn) -> list:
    return [
        c for c in slack.calls("chat.postMessage")
        if c.params.get("channel") == CHANNEL and c.response.get("ok")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("held", "when"),
    [
        ("conversations.history", "before its post"),
        ("files.getUploadURLExternal", "after its post, during the chart's upload"),
    ],
)
def test_a_scheduler_killed_mid_digest_leaves_exactly_one_digest(pg_url, tmp_path, held, when):
    db = _due_store(pg_url, tmp_path)
    with SlackStandIn(bot_token="xoxb-test-token") as slack:
        slack.delay(held, 30.0)
        first = _scheduler(pg_url, slack.api_url)
        deadline = time.monotonic() + 60
        while not slack.holding(held) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slack.holding(held), f"the first scheduler never reached {held}"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        time.sleep(4)  # its lease (3 s) lapses
        second = _scheduler(pg_url, slack.api_url)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not _finished(db):
                time.sleep(0.2)
            assert _finished(db), when
            time.sleep(1)
            assert len(_digests(slack)) == 1, when
        finally:
            second.terminate()
            second.wait(10)
    db.dispose()


def _finished(db) -> bool:
    with db.connect() as conn:
        runs = list(
            conn.execute(select(models.job_runs).where(models.job_runs.c.job.like("digest:%")))
        )
    return bool(runs) and all(r.status == "done" for r in runs)
