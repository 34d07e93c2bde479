"""Claiming work exactly once across processes: the first INSERT of a key wins, for a lease.

Slack delivers a `file_share` event at least once (and again with X-Slack-Retry-Num when an
answer is slow); several bot processes may receive it. Whoever inserts the file id first loads
the file; everyone else sees the conflict and drops the event.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage import models


def _insert(dialect: str):
    return (postgresql if dialect == "postgresql" else sqlite).insert


def claim_slack_file(
    engine: Engine, file_id: str, channel: str, user: str | None, filename: str | None
) -> bool:
    """True for the one caller that claimed the file; False when someone already had."""
    table = models.slack_files
    statement = (
        _insert(engine.dialect.name)(table)
        .values(
            file_id=file_id,
            channel=channel,
            user_id=user,
            filename=(filename or "")[:500],
            status="claimed",
            claimed_at=dt.datetime.now(dt.UTC),
        )
        .on_conflict_do_nothing(index_elements=["file_id"])
    )
    with engine.begin() as conn:
        return conn.execute(statement).rowcount == 1


def finish_slack_file(
    engine: Engine, file_id: str, status: str, upload_id: int | None = None
) -> None:
    table = models.slack_files
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.file_id == file_id)
            .values(status=status, upload_id=upload_id, finished_at=dt.datetime.now(dt.UTC))
        )


def owner_id() -> str:
    """Who holds a claim: enough to find the process in logs."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def claim_run(
    engine: Engine,
    job: str,
    period: str,
    now: dt.datetime,
    lease: dt.timedelta = dt.timedelta(minutes=30),
    channel: str | None = None,
) -> bool:
    """Claim (job, period) for this process, for `lease`. True for exactly one claimant.

    The unique (job, period) key settles races between schedulers. A claim left `running` is
    taken over once its lease has lapsed: its owner died, or stopped renewing it (`renew_run`);
    a finished run is never repeated.
    """
    table = models.job_runs
    values = {
        "job": job,
        "period": period,
        "status": "running",
        "owner": owner_id(),
        "claimed_at": now,
        "lease_until": now + lease,
        "channel": channel,
    }
    insert = (
        _insert(engine.dialect.name)(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["job", "period"])
    )
    with engine.begin() as conn:
        if conn.execute(insert).rowcount == 1:
            return True
        takeover = (
            update(table)
            .where(
                table.c.job == job,
                table.c.period == period,
                table.c.status == "running",
                or_(
                    table.c.lease_until < now,
                    table.c.lease_until.is_(None) & (table.c.claimed_at < now - lease),
                ),
            )
            .values(owner=owner_id(), claimed_at=now, lease_until=now + lease)
        )
        return conn.execute(takeover).rowcount == 1


def renew_run(engine: Engine, job: str, period: str, until: dt.datetime) -> bool:
    """Extend this process's claim while it works; False when it is no longer this process's."""
    table = models.job_runs
    with engine.begin() as conn:
        done = conn.execute(
            update(table)
            .where(
                table.c.job == job,
                table.c.period == period,
                table.c.status == "running",
                table.c.owner == owner_id(),
            )
            .values(lease_until=until)
        )
        return done.rowcount == 1


def lapsed_runs(engine: Engine, prefix: str, now: dt.datetime) -> list[tuple[str, str]]:
    """(job, period) of runs left `running` whose lease has lapsed: their owners died."""
    table = models.job_runs
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.job, table.c.period).where(
                table.c.job.startswith(prefix),
                table.c.status == "running",
                table.c.lease_until < now,
            )
        )
        return [(r.job, r.period) for r in rows]


def finish_run(
    engine: Engine,
    job: str,
    period: str,
    status: str,
    now: dt.datetime,
    *,
    message_ts: str | None = None,
    value: float | None = None,
    error: str | None = None,
) -> None:
    table = models.job_runs
    with engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.job == job, table.c.period == period)
            .values(
                status=status,
                finished_at=now,
                message_ts=message_ts,
                value=value,
                error=(error or None) and error[:2000],
            )
        )
