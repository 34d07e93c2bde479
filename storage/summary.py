"""A short description of what the store holds, for `roasbot status` and the health check.

Row counts come from the derived tables (storage.derived), which ingest keeps equal to the data:
`tracking_totals` counts the tracking rows of each sales group, `influencer_totals` each
influencer's posts, `daily_sales` holds every day and brand of tracking. Counting tracking
itself took 2 s at 10.9 M rows, for `roasbot status` and `roasbot run`'s empty-store check;
these read a few thousand rows, and first/last dates come from the date indexes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select

from storage import models


@dataclass
class DatasetSummary:
    name: str
    rows: int
    first: dt.date | None = None
    last: dt.date | None = None


@dataclass
class UploadSummary:
    id: int
    filename: str
    status: str
    rows_seen: int
    rows_rejected: int
    started_at: dt.datetime
    message: str | None


@dataclass
class StoreSummary:
    datasets: list[DatasetSummary]
    attributed_rows: int
    brands: list[str]
    uploads: list[UploadSummary]

    @property
    def is_empty(self) -> bool:
        return all(d.rows == 0 for d in self.datasets)


def summarise(engine: Engine, recent_uploads: int = 5) -> StoreSummary:
    t, p, pay, inf, up = (
        models.tracking,
        models.posts,
        models.payouts,
        models.influencers,
        models.uploads,
    )
    totals, people, daily = models.tracking_totals, models.influencer_totals, models.daily_sales
    with engine.connect() as conn:

        def dataset(name: str, rows, date_col=None) -> DatasetSummary:
            span = [func.min(date_col), func.max(date_col)] if date_col is not None else []
            count = conn.execute(select(func.coalesce(rows, 0))).scalar_one()
            first, last = conn.execute(select(*span)).one() if span else (None, None)
            return DatasetSummary(name, int(count), first, last)

        def count(table):
            return select(func.count()).select_from(table).scalar_subquery()

        def total(column, *where):
            return select(func.sum(column)).where(*where).scalar_subquery()

        datasets = [
            dataset("influencers", count(inf)),
            dataset("posts", total(people.c.posts), p.c.date),
            dataset("tracking_data", total(totals.c.row_count), t.c.date),
            dataset("payouts", count(pay), pay.c.payout_date),
        ]
        attributed = conn.execute(
            select(func.coalesce(total(totals.c.row_count, totals.c.influencer_id.is_not(None)), 0))
        ).scalar_one()
        brands = list(
            conn.execute(select(daily.c.brand).distinct().order_by(daily.c.brand)).scalars()
        )
        uploads = [
            UploadSummary(*row)
            for row in conn.execute(
                select(
                    up.c.id,
                    up.c.filename,
                    up.c.status,
                    up.c.rows_seen,
                    up.c.rows_rejected,
                    up.c.started_at,
                    up.c.message,
                )
                .order_by(up.c.id.desc())
                .limit(recent_uploads)
            )
        ]
    return StoreSummary(datasets, int(attributed), brands, uploads)


def data_version(bind: Engine | Connection) -> int:
    """A number that changes whenever the data may have: the newest upload's id.

    Every load writes its uploads row in the transaction that writes its rows, so a reader that
    sees a version also sees that load's data. Rows written around `ingest` (by hand in SQL) do
    not change it; `roasbot` itself never writes data any other way.
    """
    newest = select(func.coalesce(func.max(models.uploads.c.id), 0))
    if isinstance(bind, Connection):
        return int(bind.execute(newest).scalar_one())
    with bind.connect() as conn:
        return int(conn.execute(newest).scalar_one())
