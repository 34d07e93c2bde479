"""How long a small file takes to load into a big store, derived tables included.

    python -m benchmarks.small_load --reuse-schema NAME [--rounds 5] [--rows 200] [--touched-only]

A marketer drops a day's export of a few hundred rows into Slack; the store already holds a
year. Every load keeps the derived tables (docs/data.md#derived-tables) exact in its own
transaction, by recomputing only the influencers and days the file touches. This script times
that against the same loads with the derived tables rebuilt whole (what every load did before),
alternating the two paths round by round on one store so that both see the same machine:

- a tracking file of `--rows` new rows for 10 influencers over 3 days;
- a payouts file of 10 new payouts for the same influencers.

NAME is a schema a `python -m benchmarks.queries --keep` run left (a year of sample data,
1.08 M tracking rows). Each round adds its rows for good (new ids), a few hundred rows in a
million. Prints the median and minimum per path and the ratio. `--touched-only` skips the
whole rebuilds (several minutes each at 10 M rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import time
import uuid

from sqlalchemy import select

from benchmarks.queries import DEFAULT_PG, _sqlalchemy_url
from storage import derived, models
from storage.db import open_store
from storage.ingest import Origin, ingest_bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse-schema", required=True, metavar="NAME")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--touched-only", action="store_true", help="no whole rebuilds")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.reuse_schema):
        raise SystemExit(f"not a schema name: {args.reuse_schema!r}")
    db = open_store(_sqlalchemy_url(DEFAULT_PG, args.reuse_schema))
    with db.connect() as conn:
        inf = models.influencers.c.influencer_id
        who = list(conn.execute(select(inf).order_by(inf).limit(10)).scalars())
        last = conn.execute(select(models.tracking.c.date).order_by(
            models.tracking.c.date.desc()).limit(1)).scalar()  # fmt: skip
    if len(who) < 10 or last is None:
        raise SystemExit(f"schema {args.reuse_schema} holds no sample data")
    whole_rebuild_rows, times = derived.FULL_REBUILD_ROWS, {"touched": [], "whole": []}
    paths = ("touched",) if args.touched_only else ("touched", "whole")
    try:
        for _ in range(args.rounds):
            for path in paths:
                derived.FULL_REBUILD_ROWS = whole_rebuild_rows if path == "touched" else -1
                times[path].append(_round(db, who, last, args.rows))
    finally:
        derived.FULL_REBUILD_ROWS = whole_rebuild_rows
    print(f"{args.rounds} rounds of a {args.rows}-row tracking file and a 10-row payouts file")
    for path, label in (("touched", "touched partitions"), ("whole", "whole rebuild")):
        if times[path]:
            print(f"  {label:<20} median {statistics.median(times[path]):5.2f} s   "
                  f"min {min(times[path]):5.2f} s")  # fmt: skip
    if times["whole"]:
        ratio = statistics.median(times["touched"]) / statistics.median(times["whole"])
        print(f"  ratio touched / whole: {ratio:.2f}x")
    return 0


def _round(db, who: list[str], last: dt.date, rows: int) -> float:
    """Seconds to load one tracking file and one payouts file of new rows."""
    tag = uuid.uuid4().hex[:8]
    tracking = ["tracking_id,source,influencer_id,brand,product,date,orders,revenue,campaign"]
    tracking += [
        f"B{tag}-{i},influencer,{who[i % 10]},MuscleBlaze,Whey Protein,"
        f"{last - dt.timedelta(days=i % 3)},1,{1000 + i}.00,"
        for i in range(rows)
    ]
    payouts = ["payout_id,influencer_id,basis,total_payout,payout_date,brand,campaign"]
    payouts += [f"Y{tag}-{i},{who[i]},order,{500 + i},{last},," for i in range(10)]
    started = time.perf_counter()
    for name, lines in (("tracking_data.csv", tracking), ("payouts.csv", payouts)):
        data = ("\n".join(lines) + "\n").encode()
        result = ingest_bytes(db, data, name, Origin("cli", "benchmark"))
        if result.status != "loaded":
            raise SystemExit(f"{name}: {result.status}: {result.message}")
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
