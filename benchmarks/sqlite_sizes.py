"""How fast the Slack commands answer on a SQLite store, to say up to what size it is comfortable.

    python -m benchmarks.sqlite_sizes [--influencers 2000 --days 365] [--db FILE] [--repeat 3]

SQLite is the embedded default for trying roasbot: no server, one file. It reads the same
derived tables as PostgreSQL, but runs every statement on one core without parallel scans or
hash joins of PostgreSQL's kind. This generates the sample data of the size given, loads it into
a SQLite file (or reuses `--db FILE` if it already holds data), and times each command of
`benchmarks.queries` end to end (one warm-up, median and min of `--repeat` runs). No hand-written
baseline: psql cannot run against SQLite, and the figures are only compared with PostgreSQL's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.queries import COMMANDS, DAYS, END_DATE, INFLUENCERS, SEED, _ours, _timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sqlite_sizes")
    parser.add_argument("--influencers", type=int, default=INFLUENCERS, metavar="N")
    parser.add_argument("--days", type=int, default=DAYS, metavar="N")
    parser.add_argument("--db", type=Path, metavar="FILE", help="SQLite file (kept; reused)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N")
    args = parser.parse_args(argv)
    from storage.db import open_store

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "roasbot.db"
        engine = open_store(f"sqlite:///{path}")
        with engine.connect() as conn:
            rows, last = conn.exec_driver_sql("SELECT count(*), max(date) FROM tracking").one()
        if not rows:
            _load(engine, args.influencers, args.days, Path(tmp))
            with engine.connect() as conn:
                rows, last = conn.exec_driver_sql("SELECT count(*), max(date) FROM tracking").one()
        today = dt.date.fromisoformat(str(last)[:10]) + dt.timedelta(days=1)
        print(f"SQLite {path}: {rows:,} tracking rows; today = {today}")
        for command in COMMANDS:
            run = _ours(engine, command.text, today)
            run()
            times = _timed(run, args.repeat)
            print(f"  {command.text:<36} median {statistics.median(times):7.0f} ms   "
                  f"min {min(times):7.0f} ms")  # fmt: skip
        engine.dispose()
    return 0


def _load(engine, influencers: int, days: int, workdir: Path) -> None:
    from sample_data.generator import generate
    from storage.ingest import Options, Upload, ingest_files

    paths = generate(workdir, influencers=influencers, days=days, end_date=END_DATE, seed=SEED)
    started = time.perf_counter()
    result = ingest_files(
        engine,
        [Upload.from_path(p) for p in paths.values()],
        options=Options(max_upload_mb=1 << 16),
    )
    if not result.ok:
        raise SystemExit(f"load failed: {[f.message for f in result.files]}")
    print(
        f"loaded {influencers:,} influencers x {days} days in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
