"""Claiming work exactly once across processes: the first INSERT of a key wins.

Slack delivers a `file_share` event at least once (and again with X-Slack-Retry-Num when an
answer is slow); several bot processes may receive it. Whoever inserts the file id first loads
the file; everyone else sees the conflict and drops the event.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, update
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
