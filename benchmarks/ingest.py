"""How fast, and in how much memory, a large tracking export loads, next to a plain COPY.

    python -m benchmarks.ingest [--rows-influencers 2000] [--days 365] [--keep]

The goals for the ingest of a big tracking_data.csv (issue 14): a first load within 4x of the
bare COPY (stretch: 3x), a re-load of the same rows, all unchanged, within 2x, under 400 MB peak
RSS at any size, and on SQLite a first load within 3x of `sqlite3 .import` of the same file.
This script measures exactly that on this machine and databases, every path in one run:

1. generates the sample data (2,000 influencers x 365 days is about 1.08 M tracking rows);
2. times `psql \\copy` of tracking_data.csv into a bare table with tracking's column types and no
   key, index or constraint: the floor the goal is stated against;
3. times the same `\\copy` into a table shaped like `tracking` (primary key, the secondary
   indexes, the foreign key to influencers): the floor for *this schema*, so the gap between
   the two tells schema cost from pipeline cost (skip it with --no-indexed-copy);
4. in a fresh PostgreSQL schema, loads influencers.csv, then times `ingest_files` on
   tracking_data.csv in a child process of its own, so that process's peak RSS (its VmHWM) is
   the load's alone and not this process's, which holds the generator's data frames;
5. times two more loads: the byte-identical file again (answered "already loaded" from its
   hash) and the same rows rewritten with ';' separators, which defeats the hash and makes the
   upsert compare every row and find it unchanged: the realistic "someone re-exported" case;
6. times `sqlite3 .import` of the file into a bare table with tracking's column types, then
   `ingest_files` on it into a fresh SQLite store (influencers loaded first), in a child too.

It prints a table, then exits 1 if a load did not do what it should (every row new on the first
load, "already loaded" on the second, every row unchanged on the third): figures of a load that
did not happen are meaningless. Missed goals do not fail it; the machine is noisy and the
figures are for docs/benchmarks.md. The schema and the temp files are removed unless --keep.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# A fixed end date keeps the generated files byte-identical from run to run.
END_DATE = dt.date(2025, 6, 30)
GOAL_FIRST_LOAD = 4.0  # x the bare COPY (stretch: 3x)
GOAL_STRETCH = 3.0
GOAL_RELOAD = 2.0  # the ';' re-load of unchanged rows, x the bare COPY
GOAL_SQLITE = 3.0  # the SQLite first load, x sqlite3 .import
GOAL_RSS_MB = 400.0


@dataclass
class Measured:
    """One timed path: what it did and what it cost."""

    path: str
    seconds: float
    peak_rss_mb: float | None  # None for psql: the client's memory is not what is compared
    detail: dict
    process_seconds: float | None = None  # child wall time including interpreter start-up


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark; the exit status says whether every load did its job."""
    args = _parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="roasbot-bench-"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_sqlalchemy_url(args.pg_url))
    try:
        tracking, influencers = _generate(workdir, args.rows_influencers, args.days)
        rows = _data_rows(tracking)
        size_mb = tracking.stat().st_size / 1048576
        print(f"tracking_data.csv: {rows:,} rows, {size_mb:.1f} MB ({workdir})")
        print(_machine(admin))
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = _sqlalchemy_url(args.pg_url, schema)
        _prepare(url, influencers)
        semicolon = _semicolon_copy(tracking, workdir / "tracking_data_semicolon.csv")

        results = [_copy_bare(admin, args.pg_url, schema, tracking)]
        if not args.no_indexed_copy:
            results.append(_copy_indexed(admin, args.pg_url, schema, tracking))
        results += [
            _ingest_in_child("ingest, first load", url, tracking),
            _ingest_in_child("ingest, same bytes again", url, tracking),
            _ingest_in_child("ingest, same rows as ';' CSV", url, semicolon),
        ]
        sqlite_url = f"sqlite:///{workdir / 'store.db'}"
        _prepare(sqlite_url, influencers)
        on_sqlite = [
            _sqlite_import(workdir / "import.db", tracking),
            _ingest_in_child("SQLite ingest, first load", sqlite_url, tracking),
        ]
        _print_table(results, rows)
        _print_table(on_sqlite, rows)
        problems = _check(results, rows) + _check_sqlite(on_sqlite, rows)
        _print_goals(results, on_sqlite)
        for problem in problems:
            print(f"FAILED: {problem}", file=sys.stderr)
        return 1 if problems else 0
    finally:
        if args.keep:
            print(f"kept: schema {schema}, files in {workdir}")
        else:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            shutil.rmtree(workdir, ignore_errors=True)
        admin.dispose()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ingest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows-influencers", type=int, default=2000, metavar="N")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--keep", action="store_true", help="keep the schema and the files")
    parser.add_argument(
        "--no-indexed-copy",
        action="store_true",
        help="skip the COPY into a tracking-shaped table (saves ~20 s)",
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG,
        help="libpq URL of the database (a schema of our own is made in it); env BENCH_PG_URL",
    )
    return parser.parse_args(argv)


def _sqlalchemy_url(pg_url: str, schema: str | None = None) -> str:
    """The libpq URL psql takes, as the SQLAlchemy URL `open_store` takes, scoped to `schema`."""
    url = make_url(pg_url).set(drivername="postgresql+psycopg2")
    if schema is not None:
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _generate(workdir: Path, influencers: int, days: int) -> tuple[Path, Path]:
    from sample_data.generator import generate

    started = time.perf_counter()
    paths = generate(workdir, influencers=influencers, days=days, end_date=END_DATE)
    print(f"generated in {time.perf_counter() - started:.1f} s")
    return paths["tracking_data"], paths["influencers"]


def _data_rows(path: Path) -> int:
    """Data rows of a CSV without quoted newlines (the generator writes none): lines - header."""
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n") - 1


def _machine(admin: Engine) -> str:
    with admin.connect() as conn:
        server = conn.exec_driver_sql("SHOW server_version").scalar_one()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"machine: {os.cpu_count()} cores, {memory_gb:.0f} GB RAM, "
        f"Python {platform.python_version()}, PostgreSQL {server}"
    )


def _options():
    from storage.ingest import Options

    return Options(max_upload_mb=4096)


def _prepare(url: str, influencers: Path) -> None:
    """Migrate the fresh schema and load the influencers the tracking rows refer to."""
    from storage.db import open_store
    from storage.ingest import Origin, Upload, ingest_files

    engine = open_store(url)
    try:
        result = ingest_files(
            engine, [Upload.from_path(influencers)], Origin("cli", "bench"), _options()
        )
        if result.files[0].status != "loaded":
            raise SystemExit(f"influencers did not load: {result.files[0].message}")
    finally:
        engine.dispose()


def _semicolon_copy(source: Path, target: Path) -> Path:
    """The same rows with ';' separators: new bytes (so a new hash), same typed values."""
    with (
        source.open(newline="", encoding="utf-8") as fin,
        target.open("w", newline="", encoding="utf-8") as fout,
    ):
        csv.writer(fout, delimiter=";", lineterminator="\n").writerows(csv.reader(fin))
    return target


# --- the COPY baselines ---------------------------------------------------------------------


def _column_ddl(path: Path, dialect: Dialect | None = None) -> list[str]:
    """The CSV's columns with the types `tracking` gives them, so COPY parses what we parse."""
    from storage import models

    with path.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    dialect = dialect or postgresql.dialect()
    return [f'"{name}" {models.tracking.c[name].type.compile(dialect=dialect)}' for name in header]


def _copy_bare(admin: Engine, pg_url: str, schema: str, path: Path) -> Measured:
    """COPY into a table with no key, index or constraint: the cost of moving the bytes."""
    table = f'"{schema}".copy_bare'
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} ({', '.join(_column_ddl(path))})")
    measured = _psql_copy("plain COPY, bare table", pg_url, table, path)
    _drop(admin, table)
    return measured


def _copy_indexed(admin: Engine, pg_url: str, schema: str, path: Path) -> Measured:
    """COPY into a table with tracking's key, indexes and foreign key: this schema's floor.

    row_key is generated as 'id:' || tracking_id, what the ingest computes for a row with an id
    (every generated row has one), so the primary key index sees the same keys.
    """
    from storage import models

    t, table = models.tracking, f'"{schema}".copy_indexed'
    key_type = t.c.row_key.type.compile(dialect=postgresql.dialect())
    ddl = [
        *_column_ddl(path),
        f"row_key {key_type} GENERATED ALWAYS AS ('id:' || tracking_id) STORED PRIMARY KEY",
    ]
    ddl += [
        f'FOREIGN KEY ("{fk.parent.name}") '
        f'REFERENCES "{schema}"."{fk.column.table.name}" ("{fk.column.name}")'
        for fk in t.foreign_keys
    ]
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} ({', '.join(ddl)})")
        for index in t.indexes:
            columns = ", ".join(f'"{c.name}"' for c in index.columns)
            conn.exec_driver_sql(f"CREATE INDEX ON {table} ({columns})")
    measured = _psql_copy("plain COPY, tracking-shaped", pg_url, table, path)
    _drop(admin, table)
    return measured


def _psql_copy(label: str, pg_url: str, table: str, path: Path) -> Measured:
    quoted = str(path).replace("'", "''")
    copy = f"\\copy {table} FROM '{quoted}' WITH (FORMAT csv, HEADER true)"
    seconds, out = _run(["psql", "-X", "-v", "ON_ERROR_STOP=1", pg_url, "-c", copy])
    copied = int(out.split()[-1])  # psql's "COPY <rows>" command tag
    return Measured(label, seconds, None, {"copied": copied})


def _sqlite_import(db: Path, path: Path) -> Measured:
    """`sqlite3 .import` into a bare table with tracking's column types: SQLite's floor."""
    columns = ", ".join(_column_ddl(path, sqlite.dialect()))
    _run(["sqlite3", str(db), f"CREATE TABLE copy_bare ({columns})"])
    quoted = str(path).replace("'", "''")
    seconds, _ = _run(["sqlite3", str(db), f".import --csv --skip 1 '{quoted}' copy_bare"])
    _, out = _run(["sqlite3", str(db), "SELECT count(*) FROM copy_bare"])
    return Measured("sqlite3 .import, bare table", seconds, None, {"copied": int(out)})


def _drop(admin: Engine, table: str) -> None:
    """Drop a baseline table so the ingest runs against a database in the same state."""
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {table}")


def _run(command: list[str]) -> tuple[float, str]:
    """Run a command to completion; its wall time and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr}")
    return seconds, done.stdout


# --- our ingest, in a child process ---------------------------------------------------------


def _ingest_in_child(label: str, url: str, path: Path) -> Measured:
    """Time one `ingest_files` call in a fresh interpreter, and that process's peak RSS.

    The peak is the child's own VmHWM. Not `ru_maxrss` of the child: Linux carries the forking
    parent's high-water mark over into it at exec, so it would report this process's memory
    (the generator's data frames, ~450 MB) instead of the load's.
    """
    code = "import sys; from benchmarks.ingest import child; child(sys.argv[1], sys.argv[2])"
    process_seconds, stdout = _run([sys.executable, "-c", code, url, str(path)])
    detail = json.loads(stdout.strip().splitlines()[-1])
    return Measured(label, detail["seconds"], detail["hwm_mb"], detail, process_seconds)


def child(url: str, path: str) -> None:
    """The child side: load one file, print what happened as one JSON line.

    The engine is opened (and its first connection made) before the clock starts, so the time
    is the ingest's own, as a long-running bot would see it.
    """
    from storage.db import open_store
    from storage.ingest import Origin, Upload, ingest_files

    engine = open_store(url)
    rss_before = _proc_status_mb("VmRSS")
    started = time.perf_counter()
    result = ingest_files(engine, [Upload.from_path(path)], Origin("cli", "bench"), _options())
    seconds = time.perf_counter() - started
    f = result.files[0]
    detail = {
        "seconds": seconds,
        "status": f.status,
        "message": f.message,
        "rss_before_mb": rss_before,
        "hwm_mb": _proc_status_mb("VmHWM"),
        **{n: f.total(n) for n in ("rows_seen", "inserted", "updated", "unchanged", "rejected")},
    }
    engine.dispose()
    print(json.dumps(detail))


def _proc_status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- reporting ------------------------------------------------------------------------------


def _print_table(results: list[Measured], rows: int) -> None:
    """The paths with their ratio to the first, the baseline (COPY, or .import on SQLite)."""
    copy_seconds = results[0].seconds
    print()
    print(f"{'path':<30} {'seconds':>8} {'rows/s':>10} {'peak RSS':>9} {'x base':>7}  outcome")
    for r in results:
        rss = f"{r.peak_rss_mb:.0f} MB" if r.peak_rss_mb is not None else "-"
        print(
            f"{r.path:<30} {r.seconds:>8.2f} {rows / r.seconds:>10,.0f} {rss:>9} "
            f"{r.seconds / copy_seconds:>6.2f}x  {_outcome(r)}"
        )
    for r in results:
        if r.process_seconds is not None:
            print(
                f"  {r.path}: child process {r.process_seconds:.2f} s in all, "
                f"RSS {r.detail['rss_before_mb']:.0f} MB before the load (imports)"
            )


def _outcome(r: Measured) -> str:
    d = r.detail
    if "copied" in d:
        return f"{d['copied']:,} copied"
    if d["status"] == "already_loaded":
        return "already loaded"
    return (
        f"{d['status']}: {d['inserted']:,} new, {d['updated']:,} updated, "
        f"{d['unchanged']:,} unchanged, {d['rejected']:,} rejected"
    )


def _by_path(results: list[Measured]) -> dict[str, Measured]:
    return {r.path: r for r in results}


def _check(results: list[Measured], rows: int) -> list[str]:
    problems = [
        f"{r.path} copied {r.detail['copied']:,} of {rows:,} rows"
        for r in results
        if "copied" in r.detail and r.detail["copied"] != rows
    ]
    by = _by_path(results)
    d = by["ingest, first load"].detail
    if d["status"] != "loaded" or d["inserted"] != rows or d["rejected"]:
        problems.append(f"first load did not load every row: {d['message']}")
    d = by["ingest, same bytes again"].detail
    if d["status"] != "already_loaded":
        problems.append(f"second load was not 'already loaded': {d['message']}")
    d = by["ingest, same rows as ';' CSV"].detail
    if d["status"] != "loaded" or d["unchanged"] != rows:
        problems.append(f"';' reload did not find every row unchanged: {d['message']}")
    return problems


def _check_sqlite(results: list[Measured], rows: int) -> list[str]:
    imported, first = results[0].detail, results[1].detail
    problems = [] if imported["copied"] == rows else [f".import copied {imported['copied']:,}"]
    if first["status"] != "loaded" or first["inserted"] != rows or first["rejected"]:
        problems.append(f"SQLite first load did not load every row: {first['message']}")
    return problems


def _print_goals(results: list[Measured], on_sqlite: list[Measured]) -> None:
    by = _by_path(results)
    copy, first = results[0], by["ingest, first load"]
    ratio = first.seconds / copy.seconds
    reload = by["ingest, same rows as ';' CSV"].seconds / copy.seconds
    on_sqlite_ratio = on_sqlite[1].seconds / on_sqlite[0].seconds
    rss = max(r.peak_rss_mb or 0.0 for r in results + on_sqlite)
    print()
    print(
        f"goal: first load within {GOAL_FIRST_LOAD:g}x of the bare COPY "
        f"(stretch {GOAL_STRETCH:g}x): {ratio:.2f}x -> {_met(ratio <= GOAL_FIRST_LOAD)}"
    )
    print(
        f"goal: re-load of unchanged rows within {GOAL_RELOAD:g}x: {reload:.2f}x -> "
        f"{_met(reload <= GOAL_RELOAD)}"
    )
    print(
        f"goal: SQLite first load within {GOAL_SQLITE:g}x of sqlite3 .import: "
        f"{on_sqlite_ratio:.2f}x -> {_met(on_sqlite_ratio <= GOAL_SQLITE)}"
    )
    print(f"goal: under {GOAL_RSS_MB:.0f} MB peak RSS: {rss:.0f} MB -> {_met(rss < GOAL_RSS_MB)}")
    indexed = by.get("plain COPY, tracking-shaped")
    if indexed is not None:
        ratio = first.seconds / indexed.seconds
        print(f"(for reference: first load vs COPY into a tracking-shaped table: {ratio:.2f}x)")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
