"""Would PostgreSQL's declarative partitioning of `tracking` by month help? Measured, not assumed.

    python -m benchmarks.partitioning --reuse-schema NAME [--repeat 5]

NAME is a schema a `benchmarks.queries --keep` run left. The script copies its `tracking` into
`tracking_by_month` (PARTITION BY RANGE (date), one partition per month, the same secondary
indexes), then times on both tables, side by side, what still reads tracking rows:

- edge days: the 6 days before a window's first Monday, attributed rows per sales group (a
  brand-filtered answer reads them; other answers read `influencer_days`);
- months: the last three whole months per month and sales group (`by=month`);
- a load's refresh: every row of 10 influencers (what ingest recomputes after a small load);
- a 200-row insert, rolled back.

It also tries the primary key ingest relies on (`ON CONFLICT (row_key)`) on the partitioned
copy. The copy is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import time

from sqlalchemy import (
    Column,
    Connection,
    Executable,
    MetaData,
    Table,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from benchmarks.queries import DEFAULT_PG, _sqlalchemy_url
from storage import models
from storage.db import create_store_engine
from storage.sqlkeys import month_start

COPY = "tracking_by_month"
INDEXED = ("date", "brand", "influencer_id", "campaign", "product")
_t = models.tracking
_copy = Table(COPY, MetaData(), *(Column(c.name, c.type) for c in _t.columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.partitioning")
    parser.add_argument("--reuse-schema", required=True, metavar="NAME")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.reuse_schema):
        raise SystemExit(f"not a schema name: {args.reuse_schema!r}")
    engine = create_store_engine(_sqlalchemy_url(DEFAULT_PG, args.reuse_schema))
    try:
        with engine.begin() as conn:
            first, last = conn.execute(text("SELECT min(date), max(date) FROM tracking")).one()
            started = time.perf_counter()
            _partitioned_copy(conn, first, last)
            print(f"partitioned copy made in {time.perf_counter() - started:.0f} s")
        with engine.connect() as conn:
            _compare(conn, last, args.repeat)
            _primary_key(conn)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {COPY}"))
        engine.dispose()
    return 0


def _partitioned_copy(conn: Connection, first: dt.date, last: dt.date) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {COPY}"))
    conn.execute(
        text(f"CREATE TABLE {COPY} (LIKE tracking INCLUDING DEFAULTS) PARTITION BY RANGE (date)")
    )
    month = first.replace(day=1)
    while month <= last:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        conn.execute(
            text(
                f"CREATE TABLE {COPY}_{month:%Y%m} PARTITION OF {COPY} "
                f"FOR VALUES FROM ('{month}') TO ('{following}')"
            )
        )
        month = following
    conn.execute(insert(_copy).from_select(list(_t.c.keys()), select(_t)))
    for column in INDEXED:
        conn.execute(text(f"CREATE INDEX ON {COPY} ({column})"))
    conn.execute(text(f"ANALYZE {COPY}"))


def _compare(conn: Connection, last: dt.date, repeat: int) -> None:
    who = list(conn.execute(select(models.influencers.c.influencer_id).limit(10)).scalars())
    print(f"{'statement':<24} {'tracking ms (med/min)':>22} {'by month ms (med/min)':>22}  ratio")
    for name, plain_sql in _statements(_t, last, who).items():
        plain = _timed(conn, plain_sql, repeat)
        parted = _timed(conn, _statements(_copy, last, who)[name], repeat)
        ratio = statistics.median(parted) / statistics.median(plain)
        print(f"{name:<24} {_med_min(plain):>22} {_med_min(parted):>22}  {ratio:.2f}x")


def _statements(t: Table, last: dt.date, who: list[str]) -> dict[str, Executable]:
    monday = last - dt.timedelta(days=last.weekday() + 28)  # a window's first Monday
    month_end = last.replace(day=1) - dt.timedelta(days=1)
    months_start = (month_end - dt.timedelta(days=85)).replace(day=1)
    group = [t.c.influencer_id, t.c.brand, t.c.product, t.c.campaign]
    sums = [func.sum(t.c.orders), func.sum(t.c.revenue)]
    month = month_start(t.c.date, "postgresql")
    attributed = t.c.influencer_id.is_not(None)
    new_rows = select(
        literal("part-test-") + t.c.row_key, *(c for c in t.columns if c.name != "row_key")
    ).where(t.c.date == last)
    return {
        "edge days (6)": select(*group, *sums)
        .where(attributed, t.c.date >= monday - dt.timedelta(days=6), t.c.date < monday)
        .group_by(*group),
        "3 whole months": select(month, *group, *sums)
        .where(attributed, t.c.date >= months_start, t.c.date <= month_end)
        .group_by(month, *group),
        "10 influencers' rows": select(t).where(t.c.influencer_id.in_(who)),
        "200-row insert": insert(t).from_select(list(_t.c.keys()), new_rows.limit(200)),
    }


def _timed(conn: Connection, statement: Executable, repeat: int) -> list[float]:
    """Milliseconds per run after one warm-up run; every run is rolled back."""
    times = []
    conn.execute(statement)
    conn.rollback()
    for _ in range(repeat):
        started = time.perf_counter()
        result = conn.execute(statement)
        if result.returns_rows:
            result.fetchall()
        times.append((time.perf_counter() - started) * 1000)
        conn.rollback()
    return times


def _primary_key(conn: Connection) -> None:
    try:
        conn.execute(text(f"ALTER TABLE {COPY} ADD PRIMARY KEY (row_key)"))
        print("primary key (row_key) on the partitioned copy: accepted")
    except DBAPIError as exc:
        print(f"primary key (row_key) on the partitioned copy: {exc.orig}".strip())
    conn.rollback()


def _med_min(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} / {min(values):.0f}"


if __name__ == "__main__":
    raise SystemExit(main())
